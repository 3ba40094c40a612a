import Glibc

/// The service watchdog systemd asks for (`WatchdogSec=` in the unit): `$WATCHDOG_USEC`, meant for this
/// process when `$WATCHDOG_PID` is unset or names it (sd_watchdog_enabled(3)).
public struct WatchdogSettings: Sendable, Equatable {
    /// How long systemd waits for a `WATCHDOG=1` before it kills the service.
    public let timeout: Duration

    /// `nil` when no watchdog is asked for, or it is meant for another process.
    public init?(environment: [String: String], pid: Int32? = nil) {
        guard let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty, Int32(owner) != (pid ?? getpid()) { return nil }
        timeout = .microseconds(usec)
    }

    /// How often to ping: half the timeout, as sd_watchdog_enabled(3) advises.
    public var pingInterval: Duration { timeout / 2 }
}
