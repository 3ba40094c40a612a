public import FIXCodec

/// One FIX session as a state machine: inputs are what happened (bytes received, a timer fired, the
/// connection came or went, the application sends), outputs are ``FIXSessionAction``s for the shell to
/// perform. It does no I/O, reads no clock and never sleeps: every input carries the time.
///
/// The behaviour follows QuickFIX's session, which the acceptance suite in `../shared/fix` scripts:
/// logon in both roles, heartbeats and TestRequest, sequence checks (too high → ResendRequest and the
/// message queued; too low without PossDupFlag → Logout), ResendRequest answered from the store with
/// gap fills for session messages, SequenceReset in both modes, PossDup and OrigSendingTime checks,
/// SendingTime accuracy, the logout handshake, ResetOnLogon and sequence numbers kept in the store.
///
/// After ``received(_:at:)`` the shell performs the actions (delivering application messages, whose
/// answers it sends through ``send(_:at:)``), then calls ``processQueued(at:)`` until it returns nil,
/// so that queued messages are handled after the application answered the one before them.
public struct FIXSession {
    /// The session's settings.
    public let settings: FIXSessionSettings
    let dictionary: FIXDictionary
    var validator: FIXValidator
    /// Where sequence numbers and sent messages live.
    public let store: any FIXMessageStore
    var encoder: FIXEncoder

    var isConnected = false
    var receivedLogon = false
    var sentLogon = false
    var sentLogout = false
    var sentReset = false
    var receivedReset = false
    var heartBtInt: Int
    var lastSentTime = FIXTimestamp(millisecondsSinceEpoch: 0)
    var lastReceivedTime = FIXTimestamp(millisecondsSinceEpoch: 0)
    var testRequestCount = 0
    var resendRange: (begin: Int, end: Int)?
    var queue: [Int: FIXMessage] = [:]
    var mayProcessQueue = false
    var actions: [FIXSessionAction] = []
    /// The last message received, parsed into buffers reused from one message to the next.
    var inbound = FIXMessage()
    /// The message being sent with its header filled, reused likewise.
    var outbound = FIXMessage()

    /// A session with `settings`, validating against `dictionary`, keeping state in `store`.
    public init(settings: FIXSessionSettings, dictionary: FIXDictionary, store: any FIXMessageStore) {
        self.settings = settings
        self.dictionary = dictionary
        self.validator = FIXValidator(dictionary: dictionary)
        self.store = store
        self.encoder = FIXEncoder(beginString: settings.beginString)
        self.heartBtInt = settings.heartBtInt
    }

    /// Both Logons exchanged.
    public var isLoggedOn: Bool { receivedLogon && sentLogon }

    /// The sequence number the next received message should carry.
    public var expectedTargetSeqNum: Int { store.nextTargetSeqNum }

    /// The sequence number of the next message sent.
    public var nextSenderSeqNum: Int { store.nextSenderSeqNum }

    // MARK: Inputs

    /// The connection is up: an initiator sends its Logon.
    public mutating func connected(at now: FIXTimestamp) -> [FIXSessionAction] {
        isConnected = true
        lastReceivedTime = now
        lastSentTime = now
        if settings.role == .initiator {
            perform { session throws(Interrupt) in try session.generateLogon(at: now) }
        }
        actions.append(.scheduleTimer(.seconds(1)))
        return takeActions()
    }

    /// The connection is gone (closed by either side).
    public mutating func disconnected(at now: FIXTimestamp) -> [FIXSessionAction] {
        if isConnected { resetConnectionState() }
        isConnected = false
        return takeActions()
    }

    /// One framed message arrived.
    public mutating func received(_ bytes: some Collection<UInt8>, at now: FIXTimestamp) -> [FIXSessionAction] {
        mayProcessQueue = false
        do {
            try inbound.reparse(bytes, dictionary: dictionary)
        } catch {
            actions.append(.event("Invalid message: \(error.reason)"))
            if !isLoggedOn { disconnect("garbled message before logon: \(error.reason)") }
            return takeActions()
        }
        next(inbound, at: now, queued: false)
        return takeActions()
    }

