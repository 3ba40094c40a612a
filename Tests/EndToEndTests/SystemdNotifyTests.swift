import ControlProtocol
import Foundation
import GRDB
import GatewayTesting
import Glibc
import Testing

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct SystemdNotifyTests {
        @Test func extendsTheStartThenTellsReadyWithAStatusThenStopping() async throws {
            let daemon = Daemon()
            let notify = try DatagramSocket(path: daemon.folder + "/notify.sock")
            try #require(
                try await daemon.start(environment: ["NOTIFY_SOCKET": notify.path]), "did not start:\n\(daemon.log)")
            let extend = try #require(await notify.receive())
            #expect(extend.hasPrefix("EXTEND_TIMEOUT_USEC=15000000\nSTATUS=recovering the journal"))
            let ready = try #require(await notify.receive(startingWith: "READY=1"))
            let lines = ready.split(separator: "\n").map(String.init)
            #expect(lines.count == 2)
            #expect(lines.last?.hasPrefix("STATUS=trading · paper: active, connected, 0 open · journal seq ") == true)
            #expect(await daemon.stop() == 0)
            let stopping = try #require(await notify.receive())
            #expect(stopping.hasPrefix("STOPPING=1\nSTATUS=stopping"))
        }

        /// READY, WATCHDOG and STOPPING in order; and WATCHDOG=1 comes only from the engine's own
        /// progress: with the journal's write lock held by the test, an order's commit waits, the
        /// engine's ping waits behind it, and the pings stop; when the lock is released the order is
        /// accepted and the pings resume.
        @Test func aStalledEngineStopsTheWatchdogPings() async throws {
            let daemon = Daemon()
            let notify = try DatagramSocket(path: daemon.folder + "/notify.sock")
            try #require(
                try await daemon.start(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"]),
                "did not start:\n\(daemon.log)")
            _ = try #require(await notify.receive(startingWith: "READY=1"))
            for _ in 0..<3 {
                let ping = try #require(await notify.receive(startingWith: "WATCHDOG=1"))
                #expect(ping.contains("STATUS=trading · paper: active"))
            }
            // A ping slow for the machine's own reasons may already have logged a stall: wait for a new one.
            let stallsBefore = daemon.logCount("has not answered the watchdog ping")
            var holding = Configuration()
            holding.allowsUnsafeTransactions = true  // the test holds the write lock across accesses
            let journal = try DatabaseQueue(path: daemon.journalPath, configuration: holding)
            try await journal.writeWithoutTransaction { try $0.execute(sql: "BEGIN IMMEDIATE") }
            let socket = daemon.socketPath
            let submitted = Task {
                await offPool {
                    let client = try? ControlClient(socketPath: socket)
                    let answer = try? client?.request(
                        "submit",
                        [
                            "account": "paper", "client_order_id": "stall-1", "symbol": "AAPL", "side": "buy",
                            "qty": "1", "type": "market",
                        ])
                    return answer.map { $0.order["status"] as? String ?? "\($0)" } ?? "no answer"
                }
            }
            #expect(
                await daemon.waitForLog("has not answered the watchdog ping", times: stallsBefore + 1),
                "no stall seen:\n\(daemon.log)")
            // Pings sent before the stall was noticed are already queued; none may come after it.
            for _ in 0..<20 where await notify.receive(within: 0) != nil {}
            var during: [String] = []
            while during.count < 10, let late = await notify.receive(within: 1_000) { during.append(late) }
            #expect(!during.contains { $0.hasPrefix("WATCHDOG=1") }, "pings went on while the engine was stalled")
            try await journal.writeWithoutTransaction { try $0.execute(sql: "COMMIT") }
            #expect(await submitted.value == "accepted")
            #expect(await daemon.waitForLog("the engine answers again", times: stallsBefore + 1))
            _ = try #require(await notify.receive(startingWith: "WATCHDOG=1"))
            try journal.close()
            #expect(await daemon.stop() == 0)
            // After the pings, STOPPING=1 comes last.
            let stopping = try #require(await notify.receive(startingWith: "STOPPING=1"))
            #expect(stopping.contains("STATUS=stopping"))
        }
    }
}
