public import FIXCodec

/// What the shell must do after an input to the session, in order.
public enum FIXSessionAction: Sendable {
    /// Write these bytes to the connection.
    case send([UInt8])
    /// Hand this application message to the application (in sequence, exactly once).
    case deliver(FIXMessage)
    /// Close the connection.
    case disconnect(reason: String)
    /// Both Logons have been exchanged; the session is logged on.
    case loggedOn
    /// The session was logged on and no longer is.
    case loggedOut
    /// Call ``FIXSession/timerFired(at:)`` after this long.
    case scheduleTimer(Duration)
    /// Something worth a log line (QuickFIX's session events).
    case event(String)
}
