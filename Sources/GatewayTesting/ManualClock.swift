public import GatewayCore
import Synchronization

/// A wall clock that tests move by hand.
public final class ManualWallClock: WallClock {
    private let current: Mutex<Timestamp>

    public init(_ start: Timestamp = Timestamp(nanosecondsSinceEpoch: 1_795_600_000_000_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(seconds: Int64 = 0, nanoseconds: Int64 = 0) {
        current.withLock {
            $0 = Timestamp(nanosecondsSinceEpoch: $0.nanosecondsSinceEpoch + seconds * 1_000_000_000 + nanoseconds)
        }
    }
}
