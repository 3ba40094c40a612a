import ControlProtocol
import Foundation
import GatewayTesting
import Glibc
import Testing

extension EndToEnd {
    /// Logs as journald entries: `$GATEWAYD_JOURNAL_SOCKET` points the daemon at a datagram socket the
    /// test made, standing in for `/run/systemd/journal/socket` (which the daemon uses when
    /// `$JOURNAL_STREAM` says stderr is the journal). Every entry carries PRIORITY and
    /// SYSLOG_IDENTIFIER; an order's entry carries ACCOUNT, BROKER, ORDER_ID and CLIENT_ORDER_ID; no
    /// entry carries a credential's value; nothing is left for stderr.
    @Suite(.timeLimit(.minutes(2)))
    struct JournaldTests {
        static let secret = "journald-test-secret-never-logged"

        @Test func entriesCarrySearchableFieldsAndNoSecret() async throws {
            let webhook = try await LoopbackHTTPServer()
            let daemon = Daemon()
            let journald = try DatagramSocket(path: daemon.folder + "/journal.sock")
            let credentials = daemon.folder + "/credentials"
            try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
            try Self.secret.write(toFile: credentials + "/hook-key", atomically: true, encoding: .utf8)
            try daemon.writeConfig(
                risk: ["max_order_qty: \"10\""],
                top: [
                    "credentials_dir: \(credentials)", "alerts:", "  - name: ops", "    kind: webhook",
                    "    url: \(webhook.url("/hook"))", "    secret_credential: hook-key", "    events: [all]",
                ])
            try #require(
                try await daemon.launch(
                    ["--config", daemon.configPath], environment: ["GATEWAYD_JOURNAL_SOCKET": journald.path],
                    until: nil))
            var entries: [String] = []
            func until(_ message: String) async -> String? {
                while let entry = await journald.receive() {
                    entries.append(entry)
                    if entry.contains("MESSAGE=\(message)\n") { return entry }
                }
                return nil
            }
            let listening = try #require(await until("listening"), "entries so far: \(entries)")
            #expect(listening.contains("PRIORITY=6\n"))
            #expect(listening.contains("SYSLOG_IDENTIFIER=gatewayd\n"))
            #expect(listening.contains("SOCKET=\(daemon.socketPath)\n"))

            let client = try ControlClient(socketPath: daemon.socketPath)
            let refused = try client.request(
                "submit",
                [
                    "account": "paper", "client_order_id": "jd-1", "symbol": "AAPL", "side": "buy", "qty": "50",
                    "type": "market",
                ])
            #expect(refused.errorCode == "risk_rejected", "\(refused)")
            let orders = try client.request("orders", ["status": "all"])["orders"] as? [[String: Any]] ?? []
            let orderID = try #require(orders.first?["order_id"] as? String, "\(orders)")
            let rejected = try #require(await until("order rejected"))
            for field in [
                "PRIORITY=5", "ACCOUNT=paper", "BROKER=paper", "CLIENT_ORDER_ID=jd-1", "ORDER_ID=\(orderID)",
                "SYMBOL=AAPL",
            ] {
                #expect(rejected.contains(field + "\n"), "no \(field) in \(rejected)")
            }
            let status = try client.request("status")
            #expect(await daemon.stop() == 0)
            _ = try #require(await until("gatewayd stopped"))
            for entry in entries { #expect(!entry.contains(Self.secret)) }
            #expect(!"\(status)".contains(Self.secret))
            #expect(!daemon.log.contains(Self.secret))
            #expect(!daemon.log.contains("listening"), "a line went to stderr while the journal took entries")
            let journal = try String(
                decoding: Data(contentsOf: URL(fileURLWithPath: daemon.journalPath)), as: UTF8.self)
            #expect(!journal.contains(Self.secret))
            await webhook.shutdown()
        }
    }
}
