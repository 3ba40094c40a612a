/// A journaled event as pushed to subscribers: its sequence number, kind and the JSON line to send
/// (without the trailing newline).
public struct PublishedEvent: Sendable, Hashable {
    public var seq: Int64
    public var kind: String
    public var line: String
    /// The strategy the journal filed the event under (an order's, or a fill's order's), if any.
    public var strategy: String?

    public init(seq: Int64, kind: String, line: String, strategy: String? = nil) {
        self.strategy = strategy
        self.seq = seq
        self.kind = kind
        self.line = line
    }
}
