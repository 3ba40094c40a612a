enum _PlaceholderBrokerPaper {}
