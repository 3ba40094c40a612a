import FIXCodec
import FIXSession
import FIXTransport
import Foundation
import GatewayTesting
import Synchronization
import Testing

@Suite struct InitiatorTests {
    static let dictionary: FIXDictionary = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/fix/FIX42.xml")
        do { return try FIXDictionary(xml: String(contentsOf: url, encoding: .utf8)) } catch { fatalError("\(error)") }
    }()

    static func initiatorSettings(reset: Bool = true) -> FIXSessionSettings {
        var settings = FIXSessionSettings(
            beginString: "FIX.4.2", senderCompID: "TW42", targetCompID: "ISLD", role: .initiator)
        settings.resetOnLogon = reset
        settings.applicationMessageTypes = ["D"]
        return settings
    }

    @Test func logsOnToFixEchoAndGetsEveryOrderBackInOrder() async throws {
        let echo = try await FixEchoProcess.start()
        defer { echo.stop() }
        let application = RecordingApplication()
        var reader = EventReader(application)
        let initiator = try await FIXInitiator(
            host: "127.0.0.1", port: echo.port, settings: Self.initiatorSettings(), dictionary: Self.dictionary,
            makeStore: { FIXMemoryStore() }, application: application)
        try await reader.loggedOn()
        for number in 0..<200 { initiator.session.sendSoon(newOrderSingle("order-\(number)")) }
        for number in 0..<200 {
            let echoed = try await reader.message()
            #expect(echoed[11] == "order-\(number)")
        }
        try await initiator.shutdown()
    }

    @Test func reconnectsAfterADroppedConnectionAndRecoversTheGapWithoutLossOrDuplicates() async throws {
        // Both sides keep sequence numbers across connections: the acceptor's stores live as long as it.
        var acceptorSettings = FIXSessionSettings(
            beginString: "FIX.4.2", senderCompID: "ISLD", targetCompID: "TW42", role: .acceptor)
        acceptorSettings.applicationMessageTypes = ["D"]
        let acceptorApplication = RecordingApplication()
        let echo = EchoingApplication(inner: acceptorApplication)
        let acceptor = try await FIXAcceptor(
            port: 0,
            sessions: [.init(settings: acceptorSettings, dictionary: Self.dictionary, makeStore: { FIXMemoryStore() })],
            application: echo)
        let application = RecordingApplication()
        var reader = EventReader(application)
        let initiator = try await FIXInitiator(
            host: "127.0.0.1", port: acceptor.port, settings: Self.initiatorSettings(reset: false),
            dictionary: Self.dictionary, makeStore: { FIXMemoryStore() }, application: application,
            backoff: FIXReconnectBackoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
        try await reader.loggedOn()
        for number in 0..<50 { initiator.session.sendSoon(newOrderSingle("before-\(number)")) }
        var echoed: [String] = []
        for _ in 0..<50 { echoed.append(try await reader.message()[11] ?? "") }
        // Sent while the connection is down: stored under their sequence numbers, resent after the logon.
        try await initiator.dropConnection(thenSend: (0..<50).map { newOrderSingle("during-\($0)") })
        try await reader.loggedOn()
        for _ in 0..<50 { echoed.append(try await reader.message()[11] ?? "") }
        #expect(echoed == (0..<50).map { "before-\($0)" } + (0..<50).map { "during-\($0)" })
        #expect(echo.count == 100)
        #expect(echo.possDupCount == 50)
        try await initiator.shutdown()
        try await acceptor.shutdown()
    }
}

/// Echoes every message back and counts them; passes them on to `inner`.
final class EchoingApplication: FIXApplication {
    let inner: RecordingApplication
    private let received = Mutex((all: 0, possDup: 0))
    var count: Int { received.withLock { $0.all } }
    var possDupCount: Int { received.withLock { $0.possDup } }

    init(inner: RecordingApplication) { self.inner = inner }

    func received(_ message: FIXMessage, session: FIXSessionHandle) {
        received.withLock {
            $0.all += 1
            if message.flag(FIXTag.possDupFlag) { $0.possDup += 1 }
        }
        inner.received(message, session: session)
        session.send(message)
    }
}
