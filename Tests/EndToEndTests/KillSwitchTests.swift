import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct KillSwitchTests {
        @Test func haltWithCancelOpenThroughGatewayctlSurvivesARestart() async throws {
            let daemon = try await startedDaemon()
            _ = try await daemon.ctl(["quote", "AAPL", "--last", "100"])
            let resting = try await daemon.ctl(["buy", "AAPL", "5", "--limit", "90", "--json"])
            let orderID = object(resting.out).order["order_id"] as? String ?? ""
            let halted = try await daemon.ctl(["halt", "--cancel-open", "--reason", "end of day", "--json"])
            #expect(halted.status == 0, "\(halted.err)")
            let change = object(halted.out)["trading_state"] as? [String: Any] ?? [:]
            #expect(change["state"] as? String == "halted")
            #expect(change["canceled"] as? [String] == [orderID])
            let refused = try await daemon.ctl(["buy", "AAPL", "1"])
            #expect(refused.status == 1 && refused.err.contains("halted"))
            #expect(await daemon.stop() == 0)

            try #require(try await daemon.launch(["--config", daemon.folder + "/gatewayd.yaml"]), "\(daemon.log)")
            let status = try await daemon.ctl(["status", "--json"])
            let accounts = object(status.out)["accounts"] as? [[String: Any]] ?? []
            #expect(accounts.first?["trading_state"] as? String == "halted")
            let journal = try await daemon.ctl(["journal", "--kinds", "trading_state", "--json"])
            #expect((object(journal.out)["events"] as? [[String: Any]])?.count == 1)
            #expect(try await daemon.ctl(["resume"]).status == 0)
            #expect(try await daemon.ctl(["buy", "AAPL", "1"]).status == 0)
            #expect(await daemon.stop() == 0)
        }

        @Test func sigusr1HaltsEverythingAndCancelsOpenOrders() async throws {
            let daemon = try await startedDaemon()
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(client, #"{"id":1,"op":"quote","symbol":"AAPL","last":"100"}"#)
            let resting = try exchange(
                client,
                #"{"id":2,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"1","type":"limit","limit_price":"90"}"#
            )
            let orderID = resting.order["order_id"] as? String ?? ""
            _ = try exchange(client, #"{"id":3,"op":"subscribe","kinds":["order","trading_state"]}"#)
            daemon.send(signal: SIGUSR1)
            var sawHalt = false
            var sawCancel = false
            while !(sawHalt && sawCancel), let event = try client.readObject() {
                if event["event"] as? String == "trading_state", event["state"] as? String == "halted" {
                    sawHalt = true
                }
                if event.order["order_id"] as? String == orderID, event.order["status"] as? String == "canceled" {
                    sawCancel = true
                }
            }
            #expect(sawHalt && sawCancel)
            #expect(await daemon.stop() == 0)
        }
    }
}
