public import FIXCodec
public import FIXSession
import NIOCore

/// A session as its application sees it: who it is, and a way to send on it.
///
/// Use it on the session's event loop (inside ``FIXApplication`` calls) or through ``sendSoon(_:)``
/// from anywhere else.
public struct FIXSessionHandle: Sendable {
    let driver: NIOLoopBound<FIXSessionDriver>

    /// The session's settings (its CompIDs and version).
    public var settings: FIXSessionSettings { driver.value.settings }

    /// Whether the session is logged on, read on its event loop (for tests; a snapshot).
    package var isLoggedOnForTesting: Bool {
        get async {
            let driver = self.driver
            return (try? await driver.eventLoop.submit { driver.value.session.isLoggedOn }.get()) ?? false
        }
    }

    /// Sends an application message now. Must be called on the session's event loop.
    public func send(_ message: FIXMessage) {
        driver.value.send(message)
    }

    /// Sends application messages now, flushing once after the last. Must be called on the event loop.
    public func send(_ messages: [FIXMessage]) {
        driver.value.send(messages)
    }

    /// Sends application messages from any thread, flushing once after the last.
    public func sendSoon(_ messages: [FIXMessage]) {
        let driver = self.driver
        driver.eventLoop.execute { driver.value.send(messages) }
    }

    /// Sends an application message from any thread; it goes out on the session's event loop.
    public func sendSoon(_ message: FIXMessage) {
        let driver = self.driver
        driver.eventLoop.execute { driver.value.send(message) }
    }

    /// Starts the logout handshake from any thread.
    public func logout(reason: String? = nil) {
        let driver = self.driver
        driver.eventLoop.execute { driver.value.logout(reason: reason) }
    }
}
