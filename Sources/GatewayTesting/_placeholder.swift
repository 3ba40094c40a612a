enum _PlaceholderGatewayTesting {}
