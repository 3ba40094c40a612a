import ControlProtocol
import Crypto
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct AlertTests {
        static let token = "424242:TOKEN-never-logged"
        static let hookKey = "hook-signing-key-never-logged"

        /// Credential files in the daemon's folder and the config lines that use them.
        static func alertConfig(
            _ daemon: Daemon, webhook: LoopbackHTTPServer, telegram: LoopbackHTTPServer, queue: Int = 1_000
        )
            throws -> [String]
        {
            let credentials = daemon.folder + "/credentials"
            try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
            try (token + "\n").write(toFile: credentials + "/tg-token", atomically: true, encoding: .utf8)
            try hookKey.write(toFile: credentials + "/hook-key", atomically: true, encoding: .utf8)
            return [
                "credentials_dir: \(credentials)",
                "alerts:",
                "  - name: ops",
                "    kind: webhook",
                "    url: \(webhook.url("/hook"))",
                "    secret_credential: hook-key",
                "    queue_size: \(queue)",
                "    events: [all]",
                "  - name: phone",
                "    kind: telegram",
                "    token_credential: tg-token",
                "    chat_id: \"42\"",
                "    api_url: \(telegram.url(""))",
                "    events: [fill, kill_switch]",
            ]
        }

        static func texts(_ server: LoopbackHTTPServer) -> [String] {
            server.requests.compactMap { $0.json?["text"] as? String }
        }

        /// Waits until a request to `server` has a text starting with `prefix`; returns that request.
        static func request(_ server: LoopbackHTTPServer, startingWith prefix: String) async -> LoopbackHTTPServer
            .Request?
        {
            var seen = 0
            while true {
                let requests = await server.requests(atLeast: seen + 1)
                if let match = requests.first(where: { ($0.json?["text"] as? String)?.hasPrefix(prefix) == true }) {
                    return match
                }
                seen = requests.count
            }
        }

        @Test func fillsKillSwitchTestsAndStopReachThePhoneAndTheWebhook() async throws {
            let webhook = try await LoopbackHTTPServer()
            let telegram = try await LoopbackHTTPServer()
            let daemon = Daemon()
            let top = try Self.alertConfig(daemon, webhook: webhook, telegram: telegram)
            try #require(try await daemon.start(top: top), "gatewayd did not start:\n\(daemon.log)")

            let started = try #require(await Self.request(webhook, startingWith: "GATEWAY started"))
            #expect(started.json?["category"] as? String == "daemon")

            _ = try await daemon.ctl(["quote", "AAPL", "--bid", "190", "--ask", "190.05"])
            let bought = try await daemon.ctl(["buy", "AAPL", "100", "--limit", "190.50"])
            #expect(bought.status == 0, "\(bought.err)")
            let fill = try #require(await Self.request(webhook, startingWith: "FILLED"))
            #expect(fill.json?["text"] as? String == "FILLED buy 100 AAPL @ 190.05 · paper")
            #expect(
                fill.headers["x-gateway-signature"]
                    == "sha256=" + hmacHex(fill.body, key: Self.hookKey))
            let event = fill.json?["event"] as? [String: Any]
            #expect(event?["event"] as? String == "fill")
            let phoneFill = try #require(await Self.request(telegram, startingWith: "FILLED"))
            #expect(phoneFill.uri == "/bot\(Self.token)/sendMessage")
            #expect(
                phoneFill.text
                    == #"{"chat_id":"42","disable_web_page_preview":true,"text":"FILLED buy 100 AAPL @ 190.05 · paper"}"#
            )

            #expect(try await daemon.ctl(["halt", "--reason", "lunch"]).status == 0)
            let halt = try #require(await Self.request(telegram, startingWith: "KILL SWITCH"))
            #expect(halt.json?["text"] as? String == "KILL SWITCH gateway is now halted: lunch")
            #expect(await Self.request(webhook, startingWith: "KILL SWITCH") != nil)

            let test = try await daemon.ctl(["alert", "test"])
            #expect(test.status == 0, "\(test.err)")
            #expect(test.out == "ops (webhook): delivered, HTTP 200\nphone (telegram): delivered, HTTP 200\n")
            #expect(await Self.request(telegram, startingWith: "TEST alert from gatewayd") != nil)
            let one = try await daemon.ctl(["alert", "test", "phone", "--json"])
            let results = object(one.out)["results"] as? [[String: Any]] ?? []
            #expect(results.map { $0["destination"] as? String } == ["phone"])
            let unknown = try await daemon.ctl(["alert", "test", "pager"])
            #expect(unknown.status == 1)
            #expect(unknown.err.contains("no alert destination named 'pager' (configured: ops, phone)"))

            let status = try await daemon.ctl(["status", "--json"])
            #expect(await daemon.stop() == 0)
            let stopping = try #require(await Self.request(webhook, startingWith: "GATEWAY stopping"))
            #expect(stopping.json?["category"] as? String == "daemon")

            // The secrets are nowhere but in their files and on the wire to their own service.
            let journal = try String(
                decoding: Data(contentsOf: URL(fileURLWithPath: daemon.journalPath)), as: UTF8.self)
            for secret in [Self.token, Self.hookKey, "TOKEN-never"] {
                #expect(!daemon.log.contains(secret))
                #expect(!journal.contains(secret))
                #expect(!status.out.contains(secret))
                #expect(!test.out.contains(secret) && !test.err.contains(secret))
            }
            await webhook.shutdown()
            await telegram.shutdown()
        }

        @Test func aDestinationThatHangsDoesNotHoldUpOrdersAndItsDropsAreJournaled() async throws {
            let webhook = try await LoopbackHTTPServer()
            let telegram = try await LoopbackHTTPServer()
            webhook.hold()
            telegram.hold()
            let daemon = Daemon()
            let top = try Self.alertConfig(daemon, webhook: webhook, telegram: telegram, queue: 5)
            try #require(try await daemon.start(top: top), "gatewayd did not start:\n\(daemon.log)")
            await webhook.requests(atLeast: 1)  // the start message, never answered
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(client, #"{"id":0,"op":"quote","symbol":"AAPL","bid":"100","ask":"100.05"}"#)
            for n in 1...40 {
                let answer = try exchange(
                    client,
                    #"{"id":\#(n),"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"1","type":"market"}"#
                )
                #expect(answer["ok"] as? Bool == true, "order \(n): \(answer)")
            }
            // An acknowledgement can come before its fill: wait for the 40 fills, then read the position.
            let watcher = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(watcher, #"{"id":1,"op":"subscribe","after_seq":0,"kinds":["fill"]}"#)
            var fills = 0
            while fills < 40, try watcher.readObject() != nil { fills += 1 }
            #expect(fills == 40)
            let positions = try exchange(client, #"{"id":99,"op":"positions","account":"paper"}"#)
            let qty = (positions["positions"] as? [[String: Any]])?.first?["qty"] as? String
            #expect(qty == "40")
            #expect(webhook.requests.count == 1)
            // The queue of 5 overflowed: the drop is journaled.
            let subscribed = try exchange(
                client, #"{"id":100,"op":"subscribe","kinds":["alert_dropped"],"after_seq":0}"#)
            #expect(subscribed["ok"] as? Bool == true)
            let dropped = try #require(try client.readObject())
            #expect(dropped["event"] as? String == "alert_dropped")
            #expect(dropped["destination"] as? String == "ops")
            #expect((dropped["dropped"] as? Int ?? 0) >= 1)
            #expect((dropped["reason"] as? String)?.contains("the queue of 5 alerts was full") == true)
            webhook.release()
            telegram.release()
            #expect(await daemon.stop() == 0)
            await webhook.shutdown()
            await telegram.shutdown()
        }

        @Test func aMissingCredentialOrABadAlertIsRefusedAtStartNamingTheProblem() async throws {
            let daemon = Daemon()
            let started = try await daemon.start(top: [
                "credentials_dir: \(daemon.folder)/nowhere",
                "alerts:",
                "  - name: phone",
                "    kind: telegram",
                "    token_credential: tg-token",
                "    chat_id: \"42\"",
                "    events: [fill, fills]",
                "  - name: team",
                "    kind: slack",
                "    url: https://hooks.slack.example/services/T/B/SECRETPART",
                "    events: [all]",
            ])
            #expect(!started)
            #expect(await daemon.waitForExit() == 78)
            #expect(daemon.log.contains("alerts[0].events: 'fills' is not one of all, fill, reject"))
            #expect(daemon.log.contains("alerts[1].url: a slack webhook URL holds its token"))
            #expect(daemon.log.contains("alerts[1].url_credential: missing"))
            #expect(!daemon.log.contains("SECRETPART"))

            let second = Daemon()
            let missing = try await second.start(top: [
                "credentials_dir: \(second.folder)/nowhere",
                "alerts:",
                "  - {name: phone, kind: telegram, token_credential: tg-token, chat_id: \"42\", events: [fill]}",
            ])
            #expect(!missing)
            #expect(await second.waitForExit() == 78)
            #expect(second.log.contains("alerts[0].token_credential: credential 'tg-token' not found in"))
        }
    }
}

/// HMAC-SHA256 in lowercase hex, computed here independently of the gateway's code.
func hmacHex(_ body: Data, key: String) -> String {
    HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(key.utf8)))
        .map { String(format: "%02x", $0) }.joined()
}

