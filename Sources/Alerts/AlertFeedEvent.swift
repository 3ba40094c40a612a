/// One committed event as the alert dispatcher receives it: the journal's sequence number, kind, the
/// strategy the journal filed it under (a fill's JSON does not carry it), and the event's JSON line.
public struct AlertFeedEvent: Sendable, Hashable {
    public var seq: Int64
    public var kind: String
    public var strategy: String?
    public var line: String

    public init(seq: Int64, kind: String, strategy: String?, line: String) {
        self.seq = seq
        self.kind = kind
        self.strategy = strategy
        self.line = line
    }

    /// The journal kinds that can make an alert; a subscription asks for these only, so quotes never
    /// reach the dispatcher.
    public static let kinds: Set<String> = [
        "order", "fill", "trading_state", "broker", "broker_unmatched", "reconciliation",
    ]
}
