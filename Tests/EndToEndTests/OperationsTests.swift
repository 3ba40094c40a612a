import ControlProtocol
import Foundation
import GatewayTesting
import Glibc
import Testing

/// One HTTP/1.0 GET on loopback; the status line and the body.
func httpGet(port: Int, path: String) async -> (status: String, body: String) {
    await offPool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return ("no connection", "") }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += buffer[..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        return (parts.first?.components(separatedBy: "\r\n").first ?? "", parts.dropFirst().joined())
    }
}

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct OperationsTests {
        static func submit(_ client: ControlClient, _ id: String, qty: String) throws -> [String: Any] {
            try client.request(
                "submit",
                [
                    "account": "paper", "symbol": "AAPL", "side": "buy", "type": "limit", "limit_price": "100",
                    "client_order_id": id, "qty": qty,
                ])
        }

        /// SIGHUP and the `reload` verb re-read the file: a tighter limit refuses the next order; a file
        /// with problems changes nothing and says every problem; restart-only changes are listed.
        @Test func reloadTightensALimitAndRefusesABadFile() async throws {
            let daemon = try await startedDaemon(risk: ["max_order_qty: \"100\""])
            let client = try ControlClient(socketPath: daemon.socketPath)
            #expect(try Self.submit(client, "r-1", qty: "50").order["status"] as? String == "accepted")

            try daemon.writeConfig(risk: ["max_order_qty: \"10\""])
            daemon.send(signal: SIGHUP)
            #expect(await daemon.waitForLog("reloaded"), "\(daemon.log)")
            let refused = try Self.submit(client, "r-2", qty: "50")
            #expect(refused.errorCode == "risk_rejected", "\(refused)")
            #expect(try Self.submit(client, "r-3", qty: "5").order["status"] as? String == "accepted")

            try daemon.writeConfig(
                risk: ["max_order_qty: \"1000\"", "max_ordr_notional: \"5\""], top: ["socket_mode: \"999\""])
            let bad = try client.request("reload")
            #expect(bad.errorCode == "invalid_config", "\(bad)")
            let problems = ((bad["error"] as? [String: Any])?["details"] as? [String: Any])?["problems"] as? [String]
            #expect(problems?.contains { $0.contains("unknown key 'max_ordr_notional'") } == true, "\(bad)")
            #expect(problems?.contains { $0.contains("socket_mode: '999'") } == true, "\(bad)")
            #expect(try Self.submit(client, "r-4", qty: "50").errorCode == "risk_rejected")

            try daemon.writeConfig(risk: ["max_order_qty: \"1000\""], top: ["journal_checkpoint_every: 5"])
            let good = try client.request("reload")
            #expect(good["applied"] as? [String] == ["paper: risk limits"], "\(good)")
            #expect(good["needs_restart"] as? [String] == ["journal_checkpoint_every"], "\(good)")
            #expect(try Self.submit(client, "r-5", qty: "50").order["status"] as? String == "accepted")

            let journal = try client.request("journal", ["kinds": ["config_reloaded"]])
            let events = journal["events"] as? [[String: Any]] ?? []
            #expect(events.map { $0["requested_by"] as? String ?? "" }.first == "SIGHUP")
            #expect(events.count == 2, "a refused file must not be journaled as applied: \(journal)")
            #expect(await daemon.stop() == 0)
            // The limits of the file apply again at the next start, with the journal replayed.
            try #require(try await daemon.launch(["--config", daemon.configPath]))
            let again = try ControlClient(socketPath: daemon.socketPath)
            #expect(try Self.submit(again, "r-6", qty: "500").order["status"] as? String == "accepted")
            #expect(await daemon.stop() == 0)
        }

        @Test func reloadReplacesAlertDestinations() async throws {
            let before = try await LoopbackHTTPServer()
            let after = try await LoopbackHTTPServer()
            func alerts(_ name: String, _ server: LoopbackHTTPServer) -> [String] {
                ["alerts:", "  - {name: \(name), kind: webhook, url: \"\(server.url("/hook"))\", events: [all]}"]
            }
            let daemon = try await startedDaemon(top: alerts("ops", before))
            _ = try #require(await AlertTests.request(before, startingWith: "GATEWAY started"))
            try daemon.writeConfig(top: alerts("desk", after))
            let client = try ControlClient(socketPath: daemon.socketPath)
            let reloaded = try client.request("reload")
            #expect(reloaded["applied"] as? [String] == ["alerts: 1 destination"], "\(reloaded)")
            _ = try client.request("halt", ["reason": "reload test"])
            let halt = try #require(await AlertTests.request(after, startingWith: "KILL SWITCH"))
            #expect(halt.json?["destination"] as? String == "desk")
            #expect(await daemon.stop() == 0)
            #expect(!AlertTests.texts(before).contains { $0.hasPrefix("KILL SWITCH") }, "\(AlertTests.texts(before))")
            await before.shutdown()
            await after.shutdown()
        }

        @Test func theFastJournalDurabilityIsChosenInTheFile() async throws {
            let daemon = try await startedDaemon(top: ["journal_durability: fast"])
            #expect(daemon.log.contains("journal.durability=fast"), "\(daemon.log)")
            let client = try ControlClient(socketPath: daemon.socketPath)
            #expect(try Self.submit(client, "fast-1", qty: "1").order["status"] as? String == "accepted")
            #expect(await daemon.stop() == 0)
            let bad = Daemon()
            try bad.writeConfig(top: ["journal_durability: sometimes"])
            let check = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", ["--check-config", bad.configPath])
            #expect(check.status == 78)
            #expect(check.err.contains("journal_durability: 'sometimes' is not durable or fast"), "\(check.err)")
        }

        @Test func metricsShowOrdersRejectionsLatencyAndState() async throws {
            let daemon = try await startedDaemon(risk: ["max_order_qty: \"10\""], top: ["metrics_listen: 127.0.0.1:0"])
            #expect(await daemon.waitForLog("metrics endpoint listening"))
            let line = try #require(
                daemon.log.split(separator: "\n").first { $0.contains("metrics endpoint listening") })
            let port = try #require(
                line.split(separator: " ").first { $0.hasPrefix("metrics.listen=") }
                    .flatMap { $0.split(separator: ":").last }.flatMap { Int($0) })
            let client = try ControlClient(socketPath: daemon.socketPath)
            #expect(try Self.submit(client, "m-1", qty: "5").order["status"] as? String == "accepted")
            #expect(try Self.submit(client, "m-2", qty: "50").errorCode == "risk_rejected")
            _ = try client.request("halt", ["account": "paper", "reason": "metrics test"])

            let page = await httpGet(port: port, path: "/metrics")
            #expect(page.status == "HTTP/1.0 200 OK", "\(page.status)")
            for expected in [
                #"gateway_orders_total{account="paper",status="accepted"} 1"#,
                #"gateway_orders_total{account="paper",status="rejected"} 1"#,
                #"gateway_risk_rejections_total{account="paper",check="max_order_qty"} 1"#,
                #"gateway_open_orders{account="paper"} 1"#,
                #"gateway_broker_connected{account="paper",broker="paper"} 1"#,
                #"gateway_trading_state{account="paper",state="halted"} 1"#,
                #"gateway_trading_state{account="paper",state="active"} 0"#,
                #"gateway_request_seconds_count{op="submit"} 2"#,
                "gateway_journal_commit_seconds_bucket{le=\"0.001\"}",
                "gateway_journal_commit_seconds_count",
            ] {
                #expect(page.body.contains(expected), "missing \(expected) in:\n\(page.body)")
            }
            #expect(await httpGet(port: port, path: "/").status == "HTTP/1.0 404 Not Found")
            #expect(await daemon.stop() == 0)
        }

        @Test func metricsCanBeOffAndABusyPortDoesNotStopTrading() async throws {
            let first = try await startedDaemon(top: ["metrics_listen: 127.0.0.1:0"])
            #expect(await first.waitForLog("metrics endpoint listening"))
            let line = try #require(
                first.log.split(separator: "\n").first { $0.contains("metrics endpoint listening") })
            let taken = try #require(line.split(separator: " ").first { $0.hasPrefix("metrics.listen=") })
            let second = try await startedDaemon(top: ["metrics_listen: \(taken.dropFirst("metrics.listen=".count))"])
            #expect(await second.waitForLog("metrics endpoint not started; trading goes on without it"))
            let client = try ControlClient(socketPath: second.socketPath)
            #expect(try Self.submit(client, "busy-1", qty: "1").order["status"] as? String == "accepted")
            #expect(await second.stop() == 0)
            #expect(await first.stop() == 0)
            let off = try await startedDaemon()
            #expect(!off.log.contains("metrics endpoint"))
            #expect(await off.stop() == 0)
        }
    }
}
