/// One order as the gateway knows it. Journaled whole on every change and sent whole in `order` events,
/// so its coding keys are the protocol's names (PROTOCOL.md "An order").
public struct Order: Sendable, Hashable, Codable {
    // An order's fields are stored on the heap, shared by every copy of the order until one of them
    // changes (copy-on-write): its terms in one box, shared even by copies whose state has since changed,
    // and its state beside a reference to them in another. The engine's store, the broker's book, a
    // checkpoint's sorted list and each event then hold a reference instead of ~350 bytes of fields with a
    // dozen references of their own — with 100 000 open orders that was most of the daemon's memory —
    // and copying an order on the order path is one retain (docs/performance.md).

    /// Every field, in one struct: what the order's JSON is encoded from and decoded into.
    struct Fields: Sendable, Hashable, Codable {
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

    /// What an order is asked to do: set when it is made and not changed after (a replacement is a new
    /// order). Shared by every copy of the order — the engine's and the broker's included — even after
    /// their states part.
    ///
    /// The terms most orders leave unset (a replacement's or a bracket child's links, tags, legs, a stop
    /// price, a trailing stop's trail, the order class, extended hours) live in a box of their own, made
    /// only for an order that sets one of them: in the terms they took 90 of 222 bytes, and the terms' box
    /// took 256 bytes of the allocator (its size class) where it now takes 160. With 100 000 resting orders
    /// that is about 9 MiB (docs/performance.md). Read through the properties of the same names.
    struct Terms: Sendable, Hashable {
        // Ordered by size (the widest first, one-byte enums last) so that the box has little padding.
        var orderID: OrderID
        var clientOrderID: ClientOrderID
        var account: AccountID
        var symbol: Symbol
        var strategy: String?
        var qty: Quantity
        var createdAt: Timestamp
        /// `nil` when every one of its terms is unset: never an empty box, so that equal terms compare
        /// equal.
        private var rare: CopyOnWrite<RareTerms>?
        var limitPrice: Price?
        // In the padding after `limitPrice` (a `Price?` is 9 bytes).
        var side: OrderSide
        var type: OrderType
        var tif: TimeInForce

        init(
            orderID: OrderID, clientOrderID: ClientOrderID, account: AccountID, symbol: Symbol, strategy: String?,
            replacesOrderID: OrderID?, parentOrderID: OrderID?, qty: Quantity, createdAt: Timestamp,
            tags: [String]?, legs: [OrderLeg]?, limitPrice: Price?, stopPrice: Price?, trailPrice: Price?,
            trailPercent: Price?, side: OrderSide, type: OrderType, tif: TimeInForce, orderClass: OrderClass?,
            extendedHours: Bool?
        ) {
            self.orderID = orderID
            self.clientOrderID = clientOrderID
            self.account = account
            self.symbol = symbol
            self.strategy = strategy
            self.qty = qty
            self.createdAt = createdAt
            self.limitPrice = limitPrice
            self.side = side
            self.type = type
            self.tif = tif
            rare = CopyOnWrite(
                RareTerms(
                    replacesOrderID: replacesOrderID, parentOrderID: parentOrderID, tags: tags, legs: legs,
                    stopPrice: stopPrice, trailPrice: trailPrice, trailPercent: trailPercent, orderClass: orderClass,
                    extendedHours: extendedHours), unlessEqualTo: RareTerms())
        }

        var replacesOrderID: OrderID? {
            get { rare?.value.replacesOrderID }
            set { setRare(\.replacesOrderID, newValue) }
        }
        var parentOrderID: OrderID? {
            get { rare?.value.parentOrderID }
            set { setRare(\.parentOrderID, newValue) }
        }
        var tags: [String]? {
            get { rare?.value.tags }
            set { setRare(\.tags, newValue) }
        }
        var legs: [OrderLeg]? {
            get { rare?.value.legs }
            set { setRare(\.legs, newValue) }
        }
        var stopPrice: Price? {
            get { rare?.value.stopPrice }
            set { setRare(\.stopPrice, newValue) }
        }
        var trailPrice: Price? {
            get { rare?.value.trailPrice }
            set { setRare(\.trailPrice, newValue) }
        }
        var trailPercent: Price? {
            get { rare?.value.trailPercent }
            set { setRare(\.trailPercent, newValue) }
        }
        var orderClass: OrderClass? {
            get { rare?.value.orderClass }
            set { setRare(\.orderClass, newValue) }
        }
        var extendedHours: Bool? {
            get { rare?.value.extendedHours }
            set { setRare(\.extendedHours, newValue) }
        }

        /// Sets one of the rare terms, making their box when it is the first set and dropping it when the
        /// last is unset.
        private mutating func setRare<T>(_ term: WritableKeyPath<RareTerms, T?>, _ value: T?) {
            rare = .setting(term, to: value, in: rare, empty: RareTerms())
        }
    }

    /// The terms that most orders leave unset (`Terms`).
    struct RareTerms: Sendable, Hashable {
        var replacesOrderID: OrderID? = nil
        var parentOrderID: OrderID? = nil
        var tags: [String]? = nil
        var legs: [OrderLeg]? = nil
        var stopPrice: Price? = nil
        var trailPrice: Price? = nil
        var trailPercent: Price? = nil
        var orderClass: OrderClass? = nil
        var extendedHours: Bool? = nil
    }

