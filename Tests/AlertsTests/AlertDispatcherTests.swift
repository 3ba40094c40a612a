import Alerts
import ControlProtocol
import Foundation
import GatewayCore
import GatewayTesting
import ServiceLifecycle
import Testing

@Suite struct AlertDispatcherTests {
    static let fillText = "FILLED buy 100 AAPL @ 190.12 · paper · turtle20"

    @Test func eachServiceReceivesItsOwnNativeRequest() async throws {
        let discord = try await LoopbackHTTPServer()
        let slack = try await LoopbackHTTPServer()
        let telegram = try await LoopbackHTTPServer()
        let webhook = try await LoopbackHTTPServer()
        discord.setDefault(.init(status: 204))
        let destinations = [
            AlertDestination(
                name: "disc", service: .discord(url: URL(string: discord.url("/api/webhooks/11/tok-en"))!),
                categories: [.fill]),
            AlertDestination(
                name: "team", service: .slack(url: URL(string: slack.url("/services/T0/B0/sekret"))!),
                categories: [.fill]),
            AlertDestination(
                name: "phone",
                service: .telegram(api: URL(string: telegram.url(""))!, token: "123456:ABC-tok", chatID: "-1001"),
                categories: [.fill]),
            .webhook(webhook, key: "hook-key"),
        ]
        let rig = DispatcherRig(destinations)
        let running = rig.start()
        rig.dispatcher.offer(fillEvent(seq: 7))

        let toDiscord = try #require(await discord.requests(atLeast: 1).first)
        #expect(toDiscord.method == "POST")
        #expect(toDiscord.uri == "/api/webhooks/11/tok-en")
        #expect(toDiscord.headers["content-type"] == "application/json")
        #expect(toDiscord.text == #"{"allowed_mentions":{"parse":[]},"content":"\#(Self.fillText)"}"#)

        let toSlack = try #require(await slack.requests(atLeast: 1).first)
        #expect(toSlack.uri == "/services/T0/B0/sekret")
        #expect(toSlack.text == #"{"text":"\#(Self.fillText)"}"#)

        let toTelegram = try #require(await telegram.requests(atLeast: 1).first)
        #expect(toTelegram.uri == "/bot123456:ABC-tok/sendMessage")
        #expect(toTelegram.text == #"{"chat_id":"-1001","disable_web_page_preview":true,"text":"\#(Self.fillText)"}"#)

        let toWebhook = try #require(await webhook.requests(atLeast: 1).first)
        #expect(toWebhook.uri == "/hook")
        let body = try #require(toWebhook.json)
        #expect(body["category"] as? String == "fill")
        #expect(body["text"] as? String == Self.fillText)
        #expect(body["destination"] as? String == "ops")
        #expect(body["account"] as? String == "paper")
        #expect(body["strategy"] as? String == "turtle20")
        #expect(body["seq"] as? Int == 7)
        let event = try #require(body["event"] as? [String: Any])
        #expect((event["fill"] as? [String: Any])?["price"] as? String == "190.12")
        #expect(
            toWebhook.headers["x-gateway-signature"]
                == "sha256=" + AlertRequestBuilder.signature(of: toWebhook.body, key: Data("hook-key".utf8)))
        try await rig.stop(running)
        for server in [discord, slack, telegram, webhook] { await server.shutdown() }
    }

    /// A reload keeps an unchanged destination (and its queue), stops a removed one after what it had,
    /// and starts a new one; what is offered after the reload goes to the new set only.
    @Test func aReloadReplacesDestinationsAndKeepsUnchangedOnes() async throws {
        let kept = try await LoopbackHTTPServer()
        let removed = try await LoopbackHTTPServer()
        let added = try await LoopbackHTTPServer()
        var leaving = AlertDestination.webhook(removed)
        leaving.name = "desk"
        var arriving = AlertDestination.webhook(added)
        arriving.name = "phone"
        let rig = DispatcherRig([.webhook(kept), leaving])
        let running = rig.start()
        rig.dispatcher.offer(fillEvent(seq: 1))
        _ = await kept.requests(atLeast: 1)
        _ = await removed.requests(atLeast: 1)

        let unchanged = rig.dispatcher.replace(destinations: [.webhook(kept), leaving])
        #expect(unchanged == nil)
        let change = rig.dispatcher.replace(destinations: [.webhook(kept), arriving])
        #expect(change == "alerts: 2 destinations, new or changed: phone, removed or changed: desk")
        #expect(rig.dispatcher.destinations.map(\.name) == ["ops", "phone"])

        rig.dispatcher.offer(fillEvent(seq: 2))
        let toKept = await kept.requests(atLeast: 2)
        let toAdded = await added.requests(atLeast: 1)
        #expect(toKept.compactMap { $0.json?["seq"] as? Int } == [1, 2])
        #expect(toAdded.compactMap { $0.json?["seq"] as? Int } == [2])
        try await rig.stop(running)
        #expect(removed.requests.count == 1)
        for server in [kept, removed, added] { await server.shutdown() }
    }

    @Test func signsWithHMACSHA256() {
        // RFC 4231, test case 2.
        #expect(
            AlertRequestBuilder.signature(of: Data("what do ya want for nothing?".utf8), key: Data("Jefe".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func slackTextIsEscapedAndDiscordNeverMentions() {
        let alert = Alert(category: .reject, text: "REJECTED <@everyone> & co", ts: aTime)
        let slack = AlertRequestBuilder.request(
            for: .alert(alert, enqueuedAt: .zero),
            to: AlertDestination(
                name: "s", service: .slack(url: URL(string: "http://127.0.0.1/x")!), categories: [.reject]))
        #expect(String(decoding: slack.body, as: UTF8.self) == #"{"text":"REJECTED &lt;@everyone&gt; &amp; co"}"#)
        let late = AlertRequestBuilder.request(
            for: .alert(alert, enqueuedAt: .zero),
            to: AlertDestination(
                name: "d", service: .discord(url: URL(string: "http://127.0.0.1/x")!), categories: [.reject]),
            delay: .seconds(185))
        #expect(
            String(decoding: late.body, as: UTF8.self)
                == #"{"allowed_mentions":{"parse":[]},"content":"REJECTED <@everyone> & co · delayed 3m"}"#)
    }

    @Test func retriesAfterTheRetryAfterTheServiceAsksFor() async throws {
        let server = try await LoopbackHTTPServer()
        server.script([.init(status: 429, headers: ["Retry-After": "7"]), .init(status: 503)])
        let rig = DispatcherRig([.webhook(server)])
        let running = rig.start()
        rig.dispatcher.offer(fillEvent(seq: 1))
        await server.requests(atLeast: 1)
        await rig.clock.sleepers(atLeast: 1)
        #expect(rig.clock.nextDeadline == .seconds(7))
        rig.clock.advance(by: .seconds(6))
        #expect(server.requests.count == 1)
        rig.clock.advance(by: .seconds(1))
        await server.requests(atLeast: 2)
        // A 503 without Retry-After: the backoff, 2 s after two failures.
        await rig.clock.sleepers(atLeast: 1)
        #expect(rig.clock.nextDeadline == .seconds(2))
        rig.clock.advance(by: .seconds(2))
        let requests = await server.requests(atLeast: 3)
        #expect(Set(requests.map(\.body)).count == 1)
        #expect(rig.logs.text.contains("alert destination unreachable; retrying with backoff"))
        try await rig.stop(running)
        #expect(rig.logs.text.contains("alert destination reachable again"))
        await server.shutdown()
    }

    @Test func coalescesABurstOfAThousandFillsToTheMinutesLimit() async throws {
        let server = try await LoopbackHTTPServer()
        server.hold()
        let rig = DispatcherRig([.webhook(server, perMinute: 20)])
        let running = rig.start()
        for seq in 1...1_000 { rig.dispatcher.offer(fillEvent(seq: Int64(seq))) }
        await server.requests(atLeast: 1)
        server.release()
        let requests = await server.requests(atLeast: 20)
        try await rig.stop(running)
        #expect(server.requests.count == 20)
        let bodies = requests.compactMap(\.json)
        #expect(bodies.prefix(19).allSatisfy { $0["category"] as? String == "fill" })
        #expect(bodies.prefix(19).compactMap { $0["seq"] as? Int } == Array(1...19))
        let summary = try #require(bodies.last)
        #expect(summary["category"] as? String == "summary")
        #expect(summary["count"] as? Int == 981)
        #expect(summary["text"] as? String == "SUMMARY +981 more alerts: 981 fills · AAPL ×981")
        #expect(rig.notes.notes.isEmpty)
        await server.shutdown()
    }

    @Test func aDestinationThatHangsNeverHoldsUpTheFeedAndItsDropsAreNoted() async throws {
        let server = try await LoopbackHTTPServer()
        server.hold()
        let rig = DispatcherRig([.webhook(server, capacity: 100)], flushTimeout: .seconds(5))
        let running = rig.start()
        rig.dispatcher.offer(fillEvent(seq: 1))
        await server.requests(atLeast: 1)
        for seq in 2...5_000 { rig.dispatcher.offer(fillEvent(seq: Int64(seq))) }
        // Every offer returned although the destination has not answered once.
        #expect(server.requests.count == 1)
        // Stopping waits for the flush deadline on the injected clock, then gives up and notes the drops.
        try await rig.stopAtFlushDeadline(running)
        let dropped = rig.logs.text
        #expect(dropped.contains("alerts not delivered before stopping"))
        #expect(rig.notes.notes.first?.dropped ?? 0 > 0)
        let total = rig.notes.notes.map(\.dropped).reduce(0, +)
        #expect(total == 5_000 - 1 - 100)
        server.release()
        await server.shutdown()
    }

    @Test func secretsNeverReachTheLogs() async throws {
        let token = "987654:SECRET-bot-token"
        let rig = DispatcherRig([
            AlertDestination(
                name: "phone",
                service: .telegram(api: URL(string: "http://127.0.0.1:1")!, token: token, chatID: "42"),
                categories: [.fill], secrets: [token])
        ])
        let running = rig.start()
        rig.dispatcher.offer(fillEvent(seq: 1))
        await rig.clock.sleepers(atLeast: 1)
        let results = try #require(await rig.dispatcher.sendTest(to: nil, from: "host"))
        #expect(
            results == [
                AlertTestOutcome(
                    destination: "phone", kind: "telegram", delivered: false, problem: "connection refused")
            ])
        try await rig.stopAtFlushDeadline(running, sleepingLanes: 1)
        let logs = rig.logs.text
        #expect(logs.contains("connection refused"))
        #expect(!logs.contains(token))
        #expect(!logs.contains("SECRET"))
        #expect(!logs.contains("127.0.0.1:1"))
    }

    @Test func aTestMessageReportsWhatEachDestinationAnswered() async throws {
        let good = try await LoopbackHTTPServer()
        let bad = try await LoopbackHTTPServer()
        bad.setDefault(.init(status: 404))
        var second = AlertDestination.webhook(bad)
        second.name = "broken"
        let rig = DispatcherRig([.webhook(good), second])
        let running = rig.start()
        let all = try #require(await rig.dispatcher.sendTest(to: nil, from: "desk"))
        #expect(
            all == [
                AlertTestOutcome(destination: "ops", kind: "webhook", delivered: true, status: 200),
                AlertTestOutcome(
                    destination: "broken", kind: "webhook", delivered: false, status: 404, problem: "HTTP 404"),
            ])
        let body = try #require(good.requests.first?.json)
        #expect(body["category"] as? String == "test")
        #expect(body["text"] as? String == "TEST alert from gatewayd on desk to 'ops': alerts reach you")
        #expect(await rig.dispatcher.sendTest(to: "nobody", from: "desk") == nil)
        try await rig.stop(running)
        await good.shutdown()
        await bad.shutdown()
    }

    @Test func filtersByCategoryAccountAndStrategy() {
        var destination = AlertDestination(
            name: "x", service: .slack(url: URL(string: "http://127.0.0.1/x")!), categories: [.fill, .killSwitch],
            accounts: [AccountID("live")!], strategies: ["turtle20"])
        func alert(_ category: AlertCategory, _ account: String?, _ strategy: String?) -> Alert {
            Alert(category: category, text: "", account: account.flatMap(AccountID.init), strategy: strategy, ts: aTime)
        }
        #expect(destination.wants(alert(.fill, "live", "turtle20")))
        #expect(!destination.wants(alert(.fill, "paper", "turtle20")))
        #expect(!destination.wants(alert(.fill, "live", "meanrev")))
        #expect(destination.wants(alert(.killSwitch, nil, nil)))
        #expect(!destination.wants(alert(.reject, "live", "turtle20")))
        destination.accounts = nil
        #expect(destination.wants(alert(.fill, "paper", "turtle20")))
    }
}
