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
    /// The order's terms as the broker holds them, for an order the gateway may not know (placed by hand
    /// or by another program): reconciliation adopts it from these.
    public var terms: BrokerOrderTerms?

    public init(
        orderID: OrderID, brokerOrderID: String?, status: OrderStatus, filledQty: Quantity, fills: [BrokerFill],
        reason: String? = nil, terms: BrokerOrderTerms? = nil
    ) {
        self.terms = terms
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

/// An order's terms as the broker holds them.
public struct BrokerOrderTerms: Sendable, Hashable {
    /// The broker's client order id (whoever chose it).
    public var clientOrderID: String
    public var symbol: Symbol
    public var side: OrderSide
    public var qty: Quantity
    public var type: OrderType
    public var limitPrice: Price?
    public var stopPrice: Price?
    public var tif: TimeInForce
    public var avgFillPrice: Price?

    public init(
        clientOrderID: String, symbol: Symbol, side: OrderSide, qty: Quantity, type: OrderType,
        limitPrice: Price? = nil, stopPrice: Price? = nil, tif: TimeInForce, avgFillPrice: Price? = nil
    ) {
        self.clientOrderID = clientOrderID
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.type = type
        self.limitPrice = limitPrice
        self.stopPrice = stopPrice
        self.tif = tif
        self.avgFillPrice = avgFillPrice
    }

    /// The terms of an order the broker holds as the gateway sent it.
    public init(_ order: Order) {
        self.init(order.sharedTerms)
        avgFillPrice = order.avgFillPrice
    }

    /// The terms of an order the broker holds as the gateway sent it, before any fill.
    public init(_ order: Order.SharedTerms) {
        self.init(
            clientOrderID: order.orderID.rawValue, symbol: order.symbol, side: order.side, qty: order.qty,
            type: order.type, limitPrice: order.limitPrice, stopPrice: order.stopPrice, tif: order.tif)
    }
}

/// What a broker holds, taken for a reconciliation and handed over on `events` after every event the
/// adapter emitted before it (so the engine compares it with a journal that has taken those in).
public struct BrokerSnapshot: Sendable, Hashable {
    /// The tag `reconcile(tag:)` was called with.
    public var tag: UInt64
    /// Fills the adapter found it had not reported (a frame the stream dropped, an outage) and reported
    /// as `.fill` events just before this snapshot: the engine journals each difference.
    public var missedFills: [BrokerFill]
    /// The broker's working orders.
    public var openOrders: [BrokerOrderReport]
    /// The broker's positions; `nil` when this broker reports none to compare with.
    public var positions: [BrokerPositionReport]?
    /// `false` when a fill arrived while the snapshot was being taken: its positions may be out of step
    /// with its orders, and the engine does not compare them this time.
    public var consistent: Bool

    public init(
        tag: UInt64, missedFills: [BrokerFill] = [], openOrders: [BrokerOrderReport],
        positions: [BrokerPositionReport]?, consistent: Bool = true
    ) {
        self.tag = tag
        self.missedFills = missedFills
        self.openOrders = openOrders
        self.positions = positions
        self.consistent = consistent
    }
}
