import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    @Suite(.timeLimit(.minutes(3)))
    struct CrashTests {
        @Test func sigkillMidStreamLosesNoAcknowledgedOrderFillOrPosition() async throws {
            let daemon = try await startedDaemon()
            let setup = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(setup, #"{"id":1,"op":"quote","symbol":"AAPL","bid":"100","ask":"100.10"}"#)
            // Four writers submit buys and sells as fast as they can; the daemon is killed while they do.
            let acknowledged = Acknowledged()
            let socketPath = daemon.socketPath
            let writers = (0..<4).map { writer in
                Thread {
                    guard let client = try? ControlClient(socketPath: socketPath, timeoutSeconds: 60) else { return }
                    for n in 0..<10_000 {
                        let side = n % 3 == 2 ? "sell" : "buy"
                        let line =
                            #"{"id":\#(n),"op":"submit","account":"paper","symbol":"AAPL","side":"\#(side)","qty":"1","client_order_id":"w\#(writer)-\#(n)"}"#
                        guard (try? client.send(line)) != nil, let answer = try? client.readObject() else { return }
                        if answer["ok"] as? Bool == true,
                            let id = (answer["order"] as? [String: Any])?["client_order_id"] as? String
                        {
                            acknowledged.add(id)
                        }
                    }
                }
            }
            writers.forEach { $0.start() }
            let watcher = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(watcher, #"{"id":1,"op":"subscribe","after_seq":0,"kinds":["fill"]}"#)
            var fillsSeen = 0
            while fillsSeen < 200, try watcher.readObject() != nil { fillsSeen += 1 }
            #expect(await daemon.stop(signal: SIGKILL) == -SIGKILL)
            let before = acknowledged.all
            #expect(before.count >= 100)

            try #require(
                try await daemon.launch(["--config", daemon.folder + "/gatewayd.yaml"]),
                "restart failed:\n\(daemon.log)")
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            // Orders the crash left unconfirmed are settled with the broker after the restart; every order
            // here was a market order with a quote, so settling ends with none open.
            let events = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(events, #"{"id":1,"op":"subscribe","kinds":["order"]}"#)
            while ((try client.request("status")["accounts"] as? [[String: Any]])?.first?["open_orders"] as? Int ?? 0)
                > 0
            {
                _ = try events.readObject()
            }
            let orders =
                try client.request("orders", ["status": "all", "account": "paper"])["orders"] as? [[String: Any]] ?? []
            let known = Set(orders.compactMap { $0["client_order_id"] as? String })
            #expect(before.isSubset(of: known), "lost \(before.subtracting(known).count) acknowledged orders")
            // Every journaled fill is in the position; every filled order's quantity matches its fills.
            let journal =
                try client.request("journal", ["kinds": ["fill"], "limit": 10_000])["events"] as? [[String: Any]] ?? []
            #expect(journal.count >= fillsSeen)
            let net = journal.reduce(0) { total, event in
                let fill = event["fill"] as? [String: Any] ?? [:]
                return total + ((fill["side"] as? String) == "buy" ? 1 : -1) * Int(fill["qty"] as? String ?? "0")!
            }
            let positions = try client.request("positions", ["account": "paper"])["positions"] as? [[String: Any]] ?? []
            #expect(positions.first?["qty"] as? String == String(net))
            let filledOrders = orders.filter { $0["status"] as? String == "filled" }.count
            #expect(filledOrders == journal.count)
            #expect(await daemon.stop() == 0)
        }

        @Test func anOrderTheBrokerNeverReceivedIsRejectedAfterRestartNeverSent() async throws {
            let daemon = try await startedDaemon(extraPaper: ["crash_in_submit: before_receive"])
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            try client.send(
                #"{"id":1,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"5","client_order_id":"doomed-1"}"#
            )
            #expect(await daemon.waitForExit() == -SIGKILL)
            try await restartWithoutFaults(daemon)
            let order = try await settled(daemon, "doomed-1", until: "rejected")
            #expect((order["reject_reasons"] as? [String])?.first?.contains("no record") == true)
            let ledger = (try? String(contentsOfFile: daemon.ledgerPath, encoding: .utf8)) ?? ""
            #expect(!ledger.contains("doomed-1"))
            #expect(await daemon.stop() == 0)
        }

        @Test func anOrderTheBrokerReceivedComesBackFromTheBrokerAndIsNotSentTwice() async throws {
            let daemon = try await startedDaemon(extraPaper: ["crash_in_submit: after_receive"])
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            try client.send(
                #"{"id":1,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"5","type":"limit","limit_price":"50","client_order_id":"kept-1"}"#
            )
            #expect(await daemon.waitForExit() == -SIGKILL)
            try await restartWithoutFaults(daemon)
            let order = try await settled(daemon, "kept-1", until: "acknowledged")
            #expect(order["broker_order_id"] as? String != nil)
            let ledger = (try? String(contentsOfFile: daemon.ledgerPath, encoding: .utf8)) ?? ""
            #expect(ledger.components(separatedBy: "\"received\"").count - 1 == 1)
            // It still works at the broker: a quote through its limit fills it.
            let quote = try await daemon.ctl(["quote", "AAPL", "--bid", "49", "--ask", "49.5"])
            #expect(quote.status == 0)
            _ = try await settled(daemon, "kept-1", until: "filled")
            #expect(await daemon.stop() == 0)
        }

        func restartWithoutFaults(_ daemon: Daemon) async throws {
            let path = daemon.folder + "/gatewayd.yaml"
            let config = try String(contentsOfFile: path, encoding: .utf8)
                .split(separator: "\n").filter { !$0.contains("crash_in_submit") }.joined(separator: "\n")
            try config.write(toFile: path, atomically: true, encoding: .utf8)
            try #require(try await daemon.launch(["--config", path]), "restart failed:\n\(daemon.log)")
        }

        /// Follows the order's events from the start of the journal until it reaches `status`.
        func settled(_ daemon: Daemon, _ clientOrderID: String, until status: String) async throws -> [String: Any] {
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(client, #"{"id":1,"op":"subscribe","after_seq":0,"kinds":["order"]}"#)
            while let event = try client.readObject() {
                let order = event.order
                if order["client_order_id"] as? String == clientOrderID, order["status"] as? String == status {
                    return order
                }
            }
            Issue.record("the stream ended before \(clientOrderID) was \(status)")
            return [:]
        }
    }
}

import Synchronization

/// Client order ids the daemon answered `ok` for, from several threads.
final class Acknowledged: Sendable {
    private let ids = Mutex<Set<String>>([])
    func add(_ id: String) { ids.withLock { _ = $0.insert(id) } }
    var all: Set<String> { ids.withLock { $0 } }
}