extension EndToEnd {
    @Suite struct CheckConfigTests {
        @Test func checkConfigReportsEveryProblemOrSaysTheFileIsGood() async throws {
            let folder = TestFolders.make("check")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let good = folder + "/good.yaml"
            try "accounts:\n  - {name: paper, broker: paper}\n".write(toFile: good, atomically: true, encoding: .utf8)
            let ok = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", ["--check-config", good])
            #expect(ok.status == 0)
            #expect(ok.out == "gatewayd: \(good) is good: 1 account(s), 0 alert destination(s)\n")
            let bad = folder + "/bad.yaml"
            try """
            log_level: loud
            alerts:
              - {name: phone, kind: telegram, token_credential: tg-token, chat_id: "1", events: [fill]}
            accounts:
              - {name: paper, broker: paper}
            """.write(toFile: bad, atomically: true, encoding: .utf8)
            let refused = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", ["--check-config", bad])
            #expect(refused.status == 78)
            #expect(refused.err.contains("log_level: 'loud' is not one of"))
            try
                "accounts:\n  - {name: paper, broker: paper}\ncredentials_dir: \(folder)\nalerts:\n  - {name: phone, kind: telegram, token_credential: tg-token, chat_id: \"1\", events: [fill]}\n"
                .write(toFile: bad, atomically: true, encoding: .utf8)
            let missing = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", ["--check-config", bad])
            #expect(missing.status == 78)
            #expect(missing.err.contains("alerts[0].token_credential: credential 'tg-token' not found in \(folder)"))
            let neither = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", [])
            #expect(neither.status != 0)
        }
    }
}
