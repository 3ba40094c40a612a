import Crypto
import GRDB
import Glibc
public import Foundation
import Synchronization

/// The append-only event journal: each batch appended to the journal's log (`JournalLog`, one `pwrite`
/// and, when durable, one `fdatasync`) before anything is answered, then copied into SQLite (WAL mode,
/// `synchronous=FULL`, or `NORMAL` in the `fast` durability) by a thread of its own (`JournalIndexer`).
/// Sequence numbers are contiguous from 1, enforced by triggers that refuse any update or delete. Every
/// read waits until the tables hold every event appended before it, so readers see what was answered.
/// The only type that touches SQLite (DESIGN.md).
public final class EventJournal: Sendable {
    private let pool: DatabasePool
    /// The log and the newest event appended to it, under the append lock.
    private struct Appender: ~Copyable {
        /// Two files used in turn: when the one in use has grown past `logReuseSize`, appends go to the
        /// other from its start, once every event in the other is on the disk in the tables.
        let logs: [JournalLog]
        var current = 0
        /// The newest event in each file since it was last started from the beginning (0: none).
        var newest: [Int64] = [0, 0]
        var seq: Int64
        var hash: ChainHash
        var buffer: [UInt8] = []
        /// Set when a write to the log failed: nothing more is appended until the journal is opened again.
        var failure: String?
    }
    private let appender: Mutex<Appender>
    /// Held while the log is written and synced, and while the tables are synced, so that the two syncs
    /// never share the disk at once. Holds whether the tables' syncs fail, for tests.
    private let disk = DiskTurn()
    let indexer: JournalIndexer
    /// The log is written from its start again once it holds more than this and every event in it is in
    /// the tables.
    let logReuseSize: Int64
    /// A random id made when the journal file was created; prefixes order ids so that they stay unique
    /// at the broker even if the journal is ever started anew.
    public let instanceID: String
    public let path: String
    /// Fault injection for the fail-stop tests: appends left before every append fails.
    private let failAfter = Mutex<Int?>(nil)
    /// Copies the log back into the file off the writer's thread (the writer's own checkpoints are off).
    let checkpointer: WALCheckpointer

    /// Makes every append after the next `appends` fail (as a full disk would), for fault-injection tests.
    public func injectAppendFailure(after appends: Int) {
        failAfter.withLock { $0 = appends }
    }

    /// For tests: every copy of events into the tables fails with `reason` until called with `nil`, as
    /// when the database is locked by another process; appends still succeed (into the log).
    public func injectTableFailure(_ reason: String?) {
        indexer.failTransactions(reason)
    }

    /// How an append reaches the disk.
    public enum Durability: String, Sendable, Hashable, CaseIterable {
        /// Each batch is `fdatasync`ed in the log before the append returns: an acknowledged event
        /// survives a power loss (one `fdatasync` per batch, shared by every order in it).
        case durable
        /// Written to the log without waiting for the disk: an acknowledged event survives a crash of the
        /// process; the last moments before a power loss or a kernel crash may be lost.
        case fast
    }

    /// Events that were in the log and not in the tables when the journal was opened (the process had
    /// ended between the two steps), copied in before anything read them.
    public let recoveredEvents: Int

    /// The durability this journal was opened with.
    public let durability: Durability

