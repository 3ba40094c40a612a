import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct GatewayctlTests {
        @Test func aFirstTradeThroughGatewayctl() async throws {
            let daemon = try await startedDaemon()
            #expect(try await daemon.ctl(["quote", "AAPL", "--bid", "190", "--ask", "190.05"]).status == 0)
            let bought = try await daemon.ctl(["buy", "AAPL", "100", "--limit", "190.50", "--id", "first-1"])
            #expect(bought.status == 0, "\(bought.err)")
            #expect(bought.out.contains("first-1"))
            let again = try await daemon.ctl(["buy", "AAPL", "100", "--limit", "190.50", "--id", "first-1", "--json"])
            #expect(object(again.out)["duplicate"] as? Bool == true)
            // Wait for the fill through the event stream, then look at the position.
            let watched = try await daemon.ctl([
                "watch", "--after-seq", "0", "--kinds", "fill", "--count", "1", "--json",
            ])
            #expect(object(watched.out)["event"] as? String == "fill")
            let positions = try await daemon.ctl(["--json", "positions"])
            let list = object(positions.out)["positions"] as? [[String: Any]] ?? []
            #expect(list.first?["qty"] as? String == "100")
            #expect(list.first?["avg_price"] as? String == "190.05")
            let table = try await daemon.ctl(["positions"])
            #expect(table.out.contains("SYMBOL") && table.out.contains("AAPL"))
            let account = try await daemon.ctl(["account", "--json"])
            #expect((object(account.out)["account"] as? [String: Any])?["cash"] as? String == "80995")
            let journal = try await daemon.ctl(["journal", "--symbol", "AAPL", "--json"])
            let kinds = (object(journal.out)["events"] as? [[String: Any]] ?? []).compactMap { $0["event"] as? String }
            #expect(kinds.contains("fill") && kinds.contains("quote"))
            #expect(await daemon.stop() == 0)
        }

        @Test func aRoundTripShowsInTheReportAndItsChart() async throws {
            let daemon = try await startedDaemon()
            #expect(try await daemon.ctl(["quote", "AAPL", "--bid", "100", "--ask", "100"]).status == 0)
            #expect(try await daemon.ctl(["buy", "AAPL", "10", "--strategy", "swing"]).status == 0)
            #expect(try await daemon.ctl(["quote", "AAPL", "--bid", "110", "--ask", "110"]).status == 0)
            #expect(try await daemon.ctl(["sell", "AAPL", "10", "--strategy", "swing"]).status == 0)
            _ = try await daemon.ctl(["watch", "--after-seq", "0", "--kinds", "fill", "--count", "2"])
            let report = object(try await daemon.ctl(["report", "--strategy", "swing", "--json"]).out)
            #expect(report["trades"] as? Int == 1)
            #expect(report["net_pnl"] as? String == "100")
            #expect(report["win_rate"] as? String == "1")
            #expect((report["by_symbol"] as? [String: Any])?["AAPL"] != nil)
            let other = object(try await daemon.ctl(["report", "--strategy", "other", "--json"]).out)
            #expect(other["trades"] as? Int == 0)
            let chart = daemon.folder + "/equity.svg"
            let table = try await daemon.ctl(["report", "--chart", chart])
            #expect(table.status == 0 && table.out.contains("expectancy"))
            let svg = try String(contentsOfFile: chart, encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("polyline") && svg.contains("Drawdown"))
            let unknown = try await daemon.ctl(["report", "--account", "nobody"])
            #expect(unknown.status == 1 && unknown.err.contains("unknown_account"))
            #expect(await daemon.stop() == 0)
        }

        @Test func exitCodesSayWhatHappened() async throws {
            let daemon = try await startedDaemon()
            let refused = try await daemon.ctl(["cancel", "no-such-order"])
            #expect(refused.status == 1)
            #expect(refused.err.contains("unknown_order"))
            let bad = try await daemon.ctl(["buy", "AAPL", "-5"])
            #expect(bad.status == 2 || bad.status == 1)
            let zero = try await daemon.ctl(["buy", "AAPL", "0"])
            #expect(zero.status == 1)
            #expect(zero.err.contains("qty"))
            #expect(try await daemon.ctl(["buy"]).status == 2)
            #expect(await daemon.stop() == 0)
            let gone = try await daemon.ctl(["status"])
            #expect(gone.status == 3)
            #expect(gone.err.contains("gatewayd"))
        }

        @Test func aBadConfigurationIsReportedWhole() async throws {
            let daemon = Daemon()
            let path = daemon.folder + "/bad.yaml"
            try """
            socket: \(daemon.socketPath)
            journal: \(daemon.journalPath)
            log_levle: info
            accounts:
              - name: "bad name"
                broker: moon
                starting_cash: "-5"
            """.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", ["--config", path])
            #expect(result.status == 78)
            for problem in ["log_levle", "bad name", "moon", "starting_cash"] {
                #expect(result.err.contains(problem), "missing \(problem) in \(result.err)")
            }
        }
    }
}
