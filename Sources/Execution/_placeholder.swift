enum _PlaceholderExecution {}
