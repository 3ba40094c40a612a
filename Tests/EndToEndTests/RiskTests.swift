import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct RiskTests {
        @Test func overLimitOrdersAreRejectedWithEveryCheckJournaledAndNeverSent() async throws {
            let daemon = try await startedDaemon(risk: [
                "max_order_qty: \"100\"", "max_order_notional: \"10000\"", "price_collar_pct: \"5\"",
                "restricted_symbols: [GME]",
            ])
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(client, #"{"id":1,"op":"quote","symbol":"AAPL","last":"100"}"#)
            let answer = try exchange(
                client,
                #"{"id":2,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"101","type":"limit","limit_price":"106","client_order_id":"big-1"}"#
            )
            #expect(answer.errorCode == "risk_rejected")
            let checks = ((answer["error"] as? [String: Any])?["details"] as? [[String: Any]] ?? []).compactMap {
                $0["check"] as? String
            }
            #expect(checks == ["max_order_qty", "max_order_notional", "price_collar"])
            let restricted = try exchange(
                client,
                #"{"id":3,"op":"submit","account":"paper","symbol":"GME","side":"buy","qty":"1","type":"market"}"#)
            #expect(restricted.errorCode == "risk_rejected")
            // Within every limit, the order goes through.
            let fine = try exchange(
                client,
                #"{"id":4,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"100","type":"limit","limit_price":"99"}"#
            )
            #expect(fine["ok"] as? Bool == true)
            // Once the broker has acknowledged it, a replace that breaks a limit is refused and the order
            // keeps working on its old terms.
            let watcher = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(watcher, #"{"id":1,"op":"subscribe","after_seq":0,"kinds":["order"]}"#)
            while let event = try watcher.readObject() {
                if event.order["order_id"] as? String == fine.order["order_id"] as? String,
                    event.order["status"] as? String == "acknowledged"
                {
                    break
                }
            }
            let bigger = try exchange(
                client,
                #"{"id":41,"op":"replace","account":"paper","order_id":"\#(fine.order["order_id"] as? String ?? "")","qty":"101"}"#
            )
            #expect(bigger.errorCode == "risk_rejected")
            let smaller = try exchange(
                client,
                #"{"id":42,"op":"replace","account":"paper","order_id":"\#(fine.order["order_id"] as? String ?? "")","qty":"90"}"#
            )
            #expect(smaller["ok"] as? Bool == true, "\(smaller)")
            // The rejection is in the journal with its reasons, and a retry of the same id is that order.
            let journal = try exchange(client, #"{"id":5,"op":"journal","kinds":["order"]}"#)
            let rejected = (journal["events"] as? [[String: Any]] ?? []).first {
                $0.order["client_order_id"] as? String == "big-1"
            }
            #expect(rejected?.order["status"] as? String == "rejected")
            #expect((rejected?.order["reject_reasons"] as? [String])?.count == 3)
            let retry = try exchange(
                client,
                #"{"id":6,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"1","client_order_id":"big-1"}"#
            )
            #expect(retry["duplicate"] as? Bool == true)
            #expect(retry.order["status"] as? String == "rejected")
            #expect(await daemon.stop() == 0)
            let ledger = (try? String(contentsOfFile: daemon.ledgerPath, encoding: .utf8)) ?? ""
            #expect(!ledger.contains("big-1") && !ledger.contains("GME"))
        }

        @Test func aSignalIsSizedAndSentThroughTheDaemon() async throws {
            let daemon = try await startedDaemon(sizing: ["method: fixed_fractional", "risk_fraction: \"0.01\""])
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(client, #"{"id":1,"op":"quote","symbol":"AAPL","bid":"190","ask":"190.05"}"#)
            let line =
                #"{"id":2,"op":"signal","account":"paper","signal_id":"screener-20261125-AAPL-long","strategy":"turtle20","symbol":"AAPL","side":"buy","entry":{"type":"limit","price":"190.00"},"stop_price":"185.00","take_profit":"205.00"}"#
            let answer = try exchange(client, line)
            #expect(answer["ok"] as? Bool == true, "\(answer)")
            let orders = answer["orders"] as? [[String: Any]] ?? []
            #expect(orders.first?["qty"] as? String == "200")
            #expect((answer["sizing"] as? [String: Any])?["risk_money"] as? String == "1000")
            #expect(answer["bracket"] == nil)
            let ids = orders.compactMap { $0["order_id"] as? String }
            #expect(ids.count == 3)
            #expect(orders.dropFirst().allSatisfy { $0["parent_order_id"] as? String == ids.first })
            let again = try exchange(client, line.replacingOccurrences(of: #""id":2"#, with: #""id":3"#))
            #expect(again["duplicate"] as? Bool == true)
            // The entry fills, then the stop: the target is cancelled by the broker in the same step.
            let watcher = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(watcher, #"{"id":1,"op":"subscribe","after_seq":0,"kinds":["order"]}"#)
            _ = try exchange(client, #"{"id":4,"op":"quote","symbol":"AAPL","bid":"189.85","ask":"189.90"}"#)
            _ = try exchange(
                client, #"{"id":5,"op":"quote","symbol":"AAPL","bid":"184.90","ask":"185.00","last":"184.95"}"#)
            var final: [String: String] = [:]
            while final[ids[1]] != "filled" || final[ids[2]] != "canceled", let event = try watcher.readObject() {
                if let id = event.order["order_id"] as? String, let status = event.order["status"] as? String {
                    final[id] = status
                }
            }
            #expect(final[ids[0]] == "filled")
            let positions = try exchange(client, #"{"id":6,"op":"positions","account":"paper"}"#)
            #expect((positions["positions"] as? [[String: Any]])?.first?["qty"] as? String == "0")
            #expect(await daemon.stop() == 0)
        }

        @Test func aConfigurationWithImpossibleLimitsIsRefusedWhole() async throws {
            let daemon = Daemon()
            let path = daemon.folder + "/risky.yaml"
            try """
            socket: \(daemon.socketPath)
            journal: \(daemon.journalPath)
            accounts:
              - name: paper
                broker: paper
                risk:
                  max_order_qty: "-1"
                  max_open_orderz: 3
                  allowed_order_types: [market, iceberg]
                  restricted_symbols: ["$$$"]
                session:
                  time_zone: Mars/Olympus
                strategies:
                  scalper:
                    risk:
                      max_order_qtyy: "1"
            """.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", ["--config", path])
            #expect(result.status == 78)
            let expected = [
                "max_order_qty", "max_open_orderz", "iceberg", "$$$",
                "strategies.scalper.risk: unknown key 'max_order_qtyy'", "Mars/Olympus",
            ]
            for problem in expected {
                #expect(result.err.contains(problem), "missing \(problem) in \(result.err)")
            }
        }
    }
}
