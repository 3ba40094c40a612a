/// One order as the gateway knows it. Journaled whole on every change and sent whole in `order` events,
/// so its coding keys are the protocol's names (PROTOCOL.md "An order").
public struct Order: Sendable, Hashable, Codable {
    /// The order's fields, stored once on the heap and shared by every copy of the order until one of
    /// them changes (copy-on-write). The engine's store, the broker's book, a checkpoint's sorted list
    /// and each event then hold a reference instead of ~350 bytes of fields with a dozen references of
    /// their own: with 100 000 open orders that is most of the daemon's memory, and copying an order
    /// on the order path is one retain (docs/performance.md).
    struct Fields: Sendable, Hashable, Codable {
        // Ordered by size (the widest first, one-byte enums last) so that the box has little padding.
        var orderID: OrderID
        var clientOrderID: ClientOrderID
        var account: AccountID
        var symbol: Symbol
        var strategy: String?
        var brokerOrderID: String? = nil
        /// For a replacement, the order it replaces; for a replaced order, the one that replaced it.
        var replacesOrderID: OrderID? = nil
        var replacedByOrderID: OrderID? = nil
        /// For the stop and target of a bracket, the entry they protect; they work once it has filled and
        /// cancel each other (one-cancels-other).
        var parentOrderID: OrderID? = nil
        var qty: Quantity
        var filledQty: Quantity
        var createdAt: Timestamp
        var updatedAt: Timestamp
        var tags: [String]?
        /// Why the order was rejected, by risk or by the broker.
        var rejectReasons: [String]? = nil
        /// For a multi-leg order, its legs; `symbol` is then the legs' underlying and `side` is `buy` for a
        /// debit (or a market order) and `sell` for a credit, and quantities and prices are per spread unit.
        var legs: [OrderLeg]? = nil
        var limitPrice: Price?
        var stopPrice: Price?
        var trailPrice: Price?
        var trailPercent: Price?
        var avgFillPrice: Price? = nil
        var side: OrderSide
        var type: OrderType
        var tif: TimeInForce
        var status: OrderStatus
        /// How the order is tied to others (`nil`: a simple order).
        var orderClass: OrderClass? = nil
        /// Whether the order may also work outside the regular session (pre-market and after-hours); `nil`
        /// means no. Taken on limit orders with tif day or gtc.
        var extendedHours: Bool? = nil

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
    }

