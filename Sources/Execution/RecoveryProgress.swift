import Synchronization

/// How many journal events the start-up replay has applied, read from another thread while it runs:
/// the daemon asks systemd for more start-up time (`EXTEND_TIMEOUT_USEC`) only while this keeps moving.
public final class RecoveryProgress: Sendable {
    private let applied = Atomic<Int64>(0)

    public init() {}

    /// Events applied so far.
    public var events: Int64 { applied.load(ordering: .relaxed) }

    func advance() { applied.add(1, ordering: .relaxed) }
}
