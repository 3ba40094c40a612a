public import GatewayCore
public import Journal

/// A new order as a client asks for it.
public struct SubmitOrder: Sendable, Hashable {
    public var account: AccountID
    public var clientOrderID: ClientOrderID?
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
    /// A multi-leg order's legs; `symbol` and `side` are then worked out from them.
    public var legs: [OrderLeg]?
    /// `bracket`, `oto` or `oco` with `takeProfit` and/or `stopLoss`; `nil` with either of them means a
    /// bracket (both) or an OTO (one).
    public var orderClass: OrderClass?
    /// The exits placed with the order: a target's limit price, a stop's stop price and optional limit.
    public var takeProfit: Price?
    public var stopLoss: StopLoss?
    /// Whether the order may work in pre-market and after-hours too (limit orders, day or gtc).
    public var extendedHours = false

    /// A protective stop placed with an order: a stop, or a stop-limit when `limitPrice` is given.
    public struct StopLoss: Sendable, Hashable {
        public var stopPrice: Price
        public var limitPrice: Price?
        public init(stopPrice: Price, limitPrice: Price? = nil) {
            self.stopPrice = stopPrice
            self.limitPrice = limitPrice
        }
    }

    public init(
        account: AccountID, clientOrderID: ClientOrderID? = nil, symbol: Symbol, side: OrderSide, qty: Quantity,
        type: OrderType, limitPrice: Price? = nil, stopPrice: Price? = nil, trailPrice: Price? = nil,
        trailPercent: Price? = nil, tif: TimeInForce = .day, strategy: String? = nil, tags: [String]? = nil,
        legs: [OrderLeg]? = nil, orderClass: OrderClass? = nil, takeProfit: Price? = nil, stopLoss: StopLoss? = nil
    ) {
        self.legs = legs
        self.orderClass = orderClass
        self.takeProfit = takeProfit
        self.stopLoss = stopLoss
        self.account = account
        self.clientOrderID = clientOrderID
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
    }
}

/// The answer to a submit: the order, and whether its client_order_id was already known.
public struct SubmitOutcome: Sendable, Hashable {
    public var order: Order
    public var duplicate: Bool
    /// The exits placed with it (a bracket's, an OTO's or an OCO's other orders), in the order placed.
    public var linked: [Order] = []

    public init(order: Order, duplicate: Bool, linked: [Order] = []) {
        self.order = order
        self.duplicate = duplicate
        self.linked = linked
    }
}

/// Names an order by the gateway's id or the client's.
public enum OrderReference: Sendable, Hashable {
    case orderID(OrderID)
    case clientOrderID(ClientOrderID)
}

/// A replace: any of a new quantity, limit price, stop price and time in force.
public struct ReplaceOrder: Sendable, Hashable {
    public var account: AccountID
    public var reference: OrderReference
    public var qty: Quantity?
    public var limitPrice: Price?
    public var stopPrice: Price?
    public var tif: TimeInForce?

    public init(
        account: AccountID, reference: OrderReference, qty: Quantity? = nil, limitPrice: Price? = nil,
        stopPrice: Price? = nil, tif: TimeInForce? = nil
    ) {
        self.account = account
        self.reference = reference
        self.qty = qty
        self.limitPrice = limitPrice
        self.stopPrice = stopPrice
        self.tif = tif
    }
}

/// Which orders `orders` lists.
public struct OrderFilter: Sendable, Hashable {
    public var account: AccountID?
    public var openOnly: Bool
    public var symbol: Symbol?
    public var strategy: String?

    public init(account: AccountID? = nil, openOnly: Bool = true, symbol: Symbol? = nil, strategy: String? = nil) {
        self.account = account
        self.openOnly = openOnly
        self.symbol = symbol
        self.strategy = strategy
    }
}

/// The engine's state for `status`.
public struct EngineStatus: Sendable, Hashable {
    public var seq: Int64
    public var accounts: [AccountStatus]
    /// Why trading stopped, when a journal append failed.
    public var journalFailure: String?
    /// Events in the journal's log that its tables do not hold yet, and why they cannot take them when
    /// copying them fails (the disk full, the database locked by another process).
    public var tablesBacklog = 0
    public var tablesProblem: String?
}

