import ControlProtocol
import Foundation
import GatewayTesting
import Synchronization
import Testing

/// Client ids the daemon answered as accepted; `wait(for:)` blocks until that many were.
final class AcceptedOrders: Sendable {
    private let state = Mutex<Set<String>>([])
    private let condition = NSCondition()

    func add(_ id: String) {
        state.withLock { _ = $0.insert(id) }
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    var all: Set<String> { state.withLock { $0 } }

    /// Wakes the waiter to look again (a writer stopped).
    func poke() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Returns when `count` are accepted, or `false` when `alive()` says the writers have all stopped.
    func wait(for count: Int, alive: () -> Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while all.count < count {
            guard alive() else { return false }
            _ = condition.wait(until: Date().addingTimeInterval(1))
        }
        return true
    }
}

/// The orders a paper ledger has held, round after round. A rewrite drops finished orders past those it
/// keeps, so counting one ledger's receipts cannot see an order received again after its first receipt
/// was dropped; an order that leaves the ledger never comes back unless the broker received it again.
final class LedgerReceipts {
    private var held: Set<String> = []
    private var dropped: Set<String> = []

    /// Takes the orders the ledger holds now; returns those it had let go of and holds again.
    func see(_ now: Set<String>) -> Set<String> {
        let back = now.intersection(dropped)
        dropped.formUnion(held.subtracting(now))
        held = now
        return back
    }
}

/// A deterministic generator, so a failing round can be run again with the same seed.
struct SeededRandom {
    var state: UInt64
    mutating func next(_ range: ClosedRange<Int>) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return range.lowerBound + Int(z % UInt64(range.count))
    }
}

extension EndToEnd {
    /// The journal's crash safety (issue: journal as an audit trail): the real daemon under load —
    /// concurrent submits of market and resting limit orders, quotes that fill them — is killed with
    /// SIGKILL at a random point (after a seeded random number of accepted orders), restarted, and
    /// checked after every round. `CRASH_ROUNDS` (default 10) and `CRASH_SEED` pick the run.
    @Suite(.timeLimit(.minutes(30)))
    struct CrashHarnessTests {
        @Test func sigkillUnderLoadRoundAfterRoundLosesNothingAndSendsNothingTwice() async throws {
            let environment = ProcessInfo.processInfo.environment
            try await run(
                rounds: Int(environment["CRASH_ROUNDS"] ?? "") ?? 10,
                seed: UInt64(environment["CRASH_SEED"] ?? "") ?? 2026_11_25)
        }

        /// The same with a paper broker that keeps 20 finished orders and rewrites its ledger every 50 lines
        /// at the least, so that kills land in rewrites, and starts read rewritten ledgers: a quarter of
        /// the rounds (at least three). An order received again is seen as one back in the ledger after a
        /// rewrite dropped it (`LedgerReceipts`), or refused by the broker as already received; the
        /// broker's positions must still be the journal's after every restart.
        @Test func sigkillWhileThePaperLedgerIsRewrittenLosesNothing() async throws {
            let environment = ProcessInfo.processInfo.environment
            try await run(
                rounds: max(3, (Int(environment["CRASH_ROUNDS"] ?? "") ?? 10) / 4),
                seed: (UInt64(environment["CRASH_SEED"] ?? "") ?? 2026_11_25) &+ 1,
                extraPaper: ["ledger_keep_finished: 20", "ledger_rewrite_lines: 50"])
        }

        func run(rounds: Int, seed: UInt64, extraPaper: [String] = []) async throws {
            var random = SeededRandom(state: seed)
            // Checkpoints every 40 events, so restarts load one and replay a tail.
            let daemon = try await startedDaemon(extraPaper: extraPaper, top: ["journal_checkpoint_every: 40"])
            let accepted = AcceptedOrders()
            let receipts = LedgerReceipts()
            for round in 1...rounds {
                let socketPath = daemon.socketPath
                let running = Mutex(0)
                let writing = Mutex(0)
                var threads: [Thread] = []
                for writer in 0..<3 {
                    running.withLock { $0 += 1 }
                    writing.withLock { $0 += 1 }
                    threads.append(
                        Thread {
                            defer {
                                writing.withLock { $0 -= 1 }
                                running.withLock { $0 -= 1 }
                                accepted.poke()
                            }
                            Self.write(round: round, writer: writer, socket: socketPath, accepted: accepted)
                        })
                }
                running.withLock { $0 += 1 }
                threads.append(
                    Thread {
                        defer {
                            running.withLock { $0 -= 1 }
                            accepted.poke()
                        }
                        Self.quote(socket: socketPath, accepted: accepted) { writing.withLock { $0 } > 0 }
                    })
                let target = accepted.all.count + random.next(20...150)
                threads.forEach { $0.start() }
                let reached = accepted.wait(for: target) { running.withLock { $0 } > 0 }
                #expect(reached, "round \(round): the writers stopped before \(target) orders:\n\(daemon.log)")
                #expect(await daemon.stop(signal: SIGKILL) == -SIGKILL)
                let seen = accepted.all
                // The writers end on their own once the socket is gone.
                let exited = accepted.wait(for: Int.max) { running.withLock { $0 } > 0 }
                #expect(!exited)

                try #require(
                    try await daemon.launch(["--config", daemon.folder + "/gatewayd.yaml"]),
                    "round \(round): restart failed:\n\(daemon.log)")
                try check(daemon, accepted: seen, receipts: receipts, round: round)
            }
            if !extraPaper.isEmpty {
                let ledger = (try? String(contentsOfFile: daemon.ledgerPath, encoding: .utf8)) ?? ""
                #expect(ledger.hasPrefix(#"{"book":"#), "the paper ledger was never rewritten")
            }
            #expect(await daemon.stop() == 0)
        }

