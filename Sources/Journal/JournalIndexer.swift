import Foundation
import GRDB
import GRDBSQLite
import Glibc
import Synchronization

/// Copies events from the journal's log into SQLite's tables, off the order path, in batches.
///
/// Two threads share the work, one batch at a time:
/// - **journal-index** runs at Linux's `SCHED_IDLE` policy: the kernel gives it a core only when nothing
///   else wants one and takes the core back at once when the order path's threads wake. It lets a batch
///   linger (`linger`, 2 ms, or until `lingerCount` events) before writing it, so that one transaction
///   takes many events: a transaction's own cost (its locks, and the WAL frames of the pages it touched,
///   synced when durable) was most of the copying's time when each took the two or three events of one
///   order. At normal priority that copying, in bursts, shared the two cores with the order path and
///   showed in its tail: in `gateway-bench` with one client (`fast`), ack p99 grew with the linger from
///   about 550 µs (0.5 ms) to 1 300 µs (5 ms); at `SCHED_IDLE` it was 310–360 µs (docs/performance.md).
///   It goes to `SCHED_IDLE` only where a thread may come back from it (root, or the unit's
///   `LimitNICE=+0`), and runs at normal priority elsewhere: a batch held by a thread that gets no core
///   holds every later one up (under load the events waiting to be copied grew to the backlog limit and
///   peak RSS with 100 000 resting orders from about 132 to 152–165 MiB), so the other thread brings it
///   back to normal priority whenever it must wait for its batch (`boostBackground`). A durable
///   journal's thread also commits, and syncs the tables, at normal priority: when its commits synced
///   (`synchronous=FULL`, before the tables' syncs were made their own step), preempted at `SCHED_IDLE`
///   inside the file system's journal it held up the log's own `fdatasync` — durable ack p99.9 6.2–8.1
///   ms against 1.4–2.1 ms (one client, three runs each); the configuration measured since keeps it so.
///   In `fast` nothing of it syncs, and at normal priority its commits cost the ack's p99 instead
///   (540–600 µs against 340–370 µs).
/// - **Durable: the tables' syncs.** The tables commit with `synchronous=NORMAL`; once `syncEvery`
///   events have been copied since the last time, the thread that copied them syncs the tables to the
///   disk (`syncTables`, which waits for the log's own sync to finish and keeps it waiting in turn) and
///   records how far the sync reached. A log file is reused only behind that (`holds(through:)`).
/// - **journal-now** runs at normal priority and takes a batch that must not wait: when a reader,
///   the watchdog's ping or a checkpoint waits for the tables, when `urgentCount` events wait, when the
///   oldest waiting event is `maxAge` (20 ms) old — the machine busy with other work, which an idle-policy
///   thread yields to without limit — and to retry after a failure and to finish at a close. A batch
///   already being written by the other thread (at most `lingerCount` events) is waited for, with that
///   thread brought back to normal priority.
///
/// Appending wakes a thread only when nothing was waiting to be copied, or when the batch reaches
/// `lingerCount` or `urgentCount` events: not once per append.
///
/// `condition` is held only for bookkeeping: the engine's thread takes it for every append, and the
/// background thread, at `SCHED_IDLE`, can lose its core while it holds it. A batch is taken as the
/// waiting array itself, not copied (`take`); a written batch is released by the next append, on the
/// thread that made its events (`toRelease`), since freed on an indexing thread they took the allocator's
/// lock of that thread's arena; and a write's end wakes only threads that wait for it (`progressWaiters`).
/// In a system call trace of one client's `fast` orders, the engine's thread was blocked in `futex` 27.7–
/// 33.6 ms of every 2 s before the last two, 4.1–4.4 ms after (docs/performance.md). The frees are then
/// made by the append that follows a batch, before its order is answered.
///
/// Holds the events appended and not yet in the tables (`unindexed`, and the batch being written,
/// `inFlight`), so that a finished order's newest state can be found before its batch reaches the tables,
/// and lets readers wait until the tables hold every event appended before they asked
/// (`waitUntilIndexed`). A failed transaction (the disk full, the database locked past its timeout) is
/// tried again every 50 ms; the events stay in the log and in memory meanwhile, and reads fail with the
/// reason.
final class JournalIndexer: @unchecked Sendable {
    enum Role { case background, urgent }

