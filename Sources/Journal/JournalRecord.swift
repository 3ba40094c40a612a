/// One journaled event. `payload` is the event's JSON object text, written by the engine and stored as is;
/// the other fields are copies of its searchable parts.
public struct JournalRecord: Sendable, Hashable {
    /// Contiguous from 1: no gaps, never reused.
    public var seq: Int64
    /// UTC nanoseconds since the epoch.
    public var ts: Int64
    public var kind: String
    public var account: String?
    public var symbol: String?
    public var orderID: String?
    public var clientOrderID: String?
    public var strategy: String?
    public var payload: String

    public init(
        seq: Int64, ts: Int64, kind: String, account: String? = nil, symbol: String? = nil, orderID: String? = nil,
        clientOrderID: String? = nil, strategy: String? = nil, payload: String
    ) {
        self.seq = seq
        self.ts = ts
        self.kind = kind
        self.account = account
        self.symbol = symbol
        self.orderID = orderID
        self.clientOrderID = clientOrderID
        self.strategy = strategy
        self.payload = payload
    }
}

/// Which records a query wants; every field set narrows it.
public struct JournalQuery: Sendable, Hashable {
    public var account: String?
    public var symbol: String?
    public var strategy: String?
    public var orderID: String?
    public var clientOrderID: String?
    public var kinds: [String]?
    public var since: Int64?
    public var until: Int64?
    public var afterSeq: Int64?
    public var limit: Int

    public init(
        account: String? = nil, symbol: String? = nil, strategy: String? = nil, orderID: String? = nil,
        clientOrderID: String? = nil, kinds: [String]? = nil, since: Int64? = nil, until: Int64? = nil,
        afterSeq: Int64? = nil, limit: Int = 1000
    ) {
        self.account = account
        self.symbol = symbol
        self.strategy = strategy
        self.orderID = orderID
        self.clientOrderID = clientOrderID
        self.kinds = kinds
        self.since = since
        self.until = until
        self.afterSeq = afterSeq
        self.limit = limit
    }
}

/// A journal failure. Any of them stops trading: the engine never acts on what it could not journal.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "journal: \(message)" }
}
