public import GatewayCore

/// What the broker knows of one order, for settling unknown outcomes and reconciliation.
public struct BrokerOrderReport: Sendable, Hashable {
    public var orderID: OrderID
    public var brokerOrderID: String?
    /// The broker's status in the gateway's terms: acknowledged, partially filled, filled, canceled,
    /// expired or rejected.
    public var status: OrderStatus
    public var filledQty: Quantity
    public var fills: [BrokerFill]
    public var reason: String?

    public init(
        orderID: OrderID, brokerOrderID: String?, status: OrderStatus, filledQty: Quantity, fills: [BrokerFill],
        reason: String? = nil
    ) {
        self.orderID = orderID
        self.brokerOrderID = brokerOrderID
        self.status = status
        self.filledQty = filledQty
        self.fills = fills
        self.reason = reason
    }
}

/// A position as the broker reports it.
public struct BrokerPositionReport: Sendable, Hashable {
    public var symbol: Symbol
    public var qty: Quantity
    public var avgPrice: Price?

    public init(symbol: Symbol, qty: Quantity, avgPrice: Price?) {
        self.symbol = symbol
        self.qty = qty
        self.avgPrice = avgPrice
    }
}

/// An account's figures as the broker reports them.
public struct BrokerAccountReport: Sendable, Hashable {
    public var currency: String
    public var cash: Money
    public var equity: Money
    public var buyingPower: Money

    public init(currency: String, cash: Money, equity: Money, buyingPower: Money) {
        self.currency = currency
        self.cash = cash
        self.equity = equity
        self.buyingPower = buyingPower
    }
}