    private let pool: DatabasePool
    private let checkpointer: WALCheckpointer
    private let condition = NSCondition()
    /// Most events a transaction takes.
    private let batchLimit = 4_096
    /// Most events held before an append waits for the tables to catch up.
    let backlogLimit: Int
    /// How long a batch waits for more events before it is written, when nobody waits for it.
    private let linger: TimeInterval
    /// A lingering batch is written at once when it holds this many events.
    private let lingerCount: Int
    /// The normal-priority thread writes once this many events wait, or the oldest is `maxAge` old.
    private let urgentCount: Int
    private let maxAge: TimeInterval

    /// Events with their chain hashes, in order: what is appended, waits, and is written as one batch.
    typealias Batch = [(record: JournalRecord, hash: ChainHash)]

    // Guarded by `condition`.
    private var unindexed: Batch = []
    /// The batch being written: taken out of `unindexed` whole (`take`), so that neither taking it nor
    /// letting it go after copies or releases its events while `condition` is held.
    private var inFlight: Batch = []
    /// Every event appended and not yet in the tables: waiting, and being written.
    private var backlogCount: Int { unindexed.count + inFlight.count }
    private var appendedSeq: Int64
    private var indexedSeq: Int64
    private var problem: String?
    /// After a failure, no batch is tried before this.
    private var retryAt: Date?
    private var stopping = false
    private var running = true
    private var threadsRunning = 2
    /// For tests: nothing is copied while set, as if the process had died after appending.
    private var paused = false
    private var waiters: [(seq: Int64, body: @Sendable ((any Error)?) -> Void)] = []
    /// Readers in `waitUntilIndexed`.
    private var hurrying = 0
    /// A batch is being written (by either thread).
    private var writing = false
    /// When the oldest event in `unindexed` was added (about: after a batch, when the rest was left).
    private var oldestAt = Date.distantFuture
    /// The background thread lingers over a batch: an append wakes it only once the batch is full.
    private var lingering = false
    /// A durable journal's background thread commits at normal priority (see `init`).
    private let durable: Bool
    /// Durable: the newest event the tables held when they were last synced to the disk. Their commits
    /// do not sync; `syncTables` does, once `syncEvery` events have been copied since the last time.
    private var durableSeq: Int64
    private let syncTables: @Sendable () -> Bool
    private let syncEvery: Int64
    /// A thread is syncing the tables: the other does not start a second sync meanwhile.
    private var syncingTables = false
    /// The background thread's kernel id, when it runs at `SCHED_IDLE` (`canReturnFromIdle`).
    private var backgroundThread: pid_t?
    /// Which thread writes the batch under way.
    private var writer: Role?
    /// For tests: the background thread takes nothing while set, as if other work kept it from a core.
    private var backgroundStalled = false
    /// For tests: the batches each thread has written.
    private var written: [Role: Int] = [:]
    /// For tests: every transaction fails with this reason while set.
    private var failure: String?
    /// Threads waiting on `condition` for the tables to move on, or for a batch's write to end: a write
    /// that ends wakes the others only when one is (`waitForProgress`). The normal-priority thread's
    /// timed waits are not counted, so a write no longer wakes it after every batch to take `condition`
    /// and wait again (in a trace of one client's orders, its wake-ups of waiters on `condition` fell from
    /// 344 to 122 in 2 s; docs/performance.md).
    private var progressWaiters = 0
    /// Batches in the tables, left for the next append to release: their events were made on the
    /// appending thread (the engine's), and freed on an indexing thread they took the allocator's lock of
    /// that thread's arena, which the engine's own allocations then waited for (docs/performance.md).
    private var toRelease: [Batch] = []
    /// Most batches `toRelease` holds; past that the indexing thread releases them itself.
    static let releaseHeld = 4
    /// For tests: the next batch taken waits before it is written, once it has said it was taken.
    private var writeHold: (taken: DispatchSemaphore, release: DispatchSemaphore)?

