import FIXCodec

extension FIXSession {
    /// Fills the header and sends `message` (QuickFIX's `Session::sendRaw`). With `seqNum` the message
    /// keeps that sequence number and is neither stored nor counted (gap fills); without, it takes the
    /// next one and is stored. Returns whether it was written.
    @discardableResult
    mutating func sendRaw(_ message: FIXMessage, seqNum: Int? = nil, at now: FIXTimestamp) throws(Interrupt) -> Bool {
        let msgType = message.msgType ?? ""
        let isAdmin = dictionary.isAdmin(msgType)
        if !isAdmin, !isLoggedOn, shouldSendReset { return false }
        if msgType == "A", !receivedReset {
            let reset = message.flag(FIXTag.resetSeqNumFlag)
            if reset { try resetStore() }
            sentReset = reset
        }
        let number = seqNum ?? store.nextSenderSeqNum
        fillHeader(of: message, into: &outbound, seqNum: number, at: now)
        let bytes = encoder.encode(outbound)
        if seqNum == nil {
            do {
                if settings.persistMessages {
                    try store.saveSent(bytes, seqNum: number)
                } else {
                    try store.setNextSenderSeqNum(number + 1)
                }
            } catch { throw .store(error) }
        }
        let writes = isAdmin ? (["A", "5", "2", "4"].contains(msgType) || isLoggedOn) : isLoggedOn
        if writes { write(bytes, at: now) }
        return writes
    }

    mutating func write(_ bytes: [UInt8], at now: FIXTimestamp) {
        lastSentTime = now
        actions.append(.send(bytes))
    }

    /// `message` with MsgType first, then MsgSeqNum, SenderCompID, SendingTime, TargetCompID and its
    /// other header fields in tag order, then its body as it is. Two allocations (the new message's
    /// buffers, sized up front) however many fields.
    func filledHeader(_ message: FIXMessage, seqNum: Int, at now: FIXTimestamp) -> FIXMessage {
        var filled = FIXMessage(reservingBytes: message.storage.count + 64, fields: message.fields.count + 4)
        fillHeader(of: message, into: &filled, seqNum: seqNum, at: now)
        return filled
    }

    /// ``filledHeader(_:seqNum:at:)`` into `filled`, whose buffers are reused.
    func fillHeader(of message: FIXMessage, into filled: inout FIXMessage, seqNum: Int, at now: FIXTimestamp) {
        filled.removeAll()
        filled.append(FIXTag.msgType, message.bytes(FIXTag.msgType) ?? [])
        // The header: ours (34, 49, 52, 56) merged in tag order with the message's other header fields,
        // taken smallest first without sorting a copy.
        var last = 0
        while true {
            var next: FIXField?
            for field in message.fields where field.tag > last && dictionary.isHeaderField(field.tag) {
                switch field.tag {
                case FIXTag.beginString, FIXTag.bodyLength, FIXTag.msgType, FIXTag.msgSeqNum, FIXTag.senderCompID,
                    FIXTag.sendingTime, FIXTag.targetCompID:
                    continue
                default:
                    if field.tag < (next?.tag ?? Int.max) { next = field }
                }
            }
            let ours = Self.filledTags.first { $0 > last } ?? Int.max
            if let field = next, field.tag < ours {
                filled.append(field, of: message)
                last = field.tag
            } else if ours != Int.max {
                switch ours {
                case FIXTag.msgSeqNum: filled.append(FIXTag.msgSeqNum, seqNum)
                case FIXTag.senderCompID: filled.append(FIXTag.senderCompID, settings.senderCompID)
                case FIXTag.sendingTime: filled.append(FIXTag.sendingTime, now)
                default: filled.append(FIXTag.targetCompID, settings.targetCompID)
                }
                last = ours
            } else {
                break
            }
        }
        for field in message.fields
        where !dictionary.isHeaderField(field.tag) && field.tag != FIXTag.checkSum {
            filled.append(field, of: message)
        }
    }

    /// The header fields the session writes itself, ascending (BeginString and BodyLength are the encoder's).
    static let filledTags = [FIXTag.msgSeqNum, FIXTag.senderCompID, FIXTag.sendingTime, FIXTag.targetCompID]

    var shouldSendReset: Bool {
        (settings.resetOnLogon || settings.resetOnLogout || settings.resetOnDisconnect)
            && store.nextSenderSeqNum == 1 && store.nextTargetSeqNum == 1
    }

    /// The initiator's Logon.
    mutating func generateLogon(at now: FIXTimestamp) throws(Interrupt) {
        var logon = FIXMessage(msgType: "A")
        logon.append(FIXTag.encryptMethod, 0)
        logon.append(FIXTag.heartBtInt, settings.heartBtInt)
        if settings.resetOnLogon { try resetStore() }
        if shouldSendReset { logon.append(FIXTag.resetSeqNumFlag, "Y") }
        lastReceivedTime = now
        testRequestCount = 0
        try sendRaw(logon, at: now)
        sentLogon = true
        actions.append(.event("Initiated logon request"))
    }

    /// The Logon answering the counterparty's.
    mutating func generateLogon(answering request: FIXMessage, at now: FIXTimestamp) throws(Interrupt) {
        var logon = FIXMessage(msgType: "A")
        logon.append(FIXTag.encryptMethod, 0)
        if let interval = request[FIXTag.heartBtInt] { logon.append(FIXTag.heartBtInt, interval) }
        if receivedReset { logon.append(FIXTag.resetSeqNumFlag, "Y") }
        try sendRaw(logon, at: now)
        sentLogon = true
    }

