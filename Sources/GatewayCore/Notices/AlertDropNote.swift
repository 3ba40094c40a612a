/// Alerts a destination dropped, as the alert dispatcher reports it and the journal keeps it (event kind
/// `alert_dropped`, history only: replay skips it).
public struct AlertDropNote: Sendable, Hashable, Codable {
    public var destination: String
    /// Dropped since the previous note.
    public var dropped: Int
    /// Dropped since gatewayd started.
    public var droppedTotal: Int
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case destination, dropped, droppedTotal = "dropped_total", reason
    }

    public init(destination: String, dropped: Int, droppedTotal: Int, reason: String) {
        self.destination = destination
        self.dropped = dropped
        self.droppedTotal = droppedTotal
        self.reason = reason
    }
}
