import FIXCodec
import FIXSession
import MallocInterposerSwift
import FIXTransport
import Synchronization

/// Session throughput over loopback: an acceptor and an initiator in this process, each on its own
/// event loop (thread), with every message through the full session (sequence checks, validation,
/// store, encode). Counts NewOrderSingles initiator→acceptor, then ExecutionReports back.
enum LoopbackThroughput {
    static func measure(
        messages: Int, dictionary: FIXDictionary
    ) async throws -> (inbound: Double, outbound: Double, allocationsPerMessage: Double) {
        var acceptorSettings = FIXSessionSettings(
            beginString: "FIX.4.4", senderCompID: "ISLD", targetCompID: "TW44", role: .acceptor)
        acceptorSettings.resetOnLogon = true
        let acceptorSide = Counter(replies: messages)
        let acceptor = try await FIXAcceptor(
            port: 0,
            sessions: [.init(settings: acceptorSettings, dictionary: dictionary, makeStore: { FIXMemoryStore() })],
            application: acceptorSide)
        var initiatorSettings = FIXSessionSettings(
            beginString: "FIX.4.4", senderCompID: "TW44", targetCompID: "ISLD", role: .initiator)
        initiatorSettings.resetOnLogon = true
        let initiatorSide = Counter(replies: 0)
        let initiator = try await FIXInitiator(
            host: "127.0.0.1", port: acceptor.port, settings: initiatorSettings, dictionary: dictionary,
            makeStore: { FIXMemoryStore() }, application: initiatorSide)
        await initiatorSide.waitForLogon()
        let order = Samples.order
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        let start = ContinuousClock.now
        let batch = 500
        for first in stride(from: 0, to: messages, by: batch) {
            initiator.session.sendSoon(Array(repeating: order, count: min(batch, messages - first)))
        }
        await acceptorSide.wait(for: messages)
        let inbound = Double(messages) / seconds(ContinuousClock.now - start)
        MallocInterposerSwift.unhook()
        // Every allocation in the process while the orders went through both sessions, per order.
        let allocations = Double(MallocInterposerSwift.getStatistics().mallocCount) / Double(messages)
        let replyStart = ContinuousClock.now
        initiator.session.sendSoon([Samples.trigger])
        await initiatorSide.wait(for: messages)
        let outbound = Double(messages) / seconds(ContinuousClock.now - replyStart)
        try await initiator.shutdown()
        try await acceptor.shutdown()
        return (inbound, outbound, allocations)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension Samples {
    static var order: FIXMessage {
        var message = FIXMessage(msgType: "D")
        for (tag, value) in [
            (1, "ACCT-7"), (11, "ORD-1"), (21, "1"), (38, "1500"), (40, "2"), (44, "187.25"), (54, "1"), (55, "AAPL"),
            (59, "0"), (60, "20261203-13:05:17.120"),
        ] {
            message.append(tag, value)
        }
        return message
    }

    /// The order that asks the acceptor side to send its ExecutionReports.
    static var trigger: FIXMessage {
        var message = order
        message.set(11, "SEND-REPORTS")
        return message
    }

    static var report: FIXMessage {
        var message = FIXMessage(msgType: "8")
        for (tag, value) in [
            (6, "187.2412"), (11, "ORD-1"), (14, "600"), (17, "EXEC-1"), (31, "187.24"), (32, "600"), (37, "BRK-1"),
            (38, "1500"), (39, "1"), (54, "1"), (55, "AAPL"), (150, "F"), (151, "900"),
        ] {
            message.append(tag, value)
        }
        return message
    }
}

/// Counts application messages; on the trigger order, sends `replies` ExecutionReports in batches.
final class Counter: FIXApplication {
    private let state = Mutex((count: 0, target: Int.max, waiter: CheckedContinuation<Void, Never>?.none))
    private let logon = Mutex((done: false, waiter: CheckedContinuation<Void, Never>?.none))
    private let replies: Int

    init(replies: Int) { self.replies = replies }

    func received(_ message: FIXMessage, session: FIXSessionHandle) {
        if replies > 0, message[11] == "SEND-REPORTS" {
            let report = Samples.report
            var sent = 0
            while sent < replies {
                let count = min(500, replies - sent)
                session.send(Array(repeating: report, count: count))
                sent += count
            }
            return
        }
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.count += 1
            guard state.count >= state.target, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func loggedOn(session: FIXSessionHandle) {
        let waiter = logon.withLock { logon in
            logon.done = true
            defer { logon.waiter = nil }
            return logon.waiter
        }
        waiter?.resume()
    }

    func waitForLogon() async {
        await withCheckedContinuation { continuation in
            let ready = logon.withLock { logon in
                if logon.done { return true }
                logon.waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Returns once `count` messages have arrived in all.
    func wait(for count: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.count >= count { return true }
                state.target = count
                state.waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
