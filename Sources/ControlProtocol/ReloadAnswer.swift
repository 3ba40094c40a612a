/// The answer of `reload`: what the re-read configuration changed while running, and what it changed
/// that only a restart applies (accounts, brokers, paths, credentials).
public struct ReloadAnswer: Sendable, Hashable, Codable {
    /// What took effect, one line each (`paper: risk limits`, `alerts: 2 destinations`).
    public var applied: [String]
    /// Settings that differ from the running ones but are read only at start.
    public var needsRestart: [String]
    /// The journal sequence number of the `config_reloaded` event.
    public var seq: Int64

    enum CodingKeys: String, CodingKey {
        case applied, needsRestart = "needs_restart", seq
    }

    public init(applied: [String], needsRestart: [String], seq: Int64) {
        self.applied = applied
        self.needsRestart = needsRestart
        self.seq = seq
    }
}
