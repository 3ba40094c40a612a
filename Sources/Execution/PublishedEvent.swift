/// A journaled event as pushed to subscribers: its sequence number, kind and the JSON line to send
/// (without the trailing newline).
public struct PublishedEvent: Sendable, Hashable {
    public var seq: Int64
    public var kind: String
    public var line: String

    public init(seq: Int64, kind: String, line: String) {
        self.seq = seq
        self.kind = kind
        self.line = line
    }
}
