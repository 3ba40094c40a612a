import FIXCodec

extension FIXSession {
    /// QuickFIX's `Session::next()`: the logon and logout timeouts, then heartbeat, TestRequest or the
    /// end of a silent connection, measured against the last message sent and received.
    mutating func checkTimers(at now: FIXTimestamp) throws(Interrupt) {
        let sinceReceived = now.millisecondsSinceEpoch - lastReceivedTime.millisecondsSinceEpoch
        let sinceSent = now.millisecondsSinceEpoch - lastSentTime.millisecondsSinceEpoch
        guard receivedLogon else {
            if settings.role == .initiator, !sentLogon {
                try generateLogon(at: now)
            } else if sentLogon, sinceReceived >= Int64(settings.logonTimeoutSeconds) * 1000 {
                throw .disconnect("Timed out waiting for logon response")
            }
            return
        }
        guard heartBtInt > 0 else { return }
        let interval = Int64(heartBtInt) * 1000
        if sentLogout, sinceSent >= Int64(settings.logoutTimeoutSeconds) * 1000 {
            throw .disconnect("Timed out waiting for logout response")
        }
        if sinceSent < interval, sinceReceived < interval { return }
        if sinceReceived * 10 >= interval * 24 {
            throw .disconnect("Timed out waiting for heartbeat")
        } else if sinceReceived * 10 >= interval * 12 * Int64(testRequestCount + 1) {
            try generateTestRequest("TEST", at: now)
            testRequestCount += 1
            actions.append(.event("Sent test request TEST"))
        } else if sinceSent >= interval, testRequestCount == 0 {
            try generateHeartbeat(at: now)
        }
    }
}
