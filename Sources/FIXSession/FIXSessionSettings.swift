/// How one FIX session behaves: who it is, which side opens it, and QuickFIX's session options.
public struct FIXSessionSettings: Sendable, Hashable {
    /// Which side starts the logon.
    public enum Role: Sendable, Hashable {
        /// Connects and sends the first Logon.
        case initiator
        /// Accepts connections and answers Logon.
        case acceptor
    }

    /// BeginString, as `FIX.4.2`.
    public var beginString: String
    /// Our CompID (SenderCompID of what we send).
    public var senderCompID: String
    /// The counterparty's CompID.
    public var targetCompID: String
    /// Initiator or acceptor.
    public var role: Role
    /// Seconds between heartbeats that an initiator asks for (an acceptor takes the counterparty's).
    public var heartBtInt: Int = 30
    /// Start both sequence numbers at 1 on every logon (and ask for it, as an initiator).
    public var resetOnLogon = false
    /// Start both sequence numbers at 1 after a logout.
    public var resetOnLogout = false
    /// Start both sequence numbers at 1 when the connection drops.
    public var resetOnDisconnect = false
    /// Refuse messages whose SendingTime is further than ``maxLatencySeconds`` from our clock.
    public var checkLatency = true
    /// The allowed distance between SendingTime and our clock.
    public var maxLatencySeconds = 120
    /// Seconds to wait for the answer to our Logon.
    public var logonTimeoutSeconds = 10
    /// Seconds to wait for the answer to our Logout.
    public var logoutTimeoutSeconds = 2
    /// Application message types delivered to the application; any other gets a BusinessMessageReject
    /// "Unsupported Message Type". Nil delivers every type.
    public var applicationMessageTypes: Set<String>?
    /// Keep sent application messages for resending; false answers every ResendRequest with a gap fill.
    public var persistMessages = true

    /// Settings for a session between `senderCompID` and `targetCompID` in `role`.
    public init(beginString: String, senderCompID: String, targetCompID: String, role: Role) {
        self.beginString = beginString
        self.senderCompID = senderCompID
        self.targetCompID = targetCompID
        self.role = role
    }
}