    init(
        pool: DatabasePool, checkpointer: WALCheckpointer, indexedSeq: Int64, backlogLimit: Int = 100_000,
        linger: Duration = .milliseconds(2), lingerCount: Int = 1_024, maxAge: Duration = .milliseconds(20),
        durable: Bool = false, syncTables: @escaping @Sendable () -> Bool = { true }, syncEvery: Int = 1_024
    ) {
        func seconds(_ duration: Duration) -> TimeInterval {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
        self.pool = pool
        self.checkpointer = checkpointer
        self.appendedSeq = indexedSeq
        self.indexedSeq = indexedSeq
        self.durableSeq = indexedSeq
        self.syncTables = syncTables
        self.syncEvery = Int64(max(1, syncEvery))
        self.backlogLimit = backlogLimit
        self.linger = seconds(linger)
        self.urgentCount = max(1, min(4 * lingerCount, backlogLimit))
        self.lingerCount = max(1, min(lingerCount, urgentCount))
        self.maxAge = seconds(maxAge)
        self.durable = durable
        let background = Thread { [self] in
            // Named from the thread itself: Foundation's `Thread.name` set before `start` does not reach
            // the kernel's name on Linux (`top -H`, `/proc/<pid>/task/*/comm`), which holds 15 bytes.
            Thread.current.name = "journal-index"
            // At `SCHED_IDLE` only where a thread may return from it (root, or `LimitNICE=` in the unit):
            // the other thread then brings this one back to normal priority when it must wait for its
            // batch. Elsewhere at normal priority: a batch held by a thread that gets no core would hold
            // every later one up.
            if Self.canReturnFromIdle, let id = Self.threadID(), Self.schedule(idle: true) {
                self.condition.lock()
                self.backgroundThread = id
                self.condition.unlock()
            }
            run(.background)
        }
        background.start()
        let urgent = Thread { [self] in
            Thread.current.name = "journal-now"
            run(.urgent)
        }
        urgent.start()
    }

    /// A wake-up of the copying threads that an append left for later (`add`'s `deferWake`), made by
    /// `payWake`.
    private let wakeOwed = Atomic<Bool>(false)

    /// Hands appended events over to be copied; waits while more than `backlogLimit` are waiting.
    ///
    /// `deferWake`: the threads' wake-up for the first waiting event, or for a lingering batch that is
    /// full, is left to `payWake`, which the caller makes once its answers are out. Made here, it woke
    /// both threads from inside `condition` and the append's locks: at 200 orders a second, one client,
    /// the `futex` broadcast and the unlock that then found a woken thread waiting for `condition` took
    /// 13–30 µs of every order before its acknowledgement (docs/performance.md). A wake-up that must not
    /// wait — `urgentCount` events waiting, or the backlog over its limit — is made at once, and so is a
    /// large batch's (more than `deferredWakeLimit` events: a burst, a quote's pass, a `cancel_all`), whose
    /// publication to subscribers would hold the copying back while its events wait in memory.
    func add(_ linked: Batch, deferWake: Bool = false) {
        guard let last = linked.last else { return }
        var released: [Batch] = []
        condition.lock()
        defer {
            condition.unlock()
            // Released here, on the appending thread that made them, after `condition` is let go.
            withExtendedLifetime(released) {}
        }
        swap(&released, &toRelease)
        let before = backlogCount
        // Taken whole when nothing waits to be taken (the usual case at low load): no copy of its records.
        if unindexed.isEmpty {
            unindexed = linked
        } else {
            unindexed.append(contentsOf: linked)
        }
        appendedSeq = last.record.seq
        if before == 0 { oldestAt = Date() }
        let due = before == 0 || (lingering && backlogCount >= lingerCount)
        if (before < urgentCount && backlogCount >= urgentCount) || backlogCount > backlogLimit
            || (due && !(deferWake && linked.count <= Self.deferredWakeLimit))
        {
            condition.broadcast()
        } else if due {
            wakeOwed.store(true, ordering: .releasing)
        }
        while backlogCount > backlogLimit, running { waitForProgress() }
    }

    /// The most events an append may leave its wake-up owed for (`add`).
    static let deferredWakeLimit = 64

    /// Whether an append's wake-up is still owed (`payWake`).
    var wakeIsOwed: Bool { wakeOwed.load(ordering: .relaxed) }

    /// Makes the wake-up that `add` left for later, if one is owed; outside `condition`, so that the
    /// woken threads do not find it held. None is lost: a thread waits on `condition` only after looking,
    /// under it, for events to copy.
    func payWake() {
        guard wakeOwed.load(ordering: .relaxed), wakeOwed.exchange(false, ordering: .acquiringAndReleasing) else {
            return
        }
        condition.broadcast()
    }

    /// Whether the tables hold every event up to `seq` — on the disk, when the journal is durable (as of
    /// their last sync).
    func holds(through seq: Int64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return (durable ? durableSeq : indexedSeq) >= seq
    }

    /// The newest event the tables' last sync covered.
    func durableThrough() -> Int64 {
        condition.lock()
        defer { condition.unlock() }
        return durableSeq
    }

    /// Waits until the tables hold every event up to `seq` (by default every event appended so far).
    func waitUntilIndexed(_ seq: Int64? = nil) throws {
        condition.lock()
        defer { condition.unlock() }
        let target = seq ?? appendedSeq
        guard indexedSeq < target else { return }
        hurrying += 1
        defer { hurrying -= 1 }
        condition.broadcast()
        while indexedSeq < target {
            if let problem { throw JournalError(problem) }
            guard running else { throw JournalError("the journal is closed") }
            waitForProgress()
        }
    }

    /// Calls `body` once the tables hold every event appended so far (with the reason if they cannot),
    /// on an indexing thread or, when they already do, on this one.
    func whenIndexed(_ body: @escaping @Sendable ((any Error)?) -> Void) {
        condition.lock()
        guard indexedSeq < appendedSeq, running else {
            condition.unlock()
            return body(nil)
        }
        waiters.append((appendedSeq, body))
        condition.broadcast()
        condition.unlock()
    }

    /// The newest `order` event of `orderID` among the events not yet in the tables.
    func latestOrderPayload(_ orderID: String) -> String? {
        condition.lock()
        defer { condition.unlock() }
        func newest(in events: Batch) -> String? {
            events.last { $0.record.kind == "order" && $0.record.orderID == orderID }?.record.payload
        }
        return newest(in: unindexed) ?? newest(in: inFlight)
    }

    /// Copies what is waiting, then ends the threads; waits for them. Returns whether every event is in
    /// the tables.
    @discardableResult
    func stop() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while running { waitForProgress() }
        return indexedSeq == appendedSeq
    }