    private final class Box: @unchecked Sendable {
        // Mutated only through `fields`' modify accessor, which first makes the box unique.
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    private var fields: Fields {
        get { box.fields }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.fields) }
            yield &box.fields
        }
    }

    public var orderID: OrderID {
        get { box.fields.orderID }
        set { fields.orderID = newValue }
    }
    public var clientOrderID: ClientOrderID {
        get { box.fields.clientOrderID }
        set { fields.clientOrderID = newValue }
    }
    public var account: AccountID {
        get { box.fields.account }
        set { fields.account = newValue }
    }
    public var symbol: Symbol {
        get { box.fields.symbol }
        set { fields.symbol = newValue }
    }
    public var side: OrderSide {
        get { box.fields.side }
        set { fields.side = newValue }
    }
    public var qty: Quantity {
        get { box.fields.qty }
        set { fields.qty = newValue }
    }
    public var type: OrderType {
        get { box.fields.type }
        set { fields.type = newValue }
    }
    public var limitPrice: Price? {
        get { box.fields.limitPrice }
        set { fields.limitPrice = newValue }
    }
    public var stopPrice: Price? {
        get { box.fields.stopPrice }
        set { fields.stopPrice = newValue }
    }
    public var trailPrice: Price? {
        get { box.fields.trailPrice }
        set { fields.trailPrice = newValue }
    }
    public var trailPercent: Price? {
        get { box.fields.trailPercent }
        set { fields.trailPercent = newValue }
    }
    public var tif: TimeInForce {
        get { box.fields.tif }
        set { fields.tif = newValue }
    }
    public var strategy: String? {
        get { box.fields.strategy }
        set { fields.strategy = newValue }
    }
    public var tags: [String]? {
        get { box.fields.tags }
        set { fields.tags = newValue }
    }
    public var status: OrderStatus {
        get { box.fields.status }
        set { fields.status = newValue }
    }
    public var filledQty: Quantity {
        get { box.fields.filledQty }
        set { fields.filledQty = newValue }
    }
    public var avgFillPrice: Price? {
        get { box.fields.avgFillPrice }
        set { fields.avgFillPrice = newValue }
    }
    public var brokerOrderID: String? {
        get { box.fields.brokerOrderID }
        set { fields.brokerOrderID = newValue }
    }
    public var createdAt: Timestamp {
        get { box.fields.createdAt }
        set { fields.createdAt = newValue }
    }
    public var updatedAt: Timestamp {
        get { box.fields.updatedAt }
        set { fields.updatedAt = newValue }
    }
    /// Why the order was rejected, by risk or by the broker.
    public var rejectReasons: [String]? {
        get { box.fields.rejectReasons }
        set { fields.rejectReasons = newValue }
    }
    /// For a replacement, the order it replaces; for a replaced order, the one that replaced it.
    public var replacesOrderID: OrderID? {
        get { box.fields.replacesOrderID }
        set { fields.replacesOrderID = newValue }
    }
    public var replacedByOrderID: OrderID? {
        get { box.fields.replacedByOrderID }
        set { fields.replacedByOrderID = newValue }
    }
    /// For the stop and target of a bracket, the entry they protect; they work once it has filled and
    /// cancel each other (one-cancels-other).
    public var parentOrderID: OrderID? {
        get { box.fields.parentOrderID }
        set { fields.parentOrderID = newValue }
    }
    /// How the order is tied to others (`nil`: a simple order).
    public var orderClass: OrderClass? {
        get { box.fields.orderClass }
        set { fields.orderClass = newValue }
    }
    /// For a multi-leg order, its legs; `symbol` is then the legs' underlying and `side` is `buy` for a
    /// debit (or a market order) and `sell` for a credit, and quantities and prices are per spread unit.
    public var legs: [OrderLeg]? {
        get { box.fields.legs }
        set { fields.legs = newValue }
    }
    /// Whether the order may also work outside the regular session (pre-market and after-hours); `nil`
    /// means no. Taken on limit orders with tif day or gtc.
    public var extendedHours: Bool? {
        get { box.fields.extendedHours }
        set { fields.extendedHours = newValue }
    }

    public static func == (lhs: Order, rhs: Order) -> Bool { lhs.box === rhs.box || lhs.box.fields == rhs.box.fields }
    public func hash(into hasher: inout Hasher) { box.fields.hash(into: &hasher) }
    public init(from decoder: any Decoder) throws { box = Box(try Fields(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try box.fields.encode(to: encoder) }

    public init(
        orderID: OrderID, clientOrderID: ClientOrderID, account: AccountID, symbol: Symbol, side: OrderSide,
        qty: Quantity, type: OrderType, limitPrice: Price? = nil, stopPrice: Price? = nil, trailPrice: Price? = nil,
        trailPercent: Price? = nil, tif: TimeInForce, strategy: String? = nil, tags: [String]? = nil,
        status: OrderStatus = .accepted, createdAt: Timestamp
    ) {
        box = Box(
            Fields(
                orderID: orderID, clientOrderID: clientOrderID, account: account, symbol: symbol, strategy: strategy,
                qty: qty, filledQty: .zero, createdAt: createdAt, updatedAt: createdAt, tags: tags,
                limitPrice: limitPrice, stopPrice: stopPrice, trailPrice: trailPrice, trailPercent: trailPercent,
                side: side, type: type, tif: tif, status: status))
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