/// Which journaled events `journal` returns; every field set narrows the answer.
public struct EventQuery: Sendable, Hashable {
    public var account: AccountID?
    public var symbol: Symbol?
    public var strategy: String?
    public var orderID: OrderID?
    public var clientOrderID: ClientOrderID?
    public var kinds: [String]?
    public var since: Timestamp?
    public var until: Timestamp?
    public var afterSeq: Int64?
    public var limit: Int

    public init(
        account: AccountID? = nil, symbol: Symbol? = nil, strategy: String? = nil, orderID: OrderID? = nil,
        clientOrderID: ClientOrderID? = nil, kinds: [String]? = nil, since: Timestamp? = nil,
        until: Timestamp? = nil, afterSeq: Int64? = nil, limit: Int = 1000
    ) {
        self.clientOrderID = clientOrderID
        self.account = account
        self.symbol = symbol
        self.strategy = strategy
        self.orderID = orderID
        self.kinds = kinds
        self.since = since
        self.until = until
        self.afterSeq = afterSeq
        self.limit = limit
    }
}

/// A signal: what a plugin wants and how much it will lose; the engine finds the quantity.
public struct SubmitSignal: Sendable, Hashable {
    public var account: AccountID
    /// Idempotency key; the entry order's client_order_id.
    public var signalID: ClientOrderID
    public var strategy: String?
    public var symbol: Symbol
    public var side: OrderSide
    public var entryType: OrderType
    public var entryPrice: Price?
    public var stopPrice: Price?
    public var atr: Price?
    public var atrMultiple: Price?
    public var takeProfit: Price?
    public var riskFraction: Price?
    public var qty: Quantity?
    public var tif: TimeInForce
    public var tags: [String]?

    public init(
        account: AccountID, signalID: ClientOrderID, strategy: String? = nil, symbol: Symbol, side: OrderSide,
        entryType: OrderType = .market, entryPrice: Price? = nil, stopPrice: Price? = nil, atr: Price? = nil,
        atrMultiple: Price? = nil, takeProfit: Price? = nil, riskFraction: Price? = nil, qty: Quantity? = nil,
        tif: TimeInForce = .day, tags: [String]? = nil
    ) {
        self.account = account
        self.signalID = signalID
        self.strategy = strategy
        self.symbol = symbol
        self.side = side
        self.entryType = entryType
        self.entryPrice = entryPrice
        self.stopPrice = stopPrice
        self.atr = atr
        self.atrMultiple = atrMultiple
        self.takeProfit = takeProfit
        self.riskFraction = riskFraction
        self.qty = qty
        self.tif = tif
        self.tags = tags
    }
}

/// The answer to a signal: the order(s) made, how the quantity was found, and what the broker could not do.
public struct SignalOutcome: Sendable, Hashable {
    public var orders: [Order]
    public var sizing: SizingResult?
    public var duplicate: Bool
    /// Set when a stop or target was asked for and not placed.
    public var bracket: String?
}

/// The answer of `journal_backup`: where the copy is and how many events it holds.
public struct JournalBackup: Sendable, Hashable, Codable {
    public var path: String
    public var events: Int64
}

/// The answer of `journal_verify` with `state: true`: whether the engine's state equals a fresh replay.
public struct StateCheck: Sendable, Hashable, Codable {
    public var seq: Int64
    public var matches: Bool
    public var restoredFromCheckpoint: Int64?
    public var liveBytes: Int
    public var replayBytes: Int

    enum CodingKeys: String, CodingKey {
        case seq, matches, restoredFromCheckpoint = "restored_from_checkpoint", liveBytes = "live_bytes"
        case replayBytes = "replay_bytes"
    }
}

/// The answer of `journal_verify`: the chain's figures, and with `state: true` the state check.
public struct JournalAudit: Sendable, Encodable {
    public var chain: JournalVerification
    public var state: StateCheck?

    enum CodingKeys: String, CodingKey { case state }

    public func encode(to encoder: any Encoder) throws {
        try chain.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(state, forKey: .state)
    }
}
