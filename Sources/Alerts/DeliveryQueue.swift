/// The delivery logic of one destination as a value: a bounded queue, a messages-per-minute window,
/// coalescing into a summary, retries with backoff (or the destination's Retry-After), and drop-oldest
/// with a count to journal. It does no I/O and reads no clock: time is passed in as the time since an
/// origin the driver chose, and it answers with what to do next.
public struct DeliveryQueue: Sendable {
    /// One message to send.
    public enum Message: Sendable, Hashable {
        case alert(Alert, enqueuedAt: Duration)
        case summary(AlertSummary)
    }

    /// What the driver should do now.
    public enum Action: Sendable, Hashable {
        case send(Message)
        /// Nothing can go before this instant (a retry's backoff, or the minute's messages are spent).
        case wait(until: Duration)
        /// Nothing to send until something is enqueued.
        case idle
    }

    /// How a send ended.
    public enum Outcome: Sendable, Hashable {
        case delivered
        /// Try again: after `after` when the destination said so (429 Retry-After), else after a backoff.
        case retry(after: Duration?, problem: String)
        /// The destination will never take this message (a 4xx other than 408 and 429): it is dropped.
        case refused(problem: String)
    }

    /// Something the driver should record or log.
    public enum Effect: Sendable, Hashable {
        /// `count` alerts were dropped since the last such note (`total` since start): journal it.
        case dropped(count: Int, total: Int, reason: String)
        /// The first failed attempt after a success.
        case unreachable(problem: String)
        /// A delivery after `failures` failed attempts.
        case reachable(afterFailures: Int)
    }

    public let capacity: Int
    public let perMinute: Int
    public static let window = Duration.seconds(60)
    public static let firstBackoff = Duration.seconds(1)
    public static let maxBackoff = Duration.seconds(300)
    /// A Retry-After longer than this is capped, so that one answer cannot silence a destination for a day.
    public static let maxRetryAfter = Duration.seconds(900)
    /// Drops are journaled at most once a window (and whenever the driver flushes).
    public static let noteInterval = Duration.seconds(60)

    private var waiting: [Alert?] = []
    private var waitingSince: [Duration] = []
    private var head = 0
    private var inFlight: Message?
    private var deliveries: [Duration] = []
    private var retryAt: Duration?
    private(set) public var failures = 0
    private var lastProblem: String?
    private var lastDropReason = ""
    private(set) public var droppedTotal = 0
    private var droppedSinceSummary = 0
    private var unnotedDrops = 0
    private var lastNoteAt: Duration?

    public init(capacity: Int, perMinute: Int) {
        precondition(capacity >= 1 && perMinute >= 1)
        self.capacity = capacity
        self.perMinute = perMinute
    }

    /// Messages waiting, not counting one being sent or retried.
    public var waitingCount: Int { waiting.count - head }

    /// Nothing waiting and nothing being retried.
    public var isEmpty: Bool { waitingCount == 0 && inFlight == nil }

    /// Adds an alert; when the queue is full the oldest waiting one is dropped.
    public mutating func enqueue(_ alert: Alert, now: Duration) -> [Effect] {
        if waitingCount >= capacity {
            waiting[head] = nil
            head += 1
            let unreachable = failures > 0 ? " while the destination was unreachable (\(lastProblem ?? "?"))" : ""
            countDrop(because: "the queue of \(capacity) alerts was full\(unreachable); the oldest was dropped")
        }
        waiting.append(alert)
        waitingSince.append(now)
        compact()
        return dueNote(now: now)
    }

    /// What to send now, if anything. A message handed out stays this queue's until `finished`.
    public mutating func next(now: Duration) -> Action {
        if let retryAt, now < retryAt { return .wait(until: retryAt) }
        if let inFlight { return .send(inFlight) }
        guard waitingCount > 0 else { return .idle }
        while let first = deliveries.first, first + Self.window <= now { deliveries.removeFirst() }
        let budget = perMinute - deliveries.count
        if budget <= 0 { return .wait(until: deliveries[0] + Self.window) }
        let message: Message
        if budget == 1, waitingCount > 1 || droppedSinceSummary > 0 {
            var summary = AlertSummary()
            while let alert = pop() { summary.add(alert.0) }
            summary.dropped = droppedSinceSummary
            message = .summary(summary)
        } else {
            let (alert, since) = pop()!
            message = .alert(alert, enqueuedAt: since)
        }
        inFlight = message
        return .send(message)
    }

    /// Records how the send that `next` handed out ended.
    public mutating func finished(_ outcome: Outcome, now: Duration) -> [Effect] {
        var effects: [Effect] = []
        switch outcome {
        case .delivered:
            deliveries.append(now)
            if case .summary(let summary) = inFlight { droppedSinceSummary -= summary.dropped }
            inFlight = nil
            retryAt = nil
            if failures > 0 { effects.append(.reachable(afterFailures: failures)) }
            failures = 0
        case .retry(let after, let problem):
            failures += 1
            if failures == 1 { effects.append(.unreachable(problem: problem)) }
            lastProblem = problem
            let backoff = after.map { min($0, Self.maxRetryAfter) } ?? Self.backoff(afterFailures: failures)
            retryAt = now + backoff
        case .refused(let problem):
            let reason = "the destination refused the message: \(problem)"
            if case .summary(let summary) = inFlight {
                droppedSinceSummary -= summary.dropped
                for _ in 0..<summary.count { countDrop(because: reason) }
            } else {
                countDrop(because: reason)
            }
            inFlight = nil
            failures = 0
            retryAt = nil
        }
        return effects + dueNote(now: now)
    }

    /// The note for drops not yet journaled, whether or not one is due; the driver calls it when stopping.
    public mutating func flushNote(now: Duration) -> [Effect] {
        guard unnotedDrops > 0 else { return [] }
        lastNoteAt = nil
        return dueNote(now: now)
    }

    /// 1 s, 2 s, 4 s … up to five minutes.
    public static func backoff(afterFailures failures: Int) -> Duration {
        let doublings = min(max(failures - 1, 0), 16)
        return min(firstBackoff * (1 << doublings), maxBackoff)
    }

    private mutating func countDrop(because reason: String) {
        lastDropReason = reason
        droppedTotal += 1
        droppedSinceSummary += 1
        unnotedDrops += 1
    }

    private mutating func dueNote(now: Duration) -> [Effect] {
        guard unnotedDrops > 0 else { return [] }
        if let lastNoteAt, now < lastNoteAt + Self.noteInterval { return [] }
        let reason = lastDropReason
        defer {
            unnotedDrops = 0
            lastNoteAt = now
        }
        return [.dropped(count: unnotedDrops, total: droppedTotal, reason: reason)]
    }

    private mutating func pop() -> (Alert, Duration)? {
        guard head < waiting.count, let alert = waiting[head] else { return nil }
        let since = waitingSince[head]
        waiting[head] = nil
        head += 1
        compact()
        return (alert, since)
    }

    /// Gives back the slots of sent and dropped alerts once they are half the storage.
    private mutating func compact() {
        guard head > 64, head * 2 >= waiting.count else { return }
        waiting.removeFirst(head)
        waitingSince.removeFirst(head)
        head = 0
    }
}
