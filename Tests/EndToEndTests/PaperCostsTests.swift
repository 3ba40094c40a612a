import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    /// The paper broker charges the account's commission model and the fees on sales, and every fill in
    /// the journal carries its cost to the cent.
    @Suite(.timeLimit(.minutes(2)))
    struct PaperCostsTests {
        @Test func fillsCarryTheCommissionAndTheFeesOnSales() async throws {
            let daemon = try await startedDaemon(extraPaper: [
                "commission: {model: per_share, per_share: \"0.005\", minimum: \"1\", maximum_pct: \"1\"}",
                "fees: {sec_fee_rate: \"0.0000278\", finra_taf_per_share: \"0.000166\", finra_taf_max: \"8.30\"}",
            ])
            let client = try ControlClient(socketPath: daemon.socketPath)
            _ = try client.request("quote", ["symbol": "AAPL", "bid": "49.99", "ask": "50"])
            for (id, side, qty) in [("c-buy", "buy", "1000"), ("c-sell", "sell", "1000")] {
                let answer = try client.request(
                    "submit",
                    [
                        "account": "paper", "client_order_id": id, "symbol": "AAPL", "side": side, "qty": qty,
                        "type": "market",
                    ])
                #expect(answer["ok"] as? Bool == true, "\(answer)")
            }
            // Wait for both fills through the event stream, from the journal's start.
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["fill"], "after_seq": 0])
            var commissions: [String] = []
            while commissions.count < 2, let event = try watcher.readObject() {
                commissions.append((event["fill"] as? [String: Any])?["commission"] as? String ?? "?")
            }
            // Buy: 1000 × 0.005 = 5.00. Sell: 5.00 + SEC 49 990 × 0.0000278 = 1.389722 → 1.39
            // + TAF 1000 × 0.000166 = 0.166 → 0.17.
            #expect(commissions == ["5", "6.56"])
            let account = try client.request("account", ["account": "paper"])
            #expect(account["ok"] as? Bool == true)
            #expect(await daemon.stop() == 0)
        }

        @Test func aHardToBorrowShortSaleIsRejectedByTheBrokerWithItsReason() async throws {
            let daemon = try await startedDaemon(extraPaper: ["hard_to_borrow: [GME]"])
            let client = try ControlClient(socketPath: daemon.socketPath)
            _ = try client.request("quote", ["symbol": "GME", "bid": "20", "ask": "20.01"])
            let accepted = try client.request(
                "submit",
                [
                    "account": "paper", "client_order_id": "htb-1", "symbol": "GME", "side": "sell_short", "qty": "10",
                    "type": "market",
                ])
            let orderID = try #require(accepted.order["order_id"] as? String, "\(accepted)")
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["order"], "after_seq": 0])
            var rejected: [String: Any]?
            while rejected == nil, let event = try watcher.readObject() {
                if event.order["order_id"] as? String == orderID, event.order["status"] as? String == "rejected" {
                    rejected = event.order
                }
            }
            let reasons = rejected?["reject_reasons"] as? [String] ?? []
            #expect(reasons.contains { $0.contains("GME is hard to borrow: short sales are refused") }, "\(reasons)")
            #expect(await daemon.stop() == 0)
        }

        @Test func aBadCostModelIsAProblemNamedInTheFile() async throws {
            let daemon = Daemon()
            try daemon.writeConfig(extraPaper: ["commission: {model: per_trade, per_share: \"1\"}"])
            let check = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", ["--check-config", daemon.configPath])
            #expect(check.status == 78)
            #expect(
                check.err.contains("paper.commission.model: 'per_trade' is not zero, per_share or per_contract"),
                "\(check.err)")
        }
    }
}