    /// Opens or creates the journal at `path`, creating its folder, and migrates its schema.
    /// - Parameter instanceID: the id a new journal takes (eight hex digits; by default a random one), for
    ///   a session meant to replay byte for byte; an existing journal keeps its own.
    /// - Parameter logReuseSize: how large the journal's log grows before it is written from its start
    ///   again (once every event in it is in the tables).
    /// - Parameter indexLinger: how long a batch of events waits for more before it is copied into the
    ///   tables while nobody waits for them, and how old the oldest may grow before it is copied at
    ///   normal priority (`JournalIndexer`); by default 20 ms and 100 ms when durable (fewer, larger
    ///   transactions leave the tables fewer pages to sync), 2 ms and 20 ms when fast.
    public init(
        path: String, durability: Durability = .durable, instanceID newID: String? = nil,
        logReuseSize: Int64 = 1 << 20,
        indexLinger: (linger: Duration, maxAge: Duration)? = nil
    ) throws {
        self.durability = durability
        self.logReuseSize = logReuseSize
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        // The writer waits (in short steps) rather than fail while the checkpointer restarts the log.
        configuration.busyMode = .shortSteps
        pool = try DatabasePool(path: path, configuration: configuration)
        // The tables commit with NORMAL in both durabilities: the log is what makes an event durable. When
        // durable, the indexer syncs the tables every half a log file's worth of events, never while the
        // log is being synced (`disk`), and a log file is reused only once the tables' last sync covers
        // its events (`JournalIndexer.holds`). With FULL commits the tables' syncs ran beside the log's
        // and its `fdatasync` waited behind them (docs/performance.md). (GRDB sets `synchronous = NORMAL`
        // on the writer when it turns WAL on; the setting is made here as well, so that it is stated.)
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        checkpointer = WALCheckpointer(path: path)
        try JournalSchema.migrator.migrate(pool)
        instanceID = try pool.write { db in
            if let existing = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'instance_id'") {
                return existing
            }
            let made = newID ?? String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let padded = String(repeating: "0", count: 8 - made.count) + made
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('instance_id', ?)", arguments: [padded])
            return padded
        }
        let logs = [try JournalLog(path: path + "-log"), try JournalLog(path: path + "-log2")]
        let head = try Self.recover(from: logs, into: pool, at: path)
        recoveredEvents = head.recovered
        for log in logs {
            // Grown ahead to what it is reused at, so that no append waits for the file's new length.
            try log.extend(to: logReuseSize + Int64(JournalLog.growth), sync: true)
        }
        appender = Mutex(Appender(logs: logs, seq: head.seq, hash: head.hash))
        let linger =
            indexLinger
            ?? (durability == .durable
                ? (.milliseconds(20), .milliseconds(100)) : (.milliseconds(2), .milliseconds(20)))
        let (disk, tables) = (disk, path)
        indexer = JournalIndexer(
            pool: pool, checkpointer: checkpointer, indexedSeq: head.seq, linger: linger.linger,
            maxAge: linger.maxAge, durable: durability == .durable,
            syncTables: {
                disk.state.withLock { failing in !failing && EventJournal.syncTables(at: tables) }
            },
            // About half a log file: a frame is some 500 bytes.
            syncEvery: Int(max(1, logReuseSize / 2 / 512)))
    }

    deinit { indexer.stopSoon() }

    /// Copies into the tables the events the log's files hold and they do not (the process ended between
    /// the append and the copy), checking each one's link in the chain; then, once the tables are on the
    /// disk, empties both files. Returns the newest event.
    private static func recover(from logs: [JournalLog], into pool: DatabasePool, at path: String) throws -> (
        seq: Int64, hash: ChainHash, recovered: Int
    ) {
        let stored = try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        }
        let storedSeq: Int64 = stored?["seq"] ?? 0
        var hash: Data = stored?["hash"] ?? HashChain.genesis
        var frames: [Int64: [(record: JournalRecord, hash: Data)]] = [:]
        for log in logs {
            for frame in try log.readFrames() {
                frames[frame.record.seq, default: []].append((frame.record, frame.hash))
            }
        }
        var missing: [(record: JournalRecord, hash: Data)] = []
        var next = storedSeq + 1
        // Event by event from the tables' newest: the frame of that number (in either file) that links to
        // the one before it. A torn frame, or one left from before a file was reused, does not.
        while let frame = frames[next]?.first(where: { HashChain.link(after: hash, $0.record) == $0.hash }) {
            missing.append(frame)
            hash = frame.hash
            next += 1
        }
        if missing.isEmpty, let first = frames.keys.filter({ $0 > storedSeq }).min(), first > storedSeq + 1 {
            throw JournalError(
                "the journal's log (\(logs.map(\.path).joined(separator: ", "))) continues at event \(first) but the "
                    + "journal ends at \(storedSeq): events \(storedSeq + 1)…\(first - 1) are missing; move the log's "
                    + "files aside to open the journal without them")
        }
        let linked = missing.compactMap { frame in ChainHash(frame.hash).map { (record: frame.record, hash: $0) } }
        guard let head = ChainHash(hash), linked.count == missing.count else {
            throw JournalError("the journal holds an event hash that is not 32 bytes: the chain cannot be continued")
        }
        if !linked.isEmpty { try JournalIndexer.write(linked, to: pool) }
        if !frames.isEmpty {
            guard Self.syncTables(at: path) else {
                throw JournalError("cannot sync the journal's tables to the disk before emptying its log")
            }
            for log in logs { try log.empty() }
        }
        return (missing.last?.record.seq ?? storedSeq, head, missing.count)
    }

    /// The size of the write-ahead log file in bytes (0 when there is none).
    public func walSize() -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// SQLite's `wal_autocheckpoint` on the writer (0: the writer never checkpoints).
    public func autoCheckpointSetting() throws -> Int {
        try pool.write { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? -1 }
    }

    /// SQLite's `synchronous` setting on the tables' writer: 2 FULL, 1 NORMAL.
    public func synchronousSetting() throws -> Int {
        try pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The highest sequence number written, 0 for an empty journal.
    public func lastSequence() throws -> Int64 {
        appender.withLock { $0.seq }
    }

    /// Appends `records` as one batch (`appendNow`). Their sequence numbers must continue the journal
    /// without a gap; anything else is refused whole.
    public func append(_ records: [JournalRecord]) async throws {
        try appendNow(records)
    }

    /// Appends `records` to the log, on the calling thread, and returns once they are there (and on the
    /// disk, when durable); the tables get them a moment later. Their sequence numbers must continue the
    /// journal without a gap; anything else is refused whole. After a failed write nothing more is
    /// appended: the journal must be opened again.
    ///
    /// `wakeLater`: the threads that copy the events into the tables are not woken here but by the
    /// caller's `wakeTables()`, once what must not wait for their wake-up is done (`JournalIndexer.add`).
    public func appendNow(_ records: [JournalRecord], wakeLater: Bool = false) throws {
        guard !records.isEmpty else { return }
        try checkInjectedFailure()
        let (sync, indexer, reuseSize) = (durability == .durable, indexer, logReuseSize)
        try appender.withLock { appender in
            if let failure = appender.failure { throw JournalError(failure) }
            guard records[0].seq == appender.seq + 1 else {
                throw JournalError("sequence \(records[0].seq) does not follow \(appender.seq)")
            }
            var linked: [(record: JournalRecord, hash: ChainHash)] = []
            linked.reserveCapacity(records.count)
            var hash = appender.hash
            appender.buffer.removeAll(keepingCapacity: true)
            for (offset, record) in records.enumerated() {
                guard record.seq == appender.seq + 1 + Int64(offset) else {
                    throw JournalError("sequence gap at \(record.seq)")
                }
                // The canonical bytes once, into the log's buffer, and hashed into the chain there.
                hash = JournalLog.appendFrame(of: record, after: hash, to: &appender.buffer)
                linked.append((record, hash))
            }
            do {
                // The other file is reused only when every event in it is in the tables (on the disk there,
                // when durable); its events are older than any in the file in use.
                let other = 1 - appender.current
                if appender.logs[appender.current].size > reuseSize, indexer.holds(through: appender.newest[other]) {
                    appender.logs[other].rewind(to: 0)
                    appender.current = other
                    appender.newest[other] = 0
                }
                try disk.state.withLock { _ in try appender.logs[appender.current].append(appender.buffer, sync: sync) }
            } catch {
                appender.failure = "\(error)"
                throw error
            }
            appender.seq = records[records.count - 1].seq
            appender.newest[appender.current] = appender.seq
            appender.hash = hash
            indexer.add(linked, deferWake: wakeLater)
        }
    }

    /// Wakes the threads that copy events into the tables, when an append with `wakeLater` left them
    /// asleep with events to copy.
    public func wakeTables() { indexer.payWake() }

    /// For tests: whether an append with `wakeLater` left the tables' threads asleep and `wakeTables` has
    /// not woken them yet.
    public var tablesWakeOwed: Bool { indexer.wakeIsOwed }

    /// For tests: makes every sync of the tables fail (or succeed again).
    func failTableSyncs(_ fail: Bool) {
        disk.state.withLock { $0 = fail }
    }

    /// Syncs the database's write-ahead log and its file (what a commit with `synchronous=FULL` does, and a
    /// checkpoint for the file): every commit made before it is then on the disk. A file that does not
    /// exist has nothing to sync.
    static func syncTables(at path: String) -> Bool {
        for file in [path + "-wal", path] {
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                if errno == ENOENT { continue }
                return false
            }
            defer { Glibc.close(fd) }
            guard fsync(fd) == 0 else { return false }
        }
        return true
    }

    /// Waits until SQLite's tables hold every event appended so far; reads call it first.
    private func indexed(through seq: Int64? = nil) throws {
        try indexer.waitUntilIndexed(seq)
    }

    /// How many events the log holds that the tables do not yet, and why they cannot take them when the
    /// last try failed. Does not wait: `status` asks it of a journal whose tables may be failing.
    public func tablesBacklog() -> (events: Int, problem: String?) { indexer.backlog() }

    /// For tests: the next durable append's `fdatasync` fails after its bytes were written.
    func failNextLogSync() {
        appender.withLock { $0.logs[$0.current].failNextSync = true }
    }

    /// For tests: stops copying events from the log into the tables, as if the process had died after
    /// appending them; `resumeIndexing` starts again.
    func pauseIndexing() { indexer.pause() }
    func resumeIndexing() { indexer.resume() }

    /// Calls `body` once SQLite's tables hold every event appended so far, with the reason if they cannot.
    public func whenIndexed(_ body: @escaping @Sendable ((any Error)?) -> Void) {
        indexer.whenIndexed(body)
    }

    private func checkInjectedFailure() throws {
        let injected = failAfter.withLock { left -> Bool in
            guard let remaining = left else { return false }
            left = max(0, remaining - 1)
            return remaining == 0
        }
        if injected { throw JournalError("injected failure: disk I/O error (the disk is full)") }
    }

    /// Records after `seq`, oldest first, at most `limit`.
    public func records(after seq: Int64, limit: Int) throws -> [JournalRecord] {
        try indexed()
        return try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit]
            )
            .map(JournalRecord.init(row:))
        }
    }

    /// The time of the newest fill of `account` (the last entry of the account's fills in their index), or
    /// `nil` when there is none.
    public func latestFillTimestamp(account: String) throws -> Int64? {
        try indexed()
        return try pool.read { db in
            try Int64.fetchOne(db, sql: Self.latestFillTimestampSQL, arguments: [account])
        }
    }

    /// `kind = 'fill'` is written out, not bound: SQLite uses a partial index (`events_fills`) only for a
    /// query whose own terms imply the index's condition when the statement is compiled.
    static let latestFillTimestampSQL =
        "SELECT ts FROM events WHERE kind = 'fill' AND account = ? ORDER BY seq DESC LIMIT 1"

    /// Records matching `query`, oldest first.
    public func records(matching query: JournalQuery) throws -> [JournalRecord] {
        let (sql, arguments) = Self.statement(matching: query)
        try indexed()
        return try pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map(JournalRecord.init(row:))
        }
    }

    /// The query of `records(matching:)`, with its arguments.
    static func statement(matching query: JournalQuery) -> (sql: String, arguments: StatementArguments) {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        func add(_ clause: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            clauses.append(clause)
            arguments += [value]
        }
        add("account = ?", query.account)
        add("symbol = ?", query.symbol)
        add("strategy = ?", query.strategy)
        add("order_id = ?", query.orderID)
        add("client_order_id = ?", query.clientOrderID)
        add("ts >= ?", query.since)
        add("ts < ?", query.until)
        add("seq > ?", query.afterSeq)
        if query.kinds == ["fill"] {
            // Written out, so that the fills' own partial index can serve it (`latestFillTimestampSQL`).
            clauses.append("kind = 'fill'")
        } else if let kinds = query.kinds, !kinds.isEmpty {
            clauses.append("kind IN (" + kinds.map { _ in "?" }.joined(separator: ",") + ")")
            for kind in kinds { arguments += [kind] }
        }
        let condition = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        arguments += [query.limit]
        return ("SELECT * FROM events\(condition) ORDER BY seq LIMIT ?", arguments)
    }

    /// Stores a checkpoint of the state after event `seq`, keeping the newest `keep` and the chains of
    /// bases they need, in pieces of `chunk` bytes (`CheckpointWriter`); waits for the journal's writer.
    /// Refused when `seq` is not a journaled event, or `base` not a stored checkpoint.
    public func writeCheckpoint(
        seq: Int64, ts: Int64, state: [UInt8], base: Int64? = nil, keep: Int = 2,
        chunk: Int = CheckpointWriter.pieceSize
    ) throws {
        let writer = try checkpointWriter(seq: seq, ts: ts, base: base)
        for start in stride(from: 0, to: state.count, by: max(1, chunk)) {
            try writer.append(state[start..<min(state.count, start + max(1, chunk))])
        }
        try writer.finish(keep: keep)
    }

    /// A writer for the checkpoint after event `seq`, whose state is handed to it piece by piece as it is
    /// encoded (so the whole state is never in memory at once). With a `base`, the state is read back only
    /// together with that checkpoint's (and its bases', back to one without): what the state means then
    /// is the caller's (the engine writes there only what its longest lists gained since the base).
    ///
    /// Waits first for the tables to hold event `seq`, without hurrying them for up to `quietWait`
    /// seconds (`JournalIndexer.waitQuietly`): no one waits for a checkpoint, and a hurried copy runs at
    /// normal priority beside the order path. One client's `fast` ack p99 was lower with checkpoints off
    /// in five pairs of runs out of five, and with this quiet wait in eight pairs out of ten (median 182
    /// against 200 µs; docs/performance.md). Past `quietWait` (the copying gets no core) the tables are
    /// hurried; when the copying has failed or ended, the failure is named at once.
    public func checkpointWriter(
        seq: Int64, ts: Int64, base: Int64? = nil, quietWait: TimeInterval = 1
    ) throws -> CheckpointWriter {
        if !indexer.waitQuietly(through: seq, timeout: quietWait) { try indexed(through: seq) }
        if let base, base >= seq { throw JournalError("checkpoint \(seq) cannot build on a newer one (\(base))") }
        let writer = CheckpointWriter(pool: pool, seq: seq, ts: ts, base: base)
        // Pieces left by an attempt at the same checkpoint that died before naming them.
        try writer.write { db in try db.execute(sql: "DELETE FROM checkpoint_pieces WHERE seq = ?", arguments: [seq]) }
        return writer
    }

    /// The seqs of the checkpoints stored, newest first, and how many pieces of state are stored.
    func checkpointRows() throws -> (seqs: [Int64], pieces: Int) {
        try indexed()
        return try pool.read { db in
            (
                try Int64.fetchAll(db, sql: "SELECT seq FROM checkpoints ORDER BY seq DESC"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkpoint_pieces") ?? 0
            )
        }
    }

    /// The newest checkpoint that still matches the journal, with the states of its chain of bases
    /// (`bases`, oldest first: the first is a checkpoint without a base). A checkpoint matches when its
    /// event's hash is the one it was taken after and its state hashes to what was stored, and is usable
    /// when every checkpoint of its chain matches; older ones are tried when the newest is not. A state
    /// is in the row itself (checkpoints written before `checkpoint_pieces`) or in its pieces.
    public func latestCheckpoint() throws -> (seq: Int64, state: Data, bases: [Data])? {
        try indexed()
        return try pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.seq, c.base, c.state_hash, c.head_hash, e.hash AS event_hash
                    FROM checkpoints c LEFT JOIN events e ON e.seq = c.seq ORDER BY c.seq DESC
                    """)
            let bySeq = Dictionary(uniqueKeysWithValues: rows.map { (row: Row) -> (Int64, Row) in (row["seq"], row) })
            // Each state is read (and checked) once, however many chains go through it; nil: unusable.
            var checked: [Int64: Data?] = [:]
            func state(_ seq: Int64) throws -> Data? {
                if let known = checked[seq] { return known }
                guard let row = bySeq[seq] else { return nil }
                var state =
                    try Data.fetchOne(db, sql: "SELECT state FROM checkpoints WHERE seq = ?", arguments: [seq])
                    ?? Data()
                if state.isEmpty {
                    let pieces = try Data.fetchCursor(
                        db, sql: "SELECT bytes FROM checkpoint_pieces WHERE seq = ? ORDER BY piece", arguments: [seq])
                    while let piece = try pieces.next() { state.append(piece) }
                }
                let eventHash: Data? = row["event_hash"]
                var hasher = CheckpointWriter.stateHasher(base: row["base"])
                hasher.update(data: state)
                let usable = eventHash == row["head_hash"] && Data(hasher.finalize()) == row["state_hash"]
                checked[seq] = usable ? state : nil
                return usable ? state : nil
            }
            newest: for row in rows {
                let seq: Int64 = row["seq"]
                var chain: [Data] = []
                var next: Int64? = seq
                while let link = next {
                    guard let linkState = try state(link) else { continue newest }
                    chain.append(linkState)
                    next = bySeq[link]?["base"]
                    if let base = next, base >= link { continue newest }
                }
                return (seq, chain[0], chain.dropFirst().reversed())
            }
            return nil
        }
    }

    /// Records after `seq`, in pages, calling `body` for each; replay after a checkpoint.
    public func forEachRecord(after seq: Int64, _ body: (JournalRecord) throws -> Void) throws {
        var after = seq
        while true {
            let page = try records(after: after, limit: 10_000)
            guard let last = page.last else { return }
            for record in page { try body(record) }
            after = last.seq
        }
    }

    /// The payload of the newest `order` event of `orderID`: a walk back over that order's own events.
    public func latestOrderPayload(_ orderID: String) throws -> String? {
        if let payload = indexer.latestOrderPayload(orderID) { return payload }
        return try pool.read { db in
            try String.fetchOne(db, sql: Self.latestOrderPayloadSQL, arguments: [orderID])
        }
    }

    /// Left to itself, SQLite's planner once read this through the index on `(kind, seq)` (dropped since),
    /// walking back over every order event newer than the order's last: 293 ms for the oldest order of a
    /// journal of a million events, on the engine's thread (a duplicate submit, a cancel of a finished
    /// order and a late fill read finished orders back). The index on `(order_id, seq)` finds it in a few
    /// steps, and is named so that no index added later can take its place.
    static let latestOrderPayloadSQL = """
        SELECT payload FROM events INDEXED BY events_by_order
        WHERE order_id = ? AND kind = 'order' ORDER BY seq DESC LIMIT 1
        """

    /// The newest `order` event payload of every order (of one account, symbol or strategy when given:
    /// an order's own never change), in the order of those events.
    public func latestOrderPayloads(account: String?, symbol: String? = nil, strategy: String? = nil) throws
        -> [String]
    {
        let filters = [("account", account), ("symbol", symbol), ("strategy", strategy)].filter { $0.1 != nil }
        let condition = filters.map { " AND \($0.0) = ?" }.joined()
        try indexed()
        return try pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT payload FROM events WHERE seq IN (
                        SELECT MAX(seq) FROM events WHERE kind = 'order'\(condition) GROUP BY order_id)
                    ORDER BY seq
                    """, arguments: StatementArguments(filters.map(\.1)))
        }
    }

    /// Walks the whole chain from the first event: sequence numbers contiguous from 1, and every stored
    /// hash equal to the one recomputed from the row and the link before it. Stops at the first problem.
    public func verify() throws -> JournalVerification {
        try indexed()
        return try pool.read { db in
            var result = JournalVerification(
                verified: true, events: 0, lastSeq: 0, headHash: HashChain.hex(HashChain.genesis))
            var previous = HashChain.genesis
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM events ORDER BY seq")
            while let row = try rows.next() {
                let record = JournalRecord(row: row)
                let stored: Data? = row["hash"]
                let expected = HashChain.link(after: previous, record)
                if record.seq != result.lastSeq + 1 {
                    result.verified = false
                    result.brokenSeq = result.lastSeq + 1
                    result.problem =
                        "sequence \(record.seq) follows \(result.lastSeq): events \(result.lastSeq + 1)…\(record.seq - 1) are missing"
                    result.expected = "seq \(result.lastSeq + 1)"
                    result.found = "seq \(record.seq)"
                    return result
                }
                if stored != expected {
                    result.verified = false
                    result.brokenSeq = record.seq
                    result.expected = HashChain.hex(expected)
                    result.found = HashChain.hex(stored)
                    result.problem =
                        "the hash of event \(record.seq) does not match its contents and the chain before it"
                    return result
                }
                previous = expected
                result.events += 1
                result.lastSeq = record.seq
            }
            result.headHash = HashChain.hex(previous)
            return result
        }
    }

    /// A consistent copy of the journal at `path` while it is in use (SQLite's online backup: readers
    /// never block the writer in WAL mode). Refuses to overwrite an existing file.
    public func backup(to path: String) throws -> Int64 {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw JournalError("\(path) already exists; name a new file")
        }
        try indexed()
        let copy = try DatabaseQueue(path: path)
        try pool.backup(to: copy)
        let events = try copy.read { db in try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0 }
        try copy.close()
        return events
    }

    /// Reads every record in order, in pages, calling `body` for each; for replay at start.
    public func forEachRecord(_ body: (JournalRecord) throws -> Void) throws {
        try forEachRecord(after: 0, body)
    }

    /// Checkpoints the WAL into the main file and closes the database.
    public func close() throws {
        // Every event into the tables first, and the tables onto the disk (a checkpoint syncs the
        // database file); the log is emptied only then, and only if they all got there.
        let indexed = indexer.stop()
        defer { appender.withLock { appender in for log in appender.logs { log.close() } } }
        appender.withLock { $0.failure = "the journal is closed" }
        try checkpointer.close()
        _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        if indexed { try appender.withLock { appender in for log in appender.logs { try log.empty() } } }
        try pool.close()
    }
}

