public import GatewayCore

/// One thing to tell a person, made from one journaled event (or by the dispatcher itself for start,
/// stop and test messages). `text` is the line a person reads at a glance; `event` is the journaled
/// event's JSON object, sent whole to plain webhooks.
public struct Alert: Sendable, Hashable {
    public var category: AlertCategory
    public var text: String
    public var account: AccountID?
    public var strategy: String?
    public var symbol: String?
    /// The journal sequence number of the event, when the alert comes from one.
    public var seq: Int64?
    /// When it happened.
    public var ts: Timestamp
    /// The journaled event as sent to subscribers (a JSON object), when the alert comes from one.
    public var event: String?

    public init(
        category: AlertCategory, text: String, account: AccountID? = nil, strategy: String? = nil,
        symbol: String? = nil, seq: Int64? = nil, ts: Timestamp, event: String? = nil
    ) {
        self.category = category
        self.text = text
        self.account = account
        self.strategy = strategy
        self.symbol = symbol
        self.seq = seq
        self.ts = ts
        self.event = event
    }
}