    /// For tests: stops copying (`resume` starts again); stopping then leaves the events in the log only.
    func pause() {
        condition.lock()
        paused = true
        condition.unlock()
    }

    func resume() {
        condition.lock()
        paused = false
        condition.broadcast()
        condition.unlock()
    }

    /// How many appended events the tables do not hold yet, and why they cannot take them when they
    /// cannot (the last transaction failed).
    func backlog() -> (events: Int, problem: String?) {
        condition.lock()
        defer { condition.unlock() }
        return (backlogCount, problem)
    }

    /// For tests: makes every transaction fail with `reason` (`nil` ends it).
    func failTransactions(_ reason: String?) {
        condition.lock()
        failure = reason
        condition.broadcast()
        condition.unlock()
    }

    /// For tests: keeps the background thread from taking a batch, as if other work kept it from a core.
    func stallBackground() {
        condition.lock()
        backgroundStalled = true
        condition.unlock()
    }

    /// For tests: the next batch either thread takes waits, once taken, until `release` is signalled;
    /// `taken` is signalled when it is taken.
    func holdNextWrite() -> (taken: DispatchSemaphore, release: DispatchSemaphore) {
        let hold = (taken: DispatchSemaphore(value: 0), release: DispatchSemaphore(value: 0))
        condition.lock()
        writeHold = hold
        condition.unlock()
        return hold
    }

    /// For tests: how many written batches wait for the next append to release them.
    func batchesHeldForRelease() -> Int {
        condition.lock()
        defer { condition.unlock() }
        return toRelease.count
    }

    /// For tests: the batches each thread has written.
    func batchesWritten(by role: Role) -> Int {
        condition.lock()
        defer { condition.unlock() }
        return written[role] ?? 0
    }

    /// Waits until the tables hold every event up to `seq` without hurrying the threads as a reader does:
    /// the idle-priority thread copies them in its own time, and the normal-priority one only what has
    /// waited `maxAge`. For work no one waits on (a checkpoint) and for tests. False after `timeout`
    /// seconds, or as soon as copying has failed or ended (`waitUntilIndexed` then says why).
    func waitQuietly(through seq: Int64, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        progressWaiters += 1
        defer { progressWaiters -= 1 }
        while indexedSeq < seq {
            guard problem == nil, running else { return false }
            guard condition.wait(until: deadline) else { return indexedSeq >= seq }
        }
        return true
    }

