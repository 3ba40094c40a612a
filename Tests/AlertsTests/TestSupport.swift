import Alerts
import Foundation
import GatewayCore
import GatewayTesting
import Logging
import ServiceLifecycle
import Synchronization

/// Everything logged through it, as text: messages and metadata.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    var logger: Logger {
        Logger(label: "alerts-test") { _ in CapturingHandler(capture: self) }
    }

    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

struct CapturingHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append(
            "\(event.level) \(event.message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })")
    }
}

/// Notes the dispatcher asked to journal.
final class NoteSink: Sendable {
    private let state = Mutex<[AlertDropNote]>([])
    var notes: [AlertDropNote] { state.withLock { $0 } }
    func record(_ note: AlertDropNote) { state.withLock { $0.append(note) } }
}

/// A dispatcher on a test clock inside a service group, with a feed the test writes to.
struct DispatcherRig {
    let dispatcher: AlertDispatcher<TestClock>
    let clock: TestClock
    let group: ServiceGroup
    let feed: AsyncStream<AlertFeedEvent>.Continuation
    let notes: NoteSink
    let logs: LogCapture

    init(_ destinations: [AlertDestination], flushTimeout: Duration = .seconds(5)) {
        let clock = TestClock()
        let notes = NoteSink()
        let logs = LogCapture()
        let (stream, feed) = AsyncStream.makeStream(of: AlertFeedEvent.self)
        let once = Mutex<AsyncStream<AlertFeedEvent>?>(stream)
        dispatcher = AlertDispatcher(
            destinations: destinations, transport: URLSessionAlertTransport(), clock: clock,
            wallClock: ManualWallClock(), logger: logs.logger, flushTimeout: flushTimeout,
            notes: { note in
                notes.record(note)
                return true
            },
            feed: { _ in once.withLock { $0.take() } ?? AsyncStream { $0.finish() } })
        group = ServiceGroup(services: [dispatcher], logger: Logger(label: "group") { _ in SwiftLogNoOpLogHandler() })
        self.clock = clock
        self.feed = feed
        self.notes = notes
        self.logs = logs
    }

    /// Runs the group in a task; returns it.
    func start() -> Task<Void, any Error> {
        Task { try await group.run() }
    }

    /// Shuts down while a destination still has work: waits for the flush deadline's sleep (and `lanes`
    /// more sleepers), moves the clock past it, and waits for the group.
    func stopAtFlushDeadline(_ running: Task<Void, any Error>, sleepingLanes: Int = 0) async throws {
        feed.finish()
        await group.triggerGracefulShutdown()
        await clock.sleepers(atLeast: 1 + sleepingLanes)
        clock.advance(by: dispatcher.flushTimeout)
        try await running.value
    }

    /// Ends the feed (as the engine does when it stops), shuts the group down and waits for it.
    func stop(_ running: Task<Void, any Error>) async throws {
        feed.finish()
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

extension AlertDestination {
    /// A destination at `server`. Its requests time out after ten minutes, longer than any test: a held
    /// request's timeout, on the real clock, would start a retry whose backoff sleeps on the test's
    /// clock, and a test that counts that clock's sleepers (`stopAtFlushDeadline`) or waits for requests
    /// after releasing the server would then wait for a sleep that nobody advances. With a 200 ms timeout
    /// and a one-second pause before stopping, `aDestinationThatHangsNeverHoldsUpTheFeedAndItsDropsAreNoted`
    /// hangs so; a full run of the suite that hung is explained by it if that test's task waited ten
    /// seconds for a thread (docs/performance.md, "A full test run that hung").
    static func webhook(
        _ server: LoopbackHTTPServer, path: String = "/hook", key: String? = nil, events: Set<AlertCategory> = [.fill],
        perMinute: Int = 20, capacity: Int = 1_000
    ) -> AlertDestination {
        AlertDestination(
            name: "ops",
            service: .webhook(
                url: URL(string: server.url(path))!, signingKey: key.map { Data($0.utf8) },
                signatureHeader: "X-Gateway-Signature"),
            categories: events, maxPerMinute: perMinute, queueCapacity: capacity, timeout: .seconds(600),
            secrets: key.map { [$0] } ?? [])
    }
}

func fillEvent(seq: Int64, qty: String = "100", strategy: String? = "turtle20") -> AlertFeedEvent {
    AlertFeedEvent(seq: seq, kind: "fill", strategy: strategy, line: fillLine(seq: seq, qty: qty))
}
