/// How long an initiator waits before it connects again: doubling from `initial` up to `maximum`,
/// back to `initial` once a logon succeeds.
public struct FIXReconnectBackoff: Sendable, Hashable {
    /// The first wait.
    public var initial: Duration
    /// The longest wait.
    public var maximum: Duration
    private(set) var failures = 0

    /// Waits doubling from `initial` to `maximum`.
    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(30)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait before the next attempt, counting this failure.
    public mutating func nextDelay() -> Duration {
        let delay = initial * (1 << min(failures, 20))
        failures += 1
        return min(delay, maximum)
    }

    /// A logon succeeded: the next failure waits `initial` again.
    public mutating func reset() {
        failures = 0
    }
}