    /// Ends the threads once what is waiting is copied, without waiting for them.
    func stopSoon() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func run(_ role: Role) {
        condition.lock()
        while var batch = nextBatch(for: role) {
            writing = true
            writer = role
            let idle = role == .background && backgroundThread != nil
            let injected = failure
            let hold = writeHold
            writeHold = nil
            condition.unlock()
            if let hold {
                hold.taken.signal()
                hold.release.wait()
            }
            let result = Result {
                if let injected { throw JournalError(injected) }
                // At `SCHED_IDLE` for the batch (again, if the other thread brought it back); a durable
                // journal's commit at normal priority (see the type's comment).
                if idle { Self.schedule(idle: true) }
                try Self.write(batch, to: pool, yieldEvery: idle ? Self.idleYieldEvery : nil) {
                    if idle, durable { Self.schedule(idle: false) }
                }
                // Waiting for the next batch at `SCHED_IDLE` too: woken at normal priority, the thread
                // took a core from the order path each time, and the ack's p99 showed it.
                if idle, durable { Self.schedule(idle: true) }
            }
            if case .success = result { checkpointer.committed(records: batch.count) }
            let batchEnd = batch.last!.record.seq
            // This thread lets go of the batch: once written, the next append releases it (`toRelease`).
            batch = []
            // Released here instead when appends stop coming: no more than a few batches wait for one.
            var unclaimed: [Batch] = []
            condition.lock()
            writing = false
            writer = nil
            let answered: [(seq: Int64, body: @Sendable ((any Error)?) -> Void)]
            let reason: String?
            switch result {
            case .success:
                written[role, default: 0] += 1
                toRelease.append(inFlight)
                inFlight = []
                if toRelease.count > Self.releaseHeld { swap(&unclaimed, &toRelease) }
                indexedSeq = batchEnd
                problem = nil
                retryAt = nil
                oldestAt = unindexed.isEmpty ? .distantFuture : Date()
                answered = waiters.filter { $0.seq <= indexedSeq }
                waiters.removeAll { $0.seq <= indexedSeq }
                reason = nil
            case .failure(let error):
                reason =
                    "events after \(indexedSeq) are in the journal's log but could not be copied into its tables: \(error)"
                problem = reason
                retryAt = Date().addingTimeInterval(0.05)
                // Back in front of what arrived meanwhile, to be tried again.
                unindexed = inFlight + unindexed
                inFlight = []
                answered = waiters
                waiters.removeAll()
            }
            if progressWaiters > 0 || reason != nil || stopping { condition.broadcast() }
            condition.unlock()
            withExtendedLifetime(unclaimed) {}
            for waiter in answered { waiter.body(reason.map { JournalError($0) }) }
            condition.lock()
            if durable, reason == nil, !syncingTables, indexedSeq - durableSeq >= syncEvery {
                syncTablesNow(idle: idle)
            }
        }
        threadsRunning -= 1
        var left: [(seq: Int64, body: @Sendable ((any Error)?) -> Void)] = []
        if threadsRunning == 0 {
            running = false
            left = waiters
            waiters.removeAll()
        }
        let reason = problem ?? "the journal is closed"
        condition.broadcast()
        condition.unlock()
        for waiter in left { waiter.body(JournalError(reason)) }
    }

    /// Syncs the tables to the disk and records that every event they held before is there; a sync that
    /// fails is tried again after the next batch. At normal priority: preempted at `SCHED_IDLE` inside the
    /// sync, the thread would hold the log's own `fdatasync` up. Holds `condition` (let go meanwhile).
    private func syncTablesNow(idle: Bool) {
        let covered = indexedSeq
        syncingTables = true
        condition.unlock()
        if idle { Self.schedule(idle: false) }
        let synced = syncTables()
        if idle { Self.schedule(idle: true) }
        condition.lock()
        syncingTables = false
        if synced { durableSeq = max(durableSeq, covered) }
    }

