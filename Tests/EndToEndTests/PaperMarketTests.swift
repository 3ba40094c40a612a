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

extension EndToEnd {
    /// The paper market's hours, replay and option of extended hours, configured in gatewayd.
    @Suite(.timeLimit(.minutes(2)))
    struct PaperReplayAndHoursTests {
        @Test func aReplayedFilesPricesReachTheBrokerAndAnOrderFillsAtTheLast() async throws {
            let folder = TestFolders.make("replay")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try """
            Date,Time,Open,High,Low,Close,Volume
            2026-12-02,09:30,100,102,99,101,12000
            2026-12-02,09:31,101,101.5,98,98.5,8000
            2026-12-02,09:32,98.5,99.25,98.25,99.125,5000
            """.write(toFile: folder + "/AAPL.csv", atomically: true, encoding: .utf8)
            let daemon = Daemon()
            try daemon.writeConfig(extraPaper: ["replay: {file: \(folder)/AAPL.csv, speed: \"0\"}"])
            let started = try await daemon.launch(["--config", daemon.configPath], until: "replay finished")
            try #require(started, "\(daemon.log)")
            #expect(daemon.log.contains("replay.played=12"), "\(daemon.log)")
            let client = try ControlClient(socketPath: daemon.socketPath)
            let answer = try client.request(
                "submit", ["account": "paper", "symbol": "AAPL", "side": "buy", "qty": "10", "type": "market"])
            let id = try #require(answer.order["order_id"] as? String, "\(answer)")
            // The last bar closed at 99.125: its last quote is 99.125 on both sides.
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["fill"], "after_seq": 0])
            #expect(try PaperMarketTests.fills(watcher, 1) == ["AAPL buy 10@99.125"])
            let orders = try client.request("orders", ["status": "all"])["orders"] as? [[String: Any]] ?? []
            #expect(orders.first { $0["order_id"] as? String == id }?["status"] as? String == "filled")
            #expect(await daemon.stop() == 0)
        }

        @Test func aClosedMarketRefusesImmediateOrdersAndOthersWait() async throws {
            // A calendar closed today, whatever the hour: yesterday, today and tomorrow are holidays.
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withFullDate]
            let dates = [-86_400.0, 0, 86_400].map { format.string(from: Date().addingTimeInterval($0)) }
            let daemon = try await startedDaemon(extraPaper: [
                "calendar: {time_zone: UTC, holidays: [\(dates.joined(separator: ", "))]}"
            ])
            let client = try ControlClient(socketPath: daemon.socketPath)
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["order"], "after_seq": 0])
            func next(_ id: String, _ status: String) throws -> [String: Any]? {
                while let event = try watcher.readObject() {
                    if event.order["order_id"] as? String == id && event.order["status"] as? String == status {
                        return event
                    }
                }
                return nil
            }
            _ = try client.request("quote", ["symbol": "AAPL", "bid": "100", "ask": "100.1"])
            let ioc = try client.request(
                "submit",
                ["account": "paper", "symbol": "AAPL", "side": "buy", "qty": "1", "type": "market", "tif": "ioc"])
            let iocID = try #require(ioc.order["order_id"] as? String, "\(ioc)")
            // The broker refuses it for the closed market, saying why.
            let rejected = try #require(try next(iocID, "rejected"))
            #expect(
                "\(rejected)".contains("market closed: ioc orders are taken only in the session (09:30–16:00 UTC)"),
                "\(rejected)")
            // A day order is taken and waits for a session.
            let day1 = try client.request(
                "submit", ["account": "paper", "symbol": "AAPL", "side": "buy", "qty": "1", "type": "market"])
            let id = try #require(day1.order["order_id"] as? String, "\(day1)")
            let acknowledged = try #require(try next(id, "acknowledged"))
            #expect(acknowledged.order["filled_qty"] as? String == "0")

            let extended = try client.request(
                "submit",
                [
                    "account": "paper", "symbol": "AAPL", "side": "buy", "qty": "1", "type": "market",
                    "extended_hours": true,
                ])
            #expect(
                (extended["error"] as? [String: Any])?["message"] as? String
                    == "extended_hours is taken only on limit orders with tif day or gtc", "\(extended)")
            #expect(await daemon.stop() == 0)
        }

        @Test func aBadReplayFileOrCalendarIsRefusedByName() async throws {
            let daemon = Daemon()
            let csv = daemon.folder + "/SPY.csv"
            try "date,open,high,low,close\n2026-12-02,1,2,0.5,1\n2026-12-03,1,2,x,1\n".write(
                toFile: csv, atomically: true, encoding: .utf8)
            let bad = daemon.folder + "/bad.yaml"
            try """
            accounts:
              - name: paper
                broker: paper
                paper:
                  replay: \(csv)
                  calendar: {open: "25:00", time_zone: Mars/Olympus}
                  queue_fill_probability: "1.5"
                  latency: {ack_ms: "-1"}
                  ledger_keep_finished: 0
                  ledger_rewrite_lines: many
            """.write(toFile: bad, atomically: true, encoding: .utf8)
            let refused = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", ["--check-config", bad])
            #expect(refused.status == 78)
            for problem in [
                "accounts[0].paper.calendar.open: '25:00' is not a time of day such as 09:30",
                "accounts[0].paper.calendar.time_zone: 'Mars/Olympus' is not a time zone name",
                "accounts[0].paper.queue_fill_probability: '1.5' is not a chance from 0 to 1",
                "accounts[0].paper.latency.ack_ms: '-1' is not a decimal of zero or more",
                "accounts[0].paper.ledger_keep_finished: '0' is not a whole number of one or more",
                "accounts[0].paper.ledger_rewrite_lines: 'many' is not a whole number of one or more",
            ] {
                #expect(refused.err.contains(problem), "\(refused.err)")
            }
            try """
            accounts:
              - name: paper
                broker: paper
                paper: {replay: \(csv)}
            """.write(toFile: bad, atomically: true, encoding: .utf8)
            let badFile = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", ["--check-config", bad])
            #expect(badFile.status == 78)
            #expect(
                badFile.err.contains("accounts[paper].paper.replay: \(csv): line 3: low 'x' is not a price above 0"),
                "\(badFile.err)")
        }
    }
}
