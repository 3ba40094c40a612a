public import FIXCodec

/// What a FIX engine's user implements: the application messages of a session, in order, exactly once
/// per connection's delivery, and the session's logon and logout.
///
/// Called on the session's event loop, one call at a time; a message sent through `session` from
/// inside a call goes out before the session handles the next message it received.
public protocol FIXApplication: Sendable {
    /// An application message passed every session check.
    func received(_ message: FIXMessage, session: FIXSessionHandle)
    /// The session logged on.
    func loggedOn(session: FIXSessionHandle)
    /// The session logged out or its connection dropped after logon.
    func loggedOut(session: FIXSessionHandle)
}

extension FIXApplication {
    public func loggedOn(session: FIXSessionHandle) {}
    public func loggedOut(session: FIXSessionHandle) {}
}
