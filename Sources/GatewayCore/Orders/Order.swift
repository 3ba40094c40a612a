/// One order as the gateway knows it. Journaled whole on every change and sent whole in `order` events,
/// so its coding keys are the protocol's names (PROTOCOL.md "An order").
public struct Order: Sendable, Hashable, Codable {
    public var orderID: OrderID
    public var clientOrderID: ClientOrderID
    public var account: AccountID
    public var symbol: Symbol
    public var side: OrderSide
    public var qty: Quantity
    public var type: OrderType
    public var limitPrice: Price?
    public var stopPrice: Price?
    public var trailPrice: Price?
    public var trailPercent: Price?
    public var tif: TimeInForce
    public var strategy: String?
    public var tags: [String]?
    public var status: OrderStatus
    public var filledQty: Quantity
    public var avgFillPrice: Price?
    public var brokerOrderID: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// Why the order was rejected, by risk or by the broker.
    public var rejectReasons: [String]?
    /// For a replacement, the order it replaces; for a replaced order, the one that replaced it.
    public var replacesOrderID: OrderID?
    public var replacedByOrderID: OrderID?
    /// For the stop and target of a bracket, the entry they protect; they work once it has filled and
    /// cancel each other (one-cancels-other).
    public var parentOrderID: OrderID?
    /// How the order is tied to others (`nil`: a simple order).
    public var orderClass: OrderClass?
    /// For a multi-leg order, its legs; `symbol` is then the legs' underlying and `side` is `buy` for a
    /// debit (or a market order) and `sell` for a credit, and quantities and prices are per spread unit.
    public var legs: [OrderLeg]?
    /// Whether the order may also work outside the regular session (pre-market and after-hours); `nil`
    /// means no. Taken on limit orders with tif day or gtc.
    public var extendedHours: Bool?

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id", clientOrderID = "client_order_id", account, symbol, side, qty, type
        case limitPrice = "limit_price", stopPrice = "stop_price", trailPrice = "trail_price"
        case trailPercent = "trail_percent", tif, strategy, tags, status
        case filledQty = "filled_qty", avgFillPrice = "avg_fill_price", brokerOrderID = "broker_order_id"
        case createdAt = "created_at", updatedAt = "updated_at", rejectReasons = "reject_reasons"
        case replacesOrderID = "replaces_order_id", replacedByOrderID = "replaced_by_order_id"
        case parentOrderID = "parent_order_id", orderClass = "order_class", legs
        case extendedHours = "extended_hours"
    }

    public init(
        orderID: OrderID, clientOrderID: ClientOrderID, account: AccountID, symbol: Symbol, side: OrderSide,
        qty: Quantity, type: OrderType, limitPrice: Price? = nil, stopPrice: Price? = nil, trailPrice: Price? = nil,
        trailPercent: Price? = nil, tif: TimeInForce, strategy: String? = nil, tags: [String]? = nil,
        status: OrderStatus = .accepted, createdAt: Timestamp
    ) {
        self.orderID = orderID
        self.clientOrderID = clientOrderID
        self.account = account
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.type = type
        self.limitPrice = limitPrice
        self.stopPrice = stopPrice
        self.trailPrice = trailPrice
        self.trailPercent = trailPercent
        self.tif = tif
        self.strategy = strategy
        self.tags = tags
        self.status = status
        self.filledQty = .zero
        self.avgFillPrice = nil
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// What is left to fill.
    public var leavesQty: Quantity { status.isTerminal ? .zero : max(.zero, qty - filledQty) }

    /// Runs `event` through the state machine; on `.moved` the status changes and `updatedAt` is `now`.
    @discardableResult
    public mutating func apply(_ event: OrderEvent, at now: Timestamp) -> OrderTransition {
        let transition = OrderStateMachine.transition(from: status, on: event, hasFills: filledQty.isPositive)
        if case .moved(let next) = transition {
            status = next
            updatedAt = now
        }
        return transition
    }

    /// Adds a fill's quantity and price to the order's totals and moves its status.
    @discardableResult
    public mutating func record(_ fill: Fill) -> OrderTransition {
        let previous = filledQty
        avgFillPrice = avgFillPrice.map { Price.weightedAverage($0, previous, fill.price, fill.qty) } ?? fill.price
        filledQty = previous + fill.qty
        updatedAt = fill.ts
        return apply(.filled(complete: filledQty >= qty), at: fill.ts)
    }
}
