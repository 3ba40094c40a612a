import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    /// One scripted session through the real gatewayd against the paper broker: fills bounded by the
    /// quoted size and moved by slippage, a trailing stop following the market, and an option spread filled
    /// whole at its net — every fill exact in the journal.
    @Suite(.timeLimit(.minutes(2)))
    struct PaperMarketTests {
        static func fills(_ watcher: ControlClient, _ count: Int) throws -> [String] {
            var seen: [String] = []
            while seen.count < count, let event = try watcher.readObject() {
                let fill = event["fill"] as? [String: Any] ?? [:]
                seen.append(
                    "\(fill["symbol"] ?? "?") \(fill["side"] ?? "?") \(fill["qty"] ?? "?")@\(fill["price"] ?? "?")")
            }
            return seen
        }

        @Test func aScriptedSessionFillsAsTheQuotesSay() async throws {
            let daemon = try await startedDaemon(extraPaper: ["slippage: {bps: \"10\"}"])
            let client = try ControlClient(socketPath: daemon.socketPath)
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["fill"], "after_seq": 0])
            func quote(_ fields: [String: Any]) throws {
                let answer = try client.request("quote", fields)
                #expect(answer["ok"] as? Bool == true, "\(answer)")
            }
            func submit(_ fields: [String: Any]) throws -> String {
                let answer = try client.request("submit", fields.merging(["account": "paper"]) { $1 })
                return try #require(answer.order["order_id"] as? String, "\(answer)")
            }

            // 30 offered at 100: the market buy of 50 takes them, 10 bps over; the next offer fills the rest.
            try quote(["symbol": "AAPL", "bid": "99.9", "ask": "100", "bid_size": "500", "ask_size": "30"])
            let buy = try submit(["symbol": "AAPL", "side": "buy", "qty": "50", "type": "market"])
            #expect(try Self.fills(watcher, 1) == ["AAPL buy 30@100.1"])
            try quote(["symbol": "AAPL", "bid": "100", "ask": "100.2", "ask_size": "100"])
            #expect(try Self.fills(watcher, 1) == ["AAPL buy 20@100.3002"])
            let orders = try client.request("orders", ["status": "all"])["orders"] as? [[String: Any]] ?? []
            let bought = try #require(orders.first { $0["order_id"] as? String == buy })
            #expect(bought["status"] as? String == "filled" && bought["avg_fill_price"] as? String == "100.18008")

            // A trailing stop 1 below the high: the high goes to 103, the market comes back to 102.
            _ = try submit([
                "symbol": "AAPL", "side": "sell", "qty": "50", "type": "trailing_stop", "trail_price": "1",
                "tif": "gtc",
            ])
            try quote(["symbol": "AAPL", "bid": "102.9", "ask": "103.1", "last": "103", "bid_size": "500"])
            try quote(["symbol": "AAPL", "bid": "102.4", "ask": "102.6", "last": "102.5", "bid_size": "500"])
            try quote(["symbol": "AAPL", "bid": "101.9", "ask": "102.1", "last": "102", "bid_size": "500"])
            // Sold at the bid, 101.9, less 10 bps (0.1019).
            #expect(try Self.fills(watcher, 1) == ["AAPL sell 50@101.7981"])

            // A put credit spread at 1.25: both legs quoted at a 1.30 credit fill it whole, leg by leg.
            let high = "AAPL  261218P00190000"
            let low = "AAPL  261218P00180000"
            _ = try submit([
                "qty": "2", "type": "limit", "limit_price": "-1.25", "tif": "day",
                "legs": [["symbol": high, "side": "sell_to_open"], ["symbol": low, "side": "buy_to_open"]],
            ])
            try quote(["symbol": high, "bid": "2", "ask": "2.1"])
            try quote(["symbol": low, "bid": "0.6", "ask": "0.7"])
            #expect(try Self.fills(watcher, 2) == ["\(high) sell_to_open 2@2", "\(low) buy_to_open 2@0.7"])
            let positions =
                try client.request("positions", ["account": "paper"])["positions"] as? [[String: Any]] ?? []
            // AAPL is flat again, its round trip realized: (101.7981 − 100.18008) × 50.
            #expect(
                Set(positions.map { "\($0["symbol"] ?? "") \($0["qty"] ?? "")" })
                    == ["AAPL 0", "\(high) -2", "\(low) 2"], "\(positions)")
            #expect(positions.first { $0["symbol"] as? String == "AAPL" }?["realized_pnl"] as? String == "80.901")
            #expect(await daemon.stop() == 0)
        }
    }
}