    /// A garbled frame the framer dropped: ignored when logged on, the end of the connection before.
    public mutating func receivedGarbled(_ reason: String) -> [FIXSessionAction] {
        actions.append(.event("Invalid message: \(reason)"))
        if !isLoggedOn { disconnect("garbled message before logon: \(reason)") }
        return takeActions()
    }

    /// Handles the next queued message that is now in sequence; nil when there is none.
    public mutating func processQueued(at now: FIXTimestamp) -> [FIXSessionAction]? {
        guard mayProcessQueue, isConnected else { return nil }
        let seqNum = expectedTargetSeqNum
        guard let message = queue.removeValue(forKey: seqNum) else {
            mayProcessQueue = false
            return nil
        }
        actions.append(.event("Processing queued message: \(seqNum)"))
        if message.msgType == "A" || message.msgType == "2" {
            perform { session throws(Interrupt) in try session.incrementTarget() }
        } else {
            next(message, at: now, queued: true)
            mayProcessQueue = true
        }
        return takeActions()
    }

    /// The one-second timer: heartbeats, TestRequest, and the timeouts of logon, logout and silence.
    public mutating func timerFired(at now: FIXTimestamp) -> [FIXSessionAction] {
        guard isConnected else { return [] }
        perform { session throws(Interrupt) in try session.checkTimers(at: now) }
        if isConnected { actions.append(.scheduleTimer(.seconds(1))) }
        return takeActions()
    }

    /// Sends an application message (MsgType and body; the session fills the header).
    public mutating func send(_ message: FIXMessage, at now: FIXTimestamp) -> [FIXSessionAction] {
        var message = message
        message.remove(FIXTag.possDupFlag)
        message.remove(FIXTag.origSendingTime)
        perform { session throws(Interrupt) in _ = try session.sendRaw(message, at: now) }
        return takeActions()
    }

    /// Starts the logout handshake.
    public mutating func logout(reason: String? = nil, at now: FIXTimestamp) -> [FIXSessionAction] {
        if isLoggedOn {
            perform { session throws(Interrupt) in try session.generateLogout(reason, at: now) }
        } else if isConnected {
            disconnect("logout before logon")
        }
        return takeActions()
    }

    // MARK: Internals shared by the extensions

    /// What stops the handling of a message, as QuickFIX's exceptions do.
    enum Interrupt: Error {
        case reject(FIXRejection)
        case fieldMissing(Int)
        case unsupportedMessageType
        case unsupportedVersion
        case disconnect(String)
        case store(FIXStoreError)
    }

    mutating func takeActions() -> [FIXSessionAction] {
        var taken: [FIXSessionAction] = []
        swap(&taken, &actions)
        return taken
    }

    /// Gives back an array of actions the shell has performed, so that its buffer is used again for the
    /// next input's actions instead of a new one.
    public mutating func recycle(_ spent: consuming [FIXSessionAction]) {
        guard actions.isEmpty else { return }
        var buffer = spent
        buffer.removeAll(keepingCapacity: true)
        actions = buffer
    }

    /// Runs `body`; a disconnect or a store failure it raises closes the connection.
    mutating func perform(_ body: (inout FIXSession) throws(Interrupt) -> Void) {
        do {
            try body(&self)
        } catch .store(let error) {
            disconnect("message store failed: \(error.reason)")
        } catch .disconnect(let reason) {
            disconnect(reason)
        } catch {
            actions.append(.event("unexpected: \(error)"))
        }
    }

    mutating func disconnect(_ reason: String) {
        guard isConnected else { return }
        actions.append(.event("Disconnecting: \(reason)"))
        actions.append(.disconnect(reason: reason))
        resetConnectionState()
        isConnected = false
    }

    mutating func resetConnectionState() {
        if receivedLogon || sentLogon {
            receivedLogon = false
            sentLogon = false
            actions.append(.loggedOut)
        }
        sentLogout = false
        receivedReset = false
        sentReset = false
        queue.removeAll()
        mayProcessQueue = false
        resendRange = nil
        if settings.resetOnDisconnect { try? store.reset() }
    }

    mutating func incrementTarget() throws(Interrupt) {
        do { try store.setNextTargetSeqNum(store.nextTargetSeqNum + 1) } catch { throw .store(error) }
    }

    mutating func resetStore() throws(Interrupt) {
        do { try store.reset() } catch { throw .store(error) }
    }
}