    /// Where the order stands: what changes as it works.
    struct State: Sendable, Hashable {
        var brokerOrderID: String? = nil
        var replacedByOrderID: OrderID? = nil
        var filledQty: Quantity
        var updatedAt: Timestamp
        var rejectReasons: [String]? = nil
        var avgFillPrice: Price? = nil
        var status: OrderStatus
    }

    /// The terms (shared even by copies whose state has since changed) and the state.
    private struct Parts: Sendable {
        var terms: CopyOnWrite<Terms>
        var state: State
    }

    private var box: CopyOnWrite<Parts>

    private var state: State {
        get { box.value.state }
        _modify { yield &box.value.state }
    }

    private var terms: Terms {
        get { box.value.terms.value }
        _modify { yield &box.value.terms.value }
    }

    private init(_ fields: Fields) {
        box = CopyOnWrite(
            Parts(
                terms: CopyOnWrite(
                    Terms(
                        orderID: fields.orderID, clientOrderID: fields.clientOrderID, account: fields.account,
                        symbol: fields.symbol, strategy: fields.strategy, replacesOrderID: fields.replacesOrderID,
                        parentOrderID: fields.parentOrderID, qty: fields.qty, createdAt: fields.createdAt,
                        tags: fields.tags, legs: fields.legs, limitPrice: fields.limitPrice,
                        stopPrice: fields.stopPrice,
                        trailPrice: fields.trailPrice, trailPercent: fields.trailPercent, side: fields.side,
                        type: fields.type, tif: fields.tif, orderClass: fields.orderClass,
                        extendedHours: fields.extendedHours)),
                state: State(
                    brokerOrderID: fields.brokerOrderID, replacedByOrderID: fields.replacedByOrderID,
                    filledQty: fields.filledQty, updatedAt: fields.updatedAt, rejectReasons: fields.rejectReasons,
                    avgFillPrice: fields.avgFillPrice, status: fields.status)))
    }

    private var fields: Fields {
        let (terms, state) = (self.terms, self.state)
        return Fields(
            orderID: terms.orderID, clientOrderID: terms.clientOrderID, account: terms.account, symbol: terms.symbol,
            strategy: terms.strategy, brokerOrderID: state.brokerOrderID, replacesOrderID: terms.replacesOrderID,
            replacedByOrderID: state.replacedByOrderID, parentOrderID: terms.parentOrderID, qty: terms.qty,
            filledQty: state.filledQty, createdAt: terms.createdAt, updatedAt: state.updatedAt, tags: terms.tags,
            rejectReasons: state.rejectReasons, legs: terms.legs, limitPrice: terms.limitPrice,
            stopPrice: terms.stopPrice, trailPrice: terms.trailPrice, trailPercent: terms.trailPercent,
            avgFillPrice: state.avgFillPrice, side: terms.side, type: terms.type, tif: terms.tif, status: state.status,
            orderClass: terms.orderClass, extendedHours: terms.extendedHours)
    }

    public var orderID: OrderID {
        get { terms.orderID }
        set { terms.orderID = newValue }
    }
    public var clientOrderID: ClientOrderID {
        get { terms.clientOrderID }
        set { terms.clientOrderID = newValue }
    }
    public var account: AccountID {
        get { terms.account }
        set { terms.account = newValue }
    }
    public var symbol: Symbol {
        get { terms.symbol }
        set { terms.symbol = newValue }
    }
    public var strategy: String? {
        get { terms.strategy }
        set { terms.strategy = newValue }
    }
    public var brokerOrderID: String? {
        get { state.brokerOrderID }
        set { state.brokerOrderID = newValue }
    }
    /// For a replacement, the order it replaces; for a replaced order, the one that replaced it.
    public var replacesOrderID: OrderID? {
        get { terms.replacesOrderID }
        set { terms.replacesOrderID = newValue }
    }
    public var replacedByOrderID: OrderID? {
        get { state.replacedByOrderID }
        set { state.replacedByOrderID = newValue }
    }
    /// For the stop and target of a bracket, the entry they protect; they work once it has filled and
    /// cancel each other (one-cancels-other).
    public var parentOrderID: OrderID? {
        get { terms.parentOrderID }
        set { terms.parentOrderID = newValue }
    }
    public var qty: Quantity {
        get { terms.qty }
        set { terms.qty = newValue }
    }
    public var filledQty: Quantity {
        get { state.filledQty }
        set { state.filledQty = newValue }
    }
    public var createdAt: Timestamp {
        get { terms.createdAt }
        set { terms.createdAt = newValue }
    }
    public var updatedAt: Timestamp {
        get { state.updatedAt }
        set { state.updatedAt = newValue }
    }
    public var tags: [String]? {
        get { terms.tags }
        set { terms.tags = newValue }
    }
    /// Why the order was rejected, by risk or by the broker.
    public var rejectReasons: [String]? {
        get { state.rejectReasons }
        set { state.rejectReasons = newValue }
    }
    /// For a multi-leg order, its legs; `symbol` is then the legs' underlying and `side` is `buy` for a
    /// debit (or a market order) and `sell` for a credit, and quantities and prices are per spread unit.
    public var legs: [OrderLeg]? {
        get { terms.legs }
        set { terms.legs = newValue }
    }
    public var limitPrice: Price? {
        get { terms.limitPrice }
        set { terms.limitPrice = newValue }
    }
    public var stopPrice: Price? {
        get { terms.stopPrice }
        set { terms.stopPrice = newValue }
    }
    public var trailPrice: Price? {
        get { terms.trailPrice }
        set { terms.trailPrice = newValue }
    }
    public var trailPercent: Price? {
        get { terms.trailPercent }
        set { terms.trailPercent = newValue }
    }
    public var avgFillPrice: Price? {
        get { state.avgFillPrice }
        set { state.avgFillPrice = newValue }
    }
    public var side: OrderSide {
        get { terms.side }
        set { terms.side = newValue }
    }
    public var type: OrderType {
        get { terms.type }
        set { terms.type = newValue }
    }
    public var tif: TimeInForce {
        get { terms.tif }
        set { terms.tif = newValue }
    }
    public var status: OrderStatus {
        get { state.status }
        set { state.status = newValue }
    }
    /// How the order is tied to others (`nil`: a simple order).
    public var orderClass: OrderClass? {
        get { terms.orderClass }
        set { terms.orderClass = newValue }
    }
    /// Whether the order may also work outside the regular session (pre-market and after-hours); `nil`
    /// means no. Taken on limit orders with tif day or gtc.
    public var extendedHours: Bool? {
        get { terms.extendedHours }
        set { terms.extendedHours = newValue }
    }