    mutating func generateHeartbeat(testReqID: String? = nil, at now: FIXTimestamp) throws(Interrupt) {
        var heartbeat = FIXMessage(msgType: "0")
        if let testReqID { heartbeat.append(FIXTag.testReqID, testReqID) }
        try sendRaw(heartbeat, at: now)
    }

    mutating func generateTestRequest(_ id: String, at now: FIXTimestamp) throws(Interrupt) {
        var request = FIXMessage(msgType: "1")
        request.append(FIXTag.testReqID, id)
        try sendRaw(request, at: now)
    }

    mutating func generateResendRequest(upTo seqNum: Int, at now: FIXTimestamp) throws(Interrupt) {
        let begin = expectedTargetSeqNum
        var request = FIXMessage(msgType: "2")
        request.append(FIXTag.beginSeqNo, begin)
        request.append(FIXTag.endSeqNo, settings.beginString >= "FIX.4.2" ? 0 : 999_999)
        try sendRaw(request, at: now)
        actions.append(.event("Sent ResendRequest from \(begin) to \(seqNum - 1)"))
        resendRange = (begin, seqNum - 1)
    }

    mutating func generateSequenceReset(from begin: Int, to end: Int, at now: FIXTimestamp) throws(Interrupt) {
        var reset = FIXMessage(msgType: "4")
        reset.append(FIXTag.possDupFlag, "Y")
        reset.append(FIXTag.origSendingTime, now.text)
        reset.append(FIXTag.newSeqNo, end)
        reset.append(FIXTag.gapFillFlag, "Y")
        try sendRaw(reset, seqNum: begin, at: now)
        actions.append(.event("Sent SequenceReset from \(begin) to \(end)"))
    }

    mutating func generateLogout(_ text: String?, at now: FIXTimestamp) throws(Interrupt) {
        var logout = FIXMessage(msgType: "5")
        if let text { logout.append(FIXTag.text, text) }
        try sendRaw(logout, at: now)
        sentLogout = true
    }

    /// A session-level Reject of `message` (QuickFIX's `generateReject`): RefSeqNum, Text, RefTagID when
    /// a tag is named, RefMsgType, and SessionRejectReason where the version defines it.
    mutating func generateReject(
        _ message: FIXMessage, _ reason: FIXSessionRejectReason, tag: Int?, at now: FIXTimestamp
    ) throws(Interrupt) {
        let msgType = message.msgType ?? ""
        let seqNumText = message[FIXTag.msgSeqNum]
        var reject = FIXMessage(msgType: "3")
        addReversedRoute(of: message, to: &reject)
        if let seqNumText, !seqNumText.isEmpty { reject.append(FIXTag.refSeqNum, seqNumText) }
        reject.append(FIXTag.text, reason.text)
        if let tag { reject.append(FIXTag.refTagID, tag) }
        if settings.beginString >= "FIX.4.2" {
            if !msgType.isEmpty { reject.append(FIXTag.refMsgType, msgType) }
            if settings.beginString > "FIX.4.2" || reason.rawValue <= FIXSessionRejectReason.invalidMsgType.rawValue {
                reject.append(FIXTag.sessionRejectReason, reason.rawValue)
            }
        }
        if msgType != "A", msgType != "4", let seqNumText, Int(seqNumText) == expectedTargetSeqNum {
            try incrementTarget()
        }
        actions.append(.event("Message \(seqNumText ?? "?") Rejected: \(reason.text)\(tag.map { ":\($0)" } ?? "")"))
        guard receivedLogon else { throw .disconnect("Tried to send a reject while not logged on") }
        try sendRaw(reject, at: now)
    }

    /// A BusinessMessageReject (35=j) of an application message: 3 unsupported type, 5 field missing.
    mutating func generateBusinessReject(
        _ message: FIXMessage, reason: Int, tag: Int?, at now: FIXTimestamp
    ) throws(Interrupt) {
        var reject = FIXMessage(msgType: "j")
        if let seqNum = message[FIXTag.msgSeqNum] { reject.append(FIXTag.refSeqNum, seqNum) }
        let text = reason == 3 ? "Unsupported Message Type" : "Conditionally Required Field Missing"
        reject.append(FIXTag.text, tag.map { "\(text) (\($0))" } ?? text)
        reject.append(FIXTag.refMsgType, message.msgType ?? "")
        reject.append(FIXTag.businessRejectReason, reason)
        try incrementTarget()
        try sendRaw(reject, at: now)
    }

    /// The routing fields of `message`'s header, swapped as an answer carries them (QuickFIX's
    /// `reverseRoute`): OnBehalfOf ↔ DeliverTo for CompID, SubID and LocationID, empty ones left out.
    private func addReversedRoute(of message: FIXMessage, to answer: inout FIXMessage) {
        let pairs = [
            (FIXTag.onBehalfOfCompID, FIXTag.deliverToCompID), (FIXTag.deliverToCompID, FIXTag.onBehalfOfCompID),
            (FIXTag.onBehalfOfSubID, FIXTag.deliverToSubID), (FIXTag.deliverToSubID, FIXTag.onBehalfOfSubID),
            (FIXTag.onBehalfOfLocationID, FIXTag.deliverToLocationID),
            (FIXTag.deliverToLocationID, FIXTag.onBehalfOfLocationID),
        ]
        for (from, to) in pairs {
            if let value = message[from], !value.isEmpty { answer.append(to, value) }
        }
    }
}
