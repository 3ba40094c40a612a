import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    /// Orders each within the gateway's per-order ceilings add up past what an account's 64-bit totals
    /// hold: the paper broker's cash after ten sales of a trillion each. That trapped on the engine's
    /// thread, stopping the daemon, and again at every start as the paper broker read its ledger back. The
    /// totals now saturate, the symbol's ceiling refuses the order that would go past it with a reason,
    /// and the daemon keeps running and starts again.
    @Suite(.timeLimit(.minutes(2)))
    struct AccountRangeTests {
        @Test func ordersThatAddUpPastTheRangeAreRefusedAndTheDaemonRestarts() async throws {
            let daemon = try await startedDaemon()
            let client = try ControlClient(socketPath: daemon.socketPath)
            let quote = try client.request(
                "quote",
                ["symbol": "BIG", "bid": "999", "ask": "1000", "bid_size": "10000000000", "ask_size": "10000000000"])
            #expect(quote["ok"] as? Bool == true, "\(quote)")
            var answers: [[String: Any]] = []
            for n in 0..<11 {
                answers.append(
                    try client.request(
                        "submit",
                        [
                            "account": "paper", "client_order_id": "big-\(n)", "symbol": "BIG", "side": "sell",
                            "qty": "999000000", "type": "market",
                        ]))
            }
            #expect(answers.prefix(10).allSatisfy { $0["ok"] as? Bool == true }, "\(answers.prefix(10))")
            let refused = answers[10]["error"] as? [String: Any] ?? [:]
            #expect(refused["code"] as? String == "bad_request", "\(answers[10])")
            #expect(
                (refused["message"] as? String ?? "").contains(
                    "BIG would come to -10989000000 in the account with its position and working orders, over the "
                        + "gateway's ceiling of 10000000000 for one symbol"),
                "\(refused)")
            // Every accepted sale filled: the position is the ten of them.
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["fill"], "after_seq": 0])
            var fills = 0
            while fills < 10, try watcher.readObject() != nil { fills += 1 }
            let positions = try client.request("positions", ["account": "paper"])
            #expect("\(positions)".contains("-9990000000"), "\(positions)")

            #expect(await daemon.stop() == 0)
            try #require(
                try await daemon.launch(["--config", daemon.configPath]), "restart failed:\n\(daemon.log)")
            let again = try ControlClient(socketPath: daemon.socketPath)
            let status = try again.request("status", [:])
            #expect(status["ok"] as? Bool == true, "\(status)")
            #expect("\(try again.request("positions", ["account": "paper"]))".contains("-9990000000"))
            #expect(await daemon.stop() == 0)
        }
    }
}