    public static func == (lhs: Order, rhs: Order) -> Bool {
        let (left, right) = (lhs.box, rhs.box)
        if left.sharesStorage(with: right) { return true }
        return
            (left.value.terms.sharesStorage(with: right.value.terms)
            || left.value.terms.value == right.value.terms.value)
            && left.value.state == right.value.state
    }
    public func hash(into hasher: inout Hasher) {
        terms.hash(into: &hasher)
        state.hash(into: &hasher)
    }
    public init(from decoder: any Decoder) throws { self.init(try Fields(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try fields.encode(to: encoder) }

    public init(
        orderID: OrderID, clientOrderID: ClientOrderID, account: AccountID, symbol: Symbol, side: OrderSide,
        qty: Quantity, type: OrderType, limitPrice: Price? = nil, stopPrice: Price? = nil, trailPrice: Price? = nil,
        trailPercent: Price? = nil, tif: TimeInForce, strategy: String? = nil, tags: [String]? = nil,
        status: OrderStatus = .accepted, createdAt: Timestamp
    ) {
        self.init(
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

extension Order {
    /// An order's terms alone — what it asks for, fixed once it is made — sharing the order's storage: one
    /// reference. For a holder that keeps the order's state its own way, like the paper broker: holding the
    /// `Order` would keep a second copy of its state once the engine's copy moves on (with 100 000 resting
    /// paper orders, about 10 MiB).
    public struct SharedTerms: Sendable {
        fileprivate let storage: CopyOnWrite<Terms>

        fileprivate init(_ storage: CopyOnWrite<Terms>) { self.storage = storage }

        public var orderID: OrderID { storage.value.orderID }
        public var clientOrderID: ClientOrderID { storage.value.clientOrderID }
        public var account: AccountID { storage.value.account }
        public var symbol: Symbol { storage.value.symbol }
        public var strategy: String? { storage.value.strategy }
        public var replacesOrderID: OrderID? { storage.value.replacesOrderID }
        public var parentOrderID: OrderID? { storage.value.parentOrderID }
        public var qty: Quantity { storage.value.qty }
        public var createdAt: Timestamp { storage.value.createdAt }
        public var tags: [String]? { storage.value.tags }
        public var legs: [OrderLeg]? { storage.value.legs }
        public var limitPrice: Price? { storage.value.limitPrice }
        public var stopPrice: Price? { storage.value.stopPrice }
        public var trailPrice: Price? { storage.value.trailPrice }
        public var trailPercent: Price? { storage.value.trailPercent }
        public var side: OrderSide { storage.value.side }
        public var type: OrderType { storage.value.type }
        public var tif: TimeInForce { storage.value.tif }
        public var orderClass: OrderClass? { storage.value.orderClass }
        public var extendedHours: Bool? { storage.value.extendedHours }
    }

    /// The order's terms, sharing its storage.
    public var sharedTerms: SharedTerms { SharedTerms(box.value.terms) }

    /// An order of `terms` (shared, not copied) in `status`, nothing filled, last changed when it was
    /// made: how a holder that keeps the state its own way writes the terms back out (the paper broker's
    /// compacted ledger).
    public init(terms: SharedTerms, status: OrderStatus) {
        box = CopyOnWrite(
            Parts(
                terms: terms.storage,
                state: State(filledQty: .zero, updatedAt: terms.createdAt, status: status)))
    }
}