extension JournalRecord {
    init(row: Row) {
        self.init(
            seq: row["seq"], ts: row["ts"], kind: row["kind"], account: row["account"], symbol: row["symbol"],
            orderID: row["order_id"], clientOrderID: row["client_order_id"], strategy: row["strategy"],
            payload: row["payload"])
    }
}

/// Writes one checkpoint: each piece of its state into `checkpoint_pieces` in a transaction of its own,
/// then the `checkpoints` row that names them, with the state's SHA-256 computed along the way. Binding
/// the whole state as one value made SQLite copy it twice (about 95 MiB at the peak for 100 000 open
/// orders) and its one long transaction held the engine's commits back for as long as it took; now a
/// commit waits for one piece at most. A crash before the row is written leaves pieces that no
/// checkpoint names: never read, deleted by the next checkpoint. One checkpoint is written at a time (the
/// engine starts the next only when the last is done): finishing one deletes the pieces of any other
/// that no row names yet. Used from one thread at a time; its calls wait for the journal's writer.
public final class CheckpointWriter {
    /// The size of the pieces a checkpoint's state is stored in: small enough that a commit waiting
    /// behind one waits little, large enough that a state of 100 000 orders is a few hundred rows.
    public static let pieceSize = 1 << 18

    private let pool: DatabasePool
    private let seq: Int64
    private let ts: Int64
    private let base: Int64?
    private var hash: SHA256
    private var pieces = 0
    /// The bytes of state handed over so far.
    public private(set) var size = 0

