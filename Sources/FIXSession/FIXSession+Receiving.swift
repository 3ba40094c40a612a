import FIXCodec

extension FIXSession {
    /// Handles one parsed message (QuickFIX's `Session::next(const Message&)`).
    mutating func next(_ message: FIXMessage, at now: FIXTimestamp, queued: Bool) {
        let msgType = message.msgType ?? ""
        do throws(Interrupt) {
            guard message.contains(FIXTag.senderCompID) else { throw .fieldMissing(FIXTag.senderCompID) }
            guard message.contains(FIXTag.targetCompID) else { throw .fieldMissing(FIXTag.targetCompID) }
            guard message[FIXTag.beginString] == settings.beginString else { throw .unsupportedVersion }
            if let rejection = validator.validate(message) { throw .reject(rejection) }
            switch msgType {
            case "A": try nextLogon(message, at: now)
            case "0": try nextHeartbeat(message, at: now)
            case "1": try nextTestRequest(message, at: now)
            case "4": try nextSequenceReset(message, at: now)
            case "5": try nextLogout(message, at: now)
            case "2": try nextResendRequest(message, at: now)
            case "3": try nextReject(message, at: now)
            default:
                guard try verify(message, at: now) else { break }
                try incrementTarget()
            }
            if !queued { mayProcessQueue = true }
        } catch {
            handle(error, for: message, at: now)
        }
    }

    private mutating func handle(_ interrupt: Interrupt, for message: FIXMessage, at now: FIXTimestamp) {
        perform { session throws(Interrupt) in
            switch interrupt {
            case .reject(let rejection):
                try session.generateReject(message, rejection.reason, tag: rejection.tag, at: now)
            case .fieldMissing(let tag):
                if message.msgType.map(session.dictionary.isAdmin) == false {
                    try session.generateBusinessReject(message, reason: 5, tag: tag, at: now)
                } else {
                    try session.generateReject(message, .requiredTagMissing, tag: tag, at: now)
                    if message.msgType == "A" { throw .disconnect("Required field missing from logon") }
                }
            case .unsupportedMessageType:
                try session.generateBusinessReject(message, reason: 3, tag: nil, at: now)
            case .unsupportedVersion:
                if message.msgType == "5" {
                    try session.nextLogout(message, at: now)
                } else {
                    try session.generateLogout("Incorrect BeginString", at: now)
                    try session.incrementTarget()
                }
            case .disconnect, .store:
                throw interrupt
            }
        }
    }

    private mutating func nextLogon(_ logon: FIXMessage, at now: FIXTimestamp) throws(Interrupt) {
        let resetRequested = logon.flag(FIXTag.resetSeqNumFlag)
        receivedReset = resetRequested
        if receivedReset {
            actions.append(.event("Logon contains ResetSeqNumFlag=Y, resetting sequence numbers to 1"))
            if !sentReset { try resetStore() }
        }
        if settings.role == .initiator, !sentLogon, !receivedReset {
            throw .disconnect("Received logon response before sending request")
        }
        if settings.role == .acceptor, settings.resetOnLogon { try resetStore() }
        guard try verify(logon, checkTooHigh: false, checkTooLow: true, at: now) else { return }
        receivedLogon = true
        if settings.role == .acceptor || (receivedReset && !sentReset) {
            if let interval = logon.int(FIXTag.heartBtInt) { heartBtInt = interval }
            actions.append(.event("Received logon request"))
            try generateLogon(answering: logon, at: now)
        } else {
            actions.append(.event("Received logon response"))
        }
        sentReset = false
        receivedReset = false
        let seqNum = logon.int(FIXTag.msgSeqNum) ?? 0
        if seqNum > expectedTargetSeqNum, !resetRequested {
            try doTargetTooHigh(logon, at: now)
        } else {
            try incrementTarget()
        }
        if isLoggedOn { actions.append(.loggedOn) }
    }

    private mutating func nextHeartbeat(_ heartbeat: FIXMessage, at now: FIXTimestamp) throws(Interrupt) {
        guard try verify(heartbeat, at: now) else { return }
        try incrementTarget()
    }

    private mutating func nextTestRequest(_ request: FIXMessage, at now: FIXTimestamp) throws(Interrupt) {
        guard try verify(request, at: now) else { return }
        try generateHeartbeat(testReqID: request[FIXTag.testReqID], at: now)
        try incrementTarget()
    }

    private mutating func nextReject(_ reject: FIXMessage, at now: FIXTimestamp) throws(Interrupt) {
        guard try verify(reject, checkTooHigh: false, checkTooLow: true, at: now) else { return }
        try incrementTarget()
    }

    mutating func nextLogout(_ logout: FIXMessage, at now: FIXTimestamp) throws(Interrupt) {
        guard try verify(logout, checkTooHigh: false, checkTooLow: false, at: now) else { return }
        if !sentLogout {
            actions.append(.event("Received logout request"))
            try generateLogout(nil, at: now)
        } else {
            actions.append(.event("Received logout response"))
        }
        try incrementTarget()
        if settings.resetOnLogout { try resetStore() }
        throw .disconnect("logout")
    }

