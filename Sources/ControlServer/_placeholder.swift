enum _PlaceholderControlServer {}
