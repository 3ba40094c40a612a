import Foundation
import GRDB

/// Copies events from the journal's log into SQLite's tables, on a thread of its own, in batches: every
/// event appended while the last batch was being written goes into the next transaction.
///
/// Holds the events appended and not yet in the tables (`unindexed`), so that a finished order's newest
/// state can be found before its batch reaches the tables, and lets readers wait until the tables hold
/// every event appended before they asked (`waitUntilIndexed`). A failed transaction (the disk full, the
/// database locked past its timeout) is tried again every 50 ms; the events stay in the log and in memory
/// meanwhile, and reads fail with the reason.
final class JournalIndexer: @unchecked Sendable {
    private let pool: DatabasePool
    private let checkpointer: WALCheckpointer
    private let condition = NSCondition()
    /// Most events a transaction takes.
    private let batchLimit = 4_096
    /// Most events held before an append waits for the tables to catch up.
    let backlogLimit: Int

    // Guarded by `condition`.
    private var unindexed: [(record: JournalRecord, hash: Data)] = []
    private var appendedSeq: Int64
    private var indexedSeq: Int64
    private var problem: String?
    private var stopping = false
    private var running = true
    /// For tests: nothing is copied while set, as if the process had died after appending.
    private var paused = false
    private var waiters: [(seq: Int64, body: @Sendable ((any Error)?) -> Void)] = []

    init(pool: DatabasePool, checkpointer: WALCheckpointer, indexedSeq: Int64, backlogLimit: Int = 100_000) {
        self.pool = pool
        self.checkpointer = checkpointer
        self.appendedSeq = indexedSeq
        self.indexedSeq = indexedSeq
        self.backlogLimit = backlogLimit
        let thread = Thread { [self] in run() }
        thread.name = "journal-index"
        thread.start()
    }

    /// Hands appended events over to be copied; waits while more than `backlogLimit` are waiting.
    func add(_ linked: [(record: JournalRecord, hash: Data)]) {
        guard let last = linked.last else { return }
        condition.lock()
        defer { condition.unlock() }
        unindexed.append(contentsOf: linked)
        appendedSeq = last.record.seq
        condition.broadcast()
        while unindexed.count > backlogLimit, running { condition.wait() }
    }

    /// Whether the tables hold every event up to `seq` (on the disk, when the journal is durable: its
    /// tables then commit with `synchronous=FULL`).
    func holds(through seq: Int64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return indexedSeq >= seq
    }

    /// Waits until the tables hold every event up to `seq` (by default every event appended so far).
    func waitUntilIndexed(_ seq: Int64? = nil) throws {
        condition.lock()
        defer { condition.unlock() }
        let target = seq ?? appendedSeq
        while indexedSeq < target {
            if let problem { throw JournalError(problem) }
            guard running else { throw JournalError("the journal is closed") }
            condition.wait()
        }
    }

    /// Calls `body` once the tables hold every event appended so far (with the reason if they cannot),
    /// on the indexer's thread or, when they already do, on this one.
    func whenIndexed(_ body: @escaping @Sendable ((any Error)?) -> Void) {
        condition.lock()
        guard indexedSeq < appendedSeq, running else {
            condition.unlock()
            return body(nil)
        }
        waiters.append((appendedSeq, body))
        condition.unlock()
    }

    /// The newest `order` event of `orderID` among the events not yet in the tables.
    func latestOrderPayload(_ orderID: String) -> String? {
        condition.lock()
        defer { condition.unlock() }
        return unindexed.last { $0.record.kind == "order" && $0.record.orderID == orderID }?.record.payload
    }

    /// Copies what is waiting, then ends the thread; waits for it. Returns whether every event is in the
    /// tables.
    @discardableResult
    func stop() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
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

    /// Ends the thread once what is waiting is copied, without waiting for it.
    func stopSoon() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while unindexed.isEmpty || paused, !stopping { condition.wait() }
            if unindexed.isEmpty || (stopping && (problem != nil || paused)) {
                running = false
                let left = waiters
                let reason = problem ?? "the journal is closed"
                waiters.removeAll()
                condition.broadcast()
                condition.unlock()
                for waiter in left { waiter.body(JournalError(reason)) }
                return
            }
            let batch = Array(unindexed.prefix(batchLimit))
            condition.unlock()
            do {
                try Self.write(batch, to: pool)
            } catch {
                condition.lock()
                let reason =
                    "events after \(indexedSeq) are in the journal's log but could not be copied into its tables: \(error)"
                problem = reason
                let failed = waiters
                waiters.removeAll()
                condition.broadcast()
                condition.unlock()
                for waiter in failed { waiter.body(JournalError(reason)) }
                condition.lock()
                if !stopping { _ = condition.wait(until: Date().addingTimeInterval(0.05)) }
                condition.unlock()
                continue
            }
            checkpointer.committed(records: batch.count)
            condition.lock()
            unindexed.removeFirst(batch.count)
            indexedSeq = batch.last!.record.seq
            problem = nil
            let due = waiters.filter { $0.seq <= indexedSeq }
            waiters.removeAll { $0.seq <= indexedSeq }
            condition.broadcast()
            condition.unlock()
            for waiter in due { waiter.body(nil) }
        }
    }

    /// Inserts `batch` in one transaction, begun and committed with cached statements (GRDB's `write`
    /// compiles `BEGIN` and `COMMIT` anew each time).
    static func write(_ batch: [(record: JournalRecord, hash: Data)], to pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
            do {
                try Self.insert(batch, into: db)
                try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
            } catch {
                if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
                throw error
            }
        }
    }

    /// Inserts linked events that continue the table without a gap; anything else is refused whole.
    private static func insert(_ batch: [(record: JournalRecord, hash: Data)], into db: Database) throws {
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
        for (record, hash) in batch {
            try statement.execute(arguments: [
                record.seq, record.ts, record.kind, record.account, record.symbol, record.orderID,
                record.clientOrderID, record.strategy, record.payload, hash,
            ])
        }
    }
}
