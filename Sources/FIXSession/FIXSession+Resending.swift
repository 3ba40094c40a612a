import FIXCodec

extension FIXSession {
    /// Answers a ResendRequest from the store: application messages again with PossDupFlag=Y and
    /// OrigSendingTime, session messages and gaps as SequenceReset-GapFill (QuickFIX's
    /// `nextResendRequest`).
    mutating func nextResendRequest(_ request: FIXMessage, at now: FIXTimestamp) throws(Interrupt) {
        guard try verify(request, checkTooHigh: false, checkTooLow: false, at: now) else { return }
        let begin = request.int(FIXTag.beginSeqNo) ?? 0
        var end = request.int(FIXTag.endSeqNo) ?? 0
        actions.append(.event("Received ResendRequest from \(begin) to \(end)"))
        let nextSender = store.nextSenderSeqNum
        if (settings.beginString >= "FIX.4.2" && end == 0) || (settings.beginString <= "FIX.4.2" && end == 999_999)
            || end >= nextSender
        {
            end = nextSender - 1
        }
        defer {
            let seqNum = request.int(FIXTag.msgSeqNum) ?? 0
            if seqNum == expectedTargetSeqNum { try? incrementTarget() }
        }
        guard settings.persistMessages else {
            try generateSequenceReset(from: begin, to: min(end + 1, nextSender), at: now)
            return
        }
        let stored: [(seqNum: Int, message: [UInt8])]
        do { stored = begin <= end ? try store.sentMessages(in: begin...end) : [] } catch { throw .store(error) }
        var gapStart = 0
        var current = begin
        var lastSeqNum = 0
        for (seqNum, bytes) in stored {
            lastSeqNum = seqNum
            if current != seqNum, gapStart == 0 { gapStart = current }
            guard var message = try? FIXMessage(parsing: bytes, dictionary: dictionary, checkLengthAndChecksum: false),
                let msgType = message.msgType, !dictionary.isAdmin(msgType)
            else {
                if gapStart == 0 { gapStart = seqNum }
                current = seqNum + 1
                continue
            }
            if gapStart != 0 { try generateSequenceReset(from: gapStart, to: seqNum, at: now) }
            let originalTime = message.bytes(FIXTag.sendingTime).flatMap { FIXTimestamp(parsing: $0) } ?? now
            message.remove(FIXTag.possDupFlag)
            message.remove(FIXTag.origSendingTime)
            message.append(FIXTag.possDupFlag, "Y")
            message.append(FIXTag.origSendingTime, originalTime.text)
            write(encoder.encode(filledHeader(message, seqNum: seqNum, at: now)), at: now)
            actions.append(.event("Resending message: \(seqNum)"))
            gapStart = 0
            current = seqNum + 1
        }
        if gapStart != 0 { try generateSequenceReset(from: gapStart, to: lastSeqNum + 1, at: now) }
        if end > lastSeqNum {
            try generateSequenceReset(from: begin, to: min(end + 1, store.nextSenderSeqNum), at: now)
        }
    }
}