        /// After a restart: every accepted order is there, the chain verifies with no gap, the state
        /// equals a fresh replay, and the broker received no order twice: none twice in its ledger, none
        /// back in it after a rewrite had dropped it, and none refused as one it already had.
        func check(_ daemon: Daemon, accepted: Set<String>, receipts: LedgerReceipts, round: Int) throws {
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 120)
            let orders =
                try client.request("orders", ["status": "all", "account": "paper"])["orders"] as? [[String: Any]] ?? []
            let known = Set(orders.compactMap { $0["client_order_id"] as? String })
            let lost = accepted.subtracting(known)
            #expect(lost.isEmpty, "round \(round): lost \(lost.count) accepted orders, e.g. \(lost.sorted().prefix(3))")
            let audit = try client.request("journal_verify", ["state": true])
            #expect(audit["verified"] as? Bool == true, "round \(round): \(audit)")
            let state = audit["state"] as? [String: Any] ?? [:]
            #expect(state["matches"] as? Bool == true, "round \(round): the state differs from a replay: \(state)")
            if round > 1 {
                #expect(state["restored_from_checkpoint"] != nil && !(state["restored_from_checkpoint"] is NSNull))
            }
            let sent = try Self.ordersReceivedByBroker(ledger: daemon.ledgerPath)
            let twice = sent.filter { $0.value > 1 }
            #expect(twice.isEmpty, "round \(round): sent twice: \(twice.keys.sorted().prefix(5))")
            let again = receipts.see(Set(sent.keys))
            #expect(
                again.isEmpty, "round \(round): received again after the ledger dropped it: \(again.sorted().prefix(5))"
            )
            let refused = orders.filter { order in
                (order["reject_reasons"] as? [String])?.contains { $0.contains("duplicate_order") } == true
            }
            #expect(
                refused.isEmpty,
                "round \(round): sent again and refused as already received: \(refused.compactMap { $0["order_id"] }.prefix(5))"
            )
            // The broker's open orders and positions are what the journal holds (the start's reconciliation
            // journaled what the kill left behind).
            let reconciled = try client.request("reconcile", ["account": "paper"])
            let paper = (reconciled["reconciliations"] as? [[String: Any]])?.first ?? [:]
            #expect(paper["positions_compared"] as? Bool == true, "round \(round): \(reconciled)")
            #expect((paper["differences"] as? [Any])?.isEmpty == true, "round \(round): \(reconciled)")
        }

        /// Order ids the paper broker recorded as received (new orders, replacements, bracket children), and
        /// those a rewritten ledger keeps.
        static func ordersReceivedByBroker(ledger: String) throws -> [String: Int] {
            var counts: [String: Int] = [:]
            let text = (try? String(contentsOfFile: ledger, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                else { continue }
                let order: Any? =
                    (entry["received"] as? [String: Any])?["_0"] ?? (entry["receivedChild"] as? [String: Any])?["_0"]
                    ?? (entry["replaced"] as? [String: Any])?["by"]
                    ?? ((entry["kept"] as? [String: Any])?["_0"] as? [String: Any])?["order"]
                if let id = (order as? [String: Any])?["order_id"] as? String { counts[id, default: 0] += 1 }
            }
            return counts
        }

        /// Submits market and resting limit orders until the daemon goes away.
        static func write(round: Int, writer: Int, socket: String, accepted: AcceptedOrders) {
            guard let client = try? ControlClient(socketPath: socket, timeoutSeconds: 60) else { return }
            for n in 0..<100_000 {
                let side = n % 2 == 0 ? "buy" : "sell"
                let terms = n % 3 == 0 ? #""type":"limit","limit_price":"99.9""# : #""type":"market""#
                let id = "r\(round)-w\(writer)-\(n)"
                let line =
                    #"{"id":\#(n),"op":"submit","account":"paper","symbol":"AAPL","side":"\#(side)","qty":"1",\#(terms),"client_order_id":"\#(id)"}"#
                guard (try? client.send(line)) != nil, let answer = try? client.readObject() else { return }
                if answer["ok"] as? Bool == true { accepted.add(id) }
            }
        }

        /// Moves the price up and down so that resting limits fill now and then: a quote for every few
        /// accepted orders, so quotes do not swamp the journal.
        static func quote(socket: String, accepted: AcceptedOrders, writersAlive: () -> Bool) {
            guard let client = try? ControlClient(socketPath: socket, timeoutSeconds: 60) else { return }
            for n in 0..<1_000_000 {
                guard accepted.wait(for: accepted.all.count + 3, alive: writersAlive) else { return }
                let (bid, ask) = n % 10 == 0 ? ("99.8", "99.85") : ("100", "100.1")
                let line = #"{"id":\#(n),"op":"quote","symbol":"AAPL","bid":"\#(bid)","ask":"\#(ask)"}"#
                guard (try? client.send(line)) != nil, (try? client.readObject()) != nil else { return }
            }
        }
    }
}