    /// Waits for the next batch `role` writes and takes it; `nil` when the thread ends. Holds `condition`.
    private func nextBatch(for role: Role) -> Batch? {
        while true {
            let hurried = !waiters.isEmpty || hurrying > 0
            if stopping {
                // The normal-priority thread finishes the work, unless it cannot be done.
                if role == .background || backlogCount == 0 || problem != nil || paused { return nil }
                if writing {
                    waitForProgress()
                    continue
                }
                return take(batchLimit)
            }
            if role == .urgent, writing, writer == .background, backlogCount > 0 {
                // The batch under way is the idle thread's: if this one must not wait, bring that thread
                // back to normal priority so that it finishes on a core of its own.
                let due = oldestAt.addingTimeInterval(maxAge)
                if hurried || backlogCount >= urgentCount || Date() >= due {
                    boostBackground()
                    waitForProgress()
                } else {
                    _ = condition.wait(until: due)
                }
                continue
            }
            if unindexed.isEmpty || paused || writing || (role == .background && backgroundStalled) {
                waitForProgress()
                continue
            }
            switch role {
            case .background:
                guard problem == nil, !hurried, unindexed.count < urgentCount else {
                    waitForProgress()
                    continue
                }
                lingerOverBatch()
                if stopping || paused || writing || problem != nil || unindexed.isEmpty { continue }
                if !waiters.isEmpty || hurrying > 0 || unindexed.count >= urgentCount { continue }
                // At most a lingering batch: a reader may wait for this thread's batch while other work
                // keeps it from a core.
                return take(lingerCount)
            case .urgent:
                let now = Date()
                if let retryAt, now < retryAt {
                    _ = condition.wait(until: retryAt)
                    continue
                }
                let due = oldestAt.addingTimeInterval(maxAge)
                if problem != nil || hurried || unindexed.count >= urgentCount || now >= due {
                    return take(batchLimit)
                }
                _ = condition.wait(until: due)
            }
        }
    }

    /// Waits on `condition` until woken, counted in `progressWaiters`. Holds `condition`.
    private func waitForProgress() {
        progressWaiters += 1
        condition.wait()
        progressWaiters -= 1
    }

    /// Takes the oldest `limit` waiting events as the batch to write (`inFlight`): all of them, as they
    /// usually are, by taking the array itself. Holds `condition`.
    private func take(_ limit: Int) -> Batch {
        if unindexed.count <= limit {
            inFlight = unindexed
            unindexed = []
        } else {
            inFlight = Array(unindexed.prefix(limit))
            unindexed.removeFirst(limit)
        }
        return inFlight
    }

    /// Waits, up to `linger`, for the batch to fill while nobody waits for it. Holds `condition`.
    private func lingerOverBatch() {
        guard linger > 0 else { return }
        let deadline = Date().addingTimeInterval(linger)
        lingering = true
        defer { lingering = false }
        while !stopping, !paused, !writing, problem == nil, waiters.isEmpty, hurrying == 0,
            unindexed.count < lingerCount
        {
            guard condition.wait(until: deadline) else { return }
        }
    }

    /// Sets the calling thread's scheduling policy (or `thread`'s): `SCHED_IDLE` (5) or normal
    /// (`SCHED_OTHER`, 0).
    @discardableResult
    private static func schedule(idle: Bool, thread: pid_t = 0) -> Bool {
        var parameters = sched_param(sched_priority: 0)
        return sched_setscheduler(thread, idle ? 5 : 0, &parameters) == 0
    }

    /// Brings the background thread back to normal priority for the rest of its batch. Holds `condition`.
    private func boostBackground() {
        guard let backgroundThread else { return }
        Self.schedule(idle: false, thread: backgroundThread)
    }

    /// Whether a thread of this process may go to `SCHED_IDLE` and come back (root, or an `RLIMIT_NICE`
    /// of 20 or more); tried once, on a thread that ends right after.
    static let canReturnFromIdle: Bool = {
        let result = Mutex(false)
        let done = DispatchSemaphore(value: 0)
        let probe = Thread {
            result.withLock { $0 = schedule(idle: true) && schedule(idle: false) }
            done.signal()
        }
        probe.start()
        done.wait()
        return result.withLock { $0 }
    }()