    fileprivate init(pool: DatabasePool, seq: Int64, ts: Int64, base: Int64?) {
        self.pool = pool
        self.seq = seq
        self.ts = ts
        self.base = base
        hash = Self.stateHasher(base: base)
    }

    /// What a state's hash starts from: nothing for a whole checkpoint; for one with a base, the base's
    /// seq. That binds the base to the state, and a gateway from before bases, which hashes the state
    /// alone, finds such a checkpoint damaged and uses the whole one its chain starts from (with the
    /// events after that) instead of taking the checkpoint's lists for whole ones.
    static func stateHasher(base: Int64?) -> SHA256 {
        var hasher = SHA256()
        if let base { hasher.update(data: Data("checkpoint base \(base)\n".utf8)) }
        return hasher
    }

    /// The next piece of the state.
    public func append(_ piece: some Collection<UInt8>) throws {
        let bytes = Data(piece)
        guard !bytes.isEmpty else { return }
        hash.update(data: bytes)
        size += bytes.count
        let (seq, n) = (seq, pieces)
        try write { db in
            try db.execute(
                sql: "INSERT INTO checkpoint_pieces(seq, piece, bytes) VALUES (?, ?, ?)", arguments: [seq, n, bytes])
        }
        pieces += 1
    }

    /// Runs `updates` in a transaction on GRDB's writer queue and waits for it. The caller is usually the
    /// checkpoint's thread at a lower priority: running the write there would hold the writer — and the
    /// engine's commits behind it — for as long as the busy machine leaves that thread waiting for a core.
    fileprivate func write(_ updates: @escaping @Sendable (Database) throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, any Error>>(.success(()))
        pool.asyncWrite(updates) { _, result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        try outcome.withLock { $0 }.get()
    }

    /// Makes the pieces a checkpoint, and deletes every checkpoint but the newest `keep` and those their
    /// chains of bases go through, and any pieces no checkpoint names.
    public func finish(keep: Int = 2) throws {
        let (seq, ts, base, stateHash) = (seq, ts, base, Data(hash.finalize()))
        try write { db in
            guard let head = try Data.fetchOne(db, sql: "SELECT hash FROM events WHERE seq = ?", arguments: [seq])
            else { throw JournalError("no event \(seq) to checkpoint after") }
            if let base,
                try Int64.fetchOne(db, sql: "SELECT seq FROM checkpoints WHERE seq = ?", arguments: [base]) == nil
            {
                throw JournalError("checkpoint \(seq) builds on checkpoint \(base), which is not stored")
            }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO checkpoints(seq, ts, head_hash, state_hash, state, base)
                    VALUES (?, ?, ?, ?, x'', ?)
                    """,
                arguments: [seq, ts, head, stateHash, base])
            try db.execute(
                sql: """
                    WITH RECURSIVE kept(seq) AS (
                        SELECT seq FROM (SELECT seq FROM checkpoints ORDER BY seq DESC LIMIT ?)
                        UNION SELECT c.base FROM checkpoints c JOIN kept ON c.seq = kept.seq WHERE c.base IS NOT NULL
                    )
                    DELETE FROM checkpoints WHERE seq NOT IN (SELECT seq FROM kept)
                    """,
                arguments: [keep])
            try db.execute(sql: "DELETE FROM checkpoint_pieces WHERE seq NOT IN (SELECT seq FROM checkpoints)")
        }
    }
}

/// The journal's turn at the disk: its log's sync and its tables' never run at once.
final class DiskTurn: Sendable {
    /// Whether the tables' syncs fail, for tests.
    let state = Mutex(false)
}