    private mutating func nextSequenceReset(_ reset: FIXMessage, at now: FIXTimestamp) throws(Interrupt) {
        let isGapFill = reset.flag(FIXTag.gapFillFlag)
        guard try verify(reset, checkTooHigh: isGapFill, checkTooLow: isGapFill, at: now) else { return }
        guard let newSeqNo = reset.int(FIXTag.newSeqNo) else { return }
        actions.append(.event("Received SequenceReset to \(newSeqNo)"))
        if newSeqNo > expectedTargetSeqNum {
            do { try store.setNextTargetSeqNum(newSeqNo) } catch { throw .store(error) }
        } else if newSeqNo < expectedTargetSeqNum {
            try generateReject(reset, .valueIsIncorrect, tag: nil, at: now)
        }
    }

    /// The checks every message passes before it counts (QuickFIX's `Session::verify`). Returns false
    /// when the message is not to be processed further (answered, queued or ignored).
    mutating func verify(
        _ message: FIXMessage, checkTooHigh: Bool = true, checkTooLow: Bool = true, at now: FIXTimestamp
    ) throws(Interrupt) -> Bool {
        let msgType = message.msgType ?? ""
        let seqNum = message.int(FIXTag.msgSeqNum) ?? 0
        guard isValidLogonState(for: msgType) else { throw .disconnect("Logon state is not valid for message") }
        if !isGoodTime(message, at: now) {
            guard receivedLogon else { throw .disconnect("SendingTime accuracy problem before logon") }
            try generateReject(message, .sendingTimeAccuracyProblem, tag: nil, at: now)
            try generateLogout(nil, at: now)
            return false
        }
        if message[FIXTag.senderCompID] != settings.targetCompID
            || message[FIXTag.targetCompID] != settings.senderCompID
        {
            guard receivedLogon else { throw .disconnect("CompID problem before logon") }
            try generateReject(message, .compIDProblem, tag: nil, at: now)
            try generateLogout(nil, at: now)
            return false
        }
        if checkTooHigh, seqNum > expectedTargetSeqNum {
            try doTargetTooHigh(message, at: now)
            return false
        } else if checkTooLow, seqNum < expectedTargetSeqNum {
            try doTargetTooLow(message, at: now)
            return false
        }
        if checkTooHigh || checkTooLow, let range = resendRange, seqNum >= range.end {
            actions.append(.event("ResendRequest for messages \(range.begin) to \(range.end) has been satisfied"))
            resendRange = nil
        }
        lastReceivedTime = now
        testRequestCount = 0
        if !dictionary.isAdmin(msgType) {
            if let supported = settings.applicationMessageTypes, !supported.contains(msgType) {
                throw .unsupportedMessageType
            }
            let inOrder = message.isInCanonicalOrder(dictionary: dictionary)
            actions.append(.deliver(inOrder ? message : message.canonicalized(validator.structure(of: message))))
        }
        return true
    }

    private func isValidLogonState(for msgType: String) -> Bool {
        if (msgType == "A" && sentReset) || receivedReset { return true }
        if (msgType == "A" && !receivedLogon) || (msgType != "A" && receivedLogon) { return true }
        if msgType == "5" && sentLogon { return true }
        if msgType != "5" && sentLogout { return true }
        return msgType == "4" || msgType == "3"
    }

    private func isGoodTime(_ message: FIXMessage, at now: FIXTimestamp) -> Bool {
        guard settings.checkLatency else { return true }
        guard let sent = message.bytes(FIXTag.sendingTime).flatMap({ FIXTimestamp(parsing: $0) }) else { return false }
        let distance = abs(now.millisecondsSinceEpoch / 1000 - sent.millisecondsSinceEpoch / 1000)
        return distance <= Int64(settings.maxLatencySeconds)
    }

    private mutating func doTargetTooHigh(_ message: FIXMessage, at now: FIXTimestamp) throws(Interrupt) {
        let seqNum = message.int(FIXTag.msgSeqNum) ?? 0
        actions.append(.event("MsgSeqNum too high, expecting \(expectedTargetSeqNum) but received \(seqNum)"))
        queue[seqNum] = message
        if let range = resendRange, seqNum >= range.begin {
            actions.append(
                .event("Already sent ResendRequest from \(range.begin) to \(range.end), not sending another"))
            return
        }
        try generateResendRequest(upTo: seqNum, at: now)
    }

    private mutating func doTargetTooLow(_ message: FIXMessage, at now: FIXTimestamp) throws(Interrupt) {
        let seqNum = message.int(FIXTag.msgSeqNum) ?? 0
        guard message.flag(FIXTag.possDupFlag) else {
            let text = "MsgSeqNum too low, expecting \(expectedTargetSeqNum) but received \(seqNum)"
            try generateLogout(text, at: now)
            throw .disconnect(text)
        }
        guard message.msgType != "4" else { return }
        guard let original = message.bytes(FIXTag.origSendingTime) else {
            try generateReject(message, .requiredTagMissing, tag: FIXTag.origSendingTime, at: now)
            return
        }
        let sent = message.bytes(FIXTag.sendingTime).flatMap { FIXTimestamp(parsing: $0) }
        if let originalTime = FIXTimestamp(parsing: original), let sent, originalTime > sent {
            try generateReject(message, .sendingTimeAccuracyProblem, tag: nil, at: now)
            try generateLogout(nil, at: now)
        }
    }
}
