public import GatewayCore
public import Logging
public import ServiceLifecycle
import Foundation
import Synchronization

/// Sends alerts to every configured destination without ever holding up the order path.
///
/// The engine's committed events arrive through `feed` (a subscription of the kinds that can make an
/// alert); each is turned into an alert (`AlertClassifier`) and put in the queue of every destination
/// that wants it — a lock and an append. One task per destination drains its queue (`DeliveryQueue`):
/// at most `max_per_minute` messages, the rest summarised, retries with backoff or the service's
/// Retry-After, drop-oldest when a destination stays down, every drop counted and handed to `notes` to
/// be journaled. Written here rather than taken from a library because no maintained Swift package
/// does alert fan-out with these limits; HTTP itself is the platform's URLSession.
///
/// Runs as a `Service`: put it before the engine in the group, so that it stops after the engine and
/// tells the destinations about the engine's last events, then sends "stopping" and flushes for at most
/// `flushTimeout`.
public final class AlertDispatcher<C: Clock>: Service, Sendable where C.Duration == Duration {
    /// Journals a note that alerts were dropped. Called from a delivery task, never from the feed.
    public typealias NoteSink = @Sendable (AlertDropNote) async -> Bool
    /// A subscription to the engine's events after a sequence number (`nil`: from now on).
    /// Called on the dispatcher's feed task, which iterates what it returns; a mapped view of the
    /// engine's own stream needs no task of its own.
    public typealias Feed = @Sendable (Int64?) -> any AsyncSequence<AlertFeedEvent, Never>

    /// The destinations' lanes; a reload replaces the list (`replace(destinations:)`).
    var lanes: [AlertLane] { state.withLock { $0.current } }
    let transport: any AlertTransport
    let clock: C
    let wallClock: any WallClock
    let origin: C.Instant
    let logger: Logger
    let notes: NoteSink
    let feed: Feed
    let startText: String
    let startAfter: Int64?
    public let flushTimeout: Duration
    private let state: Mutex<State>
    private let added: AsyncStream<AlertLane>

    struct State {
        var lastSeq: Int64?
        var stopping = false
        var current: [AlertLane]
        /// Every lane with a delivery task, retired ones still draining included.
        var all: [AlertLane]
        /// Hands lanes added by a reload to the running delivery group.
        var adding: AsyncStream<AlertLane>.Continuation?
    }

    public init(
        destinations: [AlertDestination], transport: any AlertTransport, clock: C, wallClock: any WallClock,
        logger: Logger,
        startText: String = "GATEWAY started", flushTimeout: Duration = .seconds(5), startAfter: Int64? = nil,
        notes: @escaping NoteSink, feed: @escaping Feed
    ) {
        self.startAfter = startAfter
        let lanes = destinations.map(AlertLane.init)
        let (added, adding) = AsyncStream.makeStream(of: AlertLane.self)
        self.added = added
        state = Mutex(State(current: lanes, all: lanes, adding: adding))
        self.transport = transport
        self.clock = clock
        self.wallClock = wallClock
        self.origin = clock.now
        self.logger = logger
        self.notes = notes
        self.feed = feed
        self.startText = startText
        self.flushTimeout = flushTimeout
    }

    /// The destinations, in configuration order.
    public var destinations: [AlertDestination] { lanes.map(\.destination) }

    /// A configuration reload: destinations whose settings are unchanged keep their queues; removed or
    /// changed ones send what they have queued, then stop; new ones start. Returns one line saying what
    /// changed, or `nil` when nothing did. Ignored once the dispatcher is stopping.
    @discardableResult
    public func replace(destinations: [AlertDestination]) -> String? {
        let (change, started, retired) = state.withLock { state -> (String?, [AlertLane], [AlertLane]) in
            guard !state.stopping, let adding = state.adding else { return (nil, [], []) }
            var kept: [String] = []
            var started: [AlertLane] = []
            let lanes = destinations.map { destination -> AlertLane in
                if let same = state.current.first(where: { $0.destination.hasSameSettings(as: destination) }) {
                    kept.append(destination.name)
                    return same
                }
                let lane = AlertLane(destination)
                started.append(lane)
                return lane
            }
            let retired = state.current.filter { old in !lanes.contains { $0 === old } }
            guard !started.isEmpty || !retired.isEmpty else { return (nil, [], []) }
            state.current = lanes
            state.all += started
            for lane in started { adding.yield(lane) }
            let line =
                "alerts: \(lanes.count) destination\(lanes.count == 1 ? "" : "s")"
                + (started.isEmpty
                    ? "" : ", new or changed: " + started.map(\.destination.name).joined(separator: ", "))
                + (retired.isEmpty
                    ? "" : ", removed or changed: " + retired.map(\.destination.name).joined(separator: ", "))
            return (line, started, retired)
        }
        for lane in retired { lane.retire() }
        if change != nil {
            logger.notice(
                "alert destinations replaced",
                metadata: [
                    "alerts.started": "\(started.map(\.destination.name))",
                    "alerts.retired": "\(retired.map(\.destination.name))",
                ])
        }
        return change
    }

    /// Time since this dispatcher was made, the queues' time line.
    func elapsed() -> Duration { origin.duration(to: clock.now) }

    /// Classifies a committed event and queues its alert for every destination that wants it. Never waits.
    public func offer(_ event: AlertFeedEvent) {
        state.withLock { $0.lastSeq = event.seq }
        guard let alert = AlertClassifier.alert(for: event) else { return }
        offer(alert)
    }