    /// The calling thread's kernel id (`gettid`, which Swift's Glibc module leaves out).
    private static func threadID() -> pid_t? {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: "/").last.flatMap { pid_t($0) }
    }

    /// Inserts `batch` in one transaction, begun and committed with cached statements (GRDB's `write`
    /// compiles `BEGIN` and `COMMIT` anew each time); `beforeCommit` runs between the two.
    static func write(
        _ batch: Batch, to pool: DatabasePool, yieldEvery: Int? = nil, beforeCommit: () -> Void = {}
    ) throws {
        try pool.writeWithoutTransaction { db in
            try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
            do {
                try Self.insert(batch, into: db, yieldEvery: yieldEvery)
                beforeCommit()
                try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
            } catch {
                if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
                throw error
            }
        }
    }

    /// How many rows the idle-priority thread inserts between two offers of its core (`sched_yield`).
    /// Even at `SCHED_IDLE` the kernel's fair scheduler lets it take the engine's core now and then at a
    /// timer tick, and it kept it until the next tick, up to 4 ms: 32–47 times in 3 s of one client's
    /// orders, 54–76 ms in all. Offered back every 128 rows, 17–22 times and 11–14 ms, none past 2 ms.
    /// Every 32 rows cut it further but let the tables fall behind under load, and the peak RSS with
    /// 100 000 resting orders went past 150 MiB in two runs of four (docs/performance.md).
    static let idleYieldEvery = 128

    /// Inserts linked events that continue the table without a gap; anything else is refused whole.
    private static func insert(_ batch: Batch, into db: Database, yieldEvery: Int? = nil) throws {
        guard let first = batch.first else { return }
        let last = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM events")) ?? 0
        guard first.record.seq == last + 1 else {
            throw JournalError("sequence \(first.record.seq) does not follow \(last)")
        }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO events(seq, ts, kind, account, symbol, order_id, client_order_id, strategy, payload,
                    hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        // Bound with SQLite's own calls: GRDB's `execute(arguments:)` built an array of boxed values per
        // row, about a sixth of this thread's time under load (docs/performance.md). The row's text and
        // hash are copied into one buffer, reused for the whole batch, and bound where they lie
        // (`SQLITE_STATIC`) for the row's `sqlite3_step`: bound as copies (`SQLITE_TRANSIENT`), each of
        // the eight took a `malloc` and a `free` in SQLite, some 40 an order, under the allocator's one
        // lock that the engine's thread takes too (docs/performance.md).
        let handle = statement.sqliteStatement
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        var row = RowBytes()
        for (index, (record, hash)) in batch.enumerated() {
            if let yieldEvery, index > 0, index % yieldEvery == 0 { sched_yield() }
            sqlite3_reset(handle)
            sqlite3_bind_int64(handle, 1, record.seq)
            sqlite3_bind_int64(handle, 2, record.ts)
            row.fill(record, hash)
            let code = row.bytes.withUnsafeBufferPointer { bytes -> Int32 in
                let base = UnsafeRawPointer(bytes.baseAddress!)
                func text(_ range: Range<Int>?, _ parameter: Int32) {
                    guard let range else {
                        sqlite3_bind_null(handle, parameter)
                        return
                    }
                    _ = sqlite3_bind_text(
                        handle, parameter, (base + range.lowerBound).assumingMemoryBound(to: CChar.self),
                        Int32(range.count), nil)
                }
                text(row.kind, 3)
                text(row.account, 4)
                text(row.symbol, 5)
                text(row.orderID, 6)
                text(row.clientOrderID, 7)
                text(row.strategy, 8)
                text(row.payload, 9)
                _ = sqlite3_bind_blob(handle, 10, base + row.hash.lowerBound, Int32(row.hash.count), nil)
                // Unbound before the buffer changes: SQLite reads the bytes only in `sqlite3_step`.
                defer { sqlite3_clear_bindings(handle) }
                return sqlite3_step(handle)
            }
            guard code == SQLITE_DONE else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code),
                    message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
        }
    }

    /// One row's text and hash end to end in a buffer kept for the batch, bound where they lie
    /// (`SQLITE_STATIC`, a null destructor); where each lies, `nil` for a null.
    private struct RowBytes {
        var bytes: [UInt8] = []
        var kind, account, symbol, orderID, clientOrderID, strategy, payload: Range<Int>?
        var hash = 0..<0

        init() { bytes.reserveCapacity(1_024) }

        mutating func fill(_ record: JournalRecord, _ chainHash: ChainHash) {
            bytes.removeAll(keepingCapacity: true)
            kind = append(record.kind)
            account = append(record.account)
            symbol = append(record.symbol)
            orderID = append(record.orderID)
            clientOrderID = append(record.clientOrderID)
            strategy = append(record.strategy)
            payload = append(record.payload)
            let start = bytes.count
            chainHash.withUnsafeBytes { bytes.append(contentsOf: $0) }
            hash = start..<bytes.count
        }

        private mutating func append(_ text: String?) -> Range<Int>? {
            guard let text else { return nil }
            let start = bytes.count
            bytes.append(contentsOf: text.utf8)
            return start..<bytes.count
        }
    }
}
