/// One account's line in `status`: its broker, connection and trading state, and its order counts.
public struct AccountStatus: Sendable, Hashable, Codable {
    public var account: AccountID
    public var broker: String
    public var connection: String
    public var tradingState: String
    public var openOrders: Int
    /// Orders whose outcome is not known yet (being settled with the broker).
    public var unknownOrders: Int

    enum CodingKeys: String, CodingKey {
        case account, broker, connection, tradingState = "trading_state", openOrders = "open_orders"
        case unknownOrders = "unknown_orders"
    }

    public init(
        account: AccountID, broker: String, connection: String, tradingState: String, openOrders: Int,
        unknownOrders: Int
    ) {
        self.account = account
        self.broker = broker
        self.connection = connection
        self.tradingState = tradingState
        self.openOrders = openOrders
        self.unknownOrders = unknownOrders
    }
}