    /// Queues `alert` for every destination that wants it. Never waits.
    public func offer(_ alert: Alert) {
        let now = elapsed()
        for lane in lanes where lane.destination.wants(alert) {
            let effects = lane.enqueue(alert, now: now)
            if !effects.isEmpty { pendingEffects(effects, lane) }
        }
    }

    public func run() async throws {
        logger.info("alerts started", metadata: ["alerts.destinations": "\(lanes.map(\.destination.name))"])
        let lanesTask = Task { [self, added] in
            await withTaskGroup(of: Void.self) { group in
                for lane in lanes { group.addTask { await self.deliver(lane) } }
                for await lane in added { group.addTask { await self.deliver(lane) } }
            }
        }
        let feedTask = Task { [self] in await self.follow() }
        offer(Alert(category: .daemon, text: startText, ts: wallClock.now()))

        try? await gracefulShutdown()

        let deadline = Task { [clock, flushTimeout] in
            try? await clock.sleep(for: flushTimeout)
            feedTask.cancel()
            lanesTask.cancel()
        }
        await feedTask.value
        offer(Alert(category: .daemon, text: "GATEWAY stopping", ts: wallClock.now()))
        let every = state.withLock { state in
            state.stopping = true
            state.adding?.finish()
            state.adding = nil
            return state.all
        }
        for lane in every { lane.wake() }
        await lanesTask.value
        deadline.cancel()
        for lane in every {
            let (effects, left) = lane.queue.withLock { queue in
                (queue.flushNote(now: self.elapsed()), queue.waitingCount + (queue.isEmpty ? 0 : 1))
            }
            if left > 0 {
                logger.warning(
                    "alerts not delivered before stopping",
                    metadata: ["alert.destination": "\(lane.destination.name)", "alert.count": "\(left)"])
            }
            await perform(effects, lane, journal: true)
        }
        logger.info("alerts stopped")
    }

    /// Feeds committed events to `offer` until the engine's stream ends; if it ends early (this
    /// subscriber fell behind), subscribes again after the last event seen, so nothing is skipped. The
    /// first subscription starts after `startAfter`, so events committed before `run` are not missed.
    func follow() async {
        var after = startAfter
        while !Task.isCancelled {
            var received = 0
            for await event in feed(after) {
                offer(event)
                received += 1
            }
            let (stopping, last) = state.withLock { ($0.stopping, $0.lastSeq) }
            // An ended stream that brought nothing means the engine has stopped.
            if stopping || received == 0 || Task.isCancelled { return }
            logger.warning("alert feed ended early; subscribing again", metadata: ["journal.seq": "\(last ?? 0)"])
            after = last
        }
    }

    /// Drains one destination's queue until the dispatcher stops and the queue is empty (or the flush
    /// deadline cancels it).
    func deliver(_ lane: AlertLane) async {
        var bell = lane.doorbell.makeAsyncIterator()
        let destination = lane.destination
        while !Task.isCancelled {
            let now = elapsed()
            switch lane.queue.withLock({ $0.next(now: now) }) {
            case .idle:
                if state.withLock({ $0.stopping }) || lane.isRetired { return }
                if await bell.next() == nil { return }
            case .wait(let until):
                do {
                    try await clock.sleep(until: origin.advanced(by: until), tolerance: nil)
                } catch {
                    return
                }
            case .send(let message):
                var delay = Duration.zero
                if case .alert(_, let enqueuedAt) = message { delay = now - enqueuedAt }
                let request = AlertRequestBuilder.request(for: message, to: destination, delay: delay)
                let response = await transport.post(request, timeout: destination.timeout)
                let effects = lane.queue.withLock { $0.finished(response.outcome, now: self.elapsed()) }
                if case .answered(let status, _, _) = response, !(200..<300).contains(status) {
                    logger.debug(
                        "alert not delivered",
                        metadata: ["alert.destination": "\(destination.name)", "http.status": "\(status)"])
                }
                await perform(effects, lane, journal: true)
            }
        }
    }

    /// Effects that arose while enqueueing on the feed: their note is journaled from a task of its own,
    /// so the feed never waits on the engine.
    func pendingEffects(_ effects: [DeliveryQueue.Effect], _ lane: AlertLane) {
        Task { await self.perform(effects, lane, journal: true) }
    }

    func perform(_ effects: [DeliveryQueue.Effect], _ lane: AlertLane, journal: Bool) async {
        let name = lane.destination.name
        for effect in effects {
            switch effect {
            case .unreachable(let problem):
                logger.warning(
                    "alert destination unreachable; retrying with backoff",
                    metadata: [
                        "alert.destination": "\(name)", "alert.kind": "\(lane.destination.service.kind)",
                        "alert.problem": "\(redacted(problem, lane))",
                    ])
            case .reachable(let failures):
                logger.notice(
                    "alert destination reachable again",
                    metadata: ["alert.destination": "\(name)", "alert.failed_attempts": "\(failures)"])
            case .dropped(let count, let total, let reason):
                let note = AlertDropNote(
                    destination: name, dropped: count, droppedTotal: total, reason: redacted(reason, lane))
                logger.warning(
                    "alerts dropped",
                    metadata: [
                        "alert.destination": "\(name)", "alert.dropped": "\(count)", "alert.dropped_total": "\(total)",
                        "alert.reason": "\(note.reason)",
                    ])
                if journal, await notes(note) { continue }
                if journal {
                    logger.error(
                        "the note of dropped alerts could not be journaled", metadata: ["alert.destination": "\(name)"])
                }
            }
        }
    }

    func redacted(_ text: String, _ lane: AlertLane) -> String {
        lane.destination.secrets.reduce(text) { $1.isEmpty ? $0 : $0.replacingOccurrences(of: $1, with: "‹redacted›") }
    }
}
