import Dispatch
import GRDB
import Glibc
import Synchronization

/// Copies the write-ahead log back into the database file on a thread of its own.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold (1 000 pages): every
/// few dozen batches one commit copied the log and fsynced the file while its orders waited — the order
/// path's p99. The journal's writer has automatic checkpoints off; every `every` commits (or
/// `everyRecords` events, whichever comes first) this
/// checkpointer, on a connection of its own, runs a PASSIVE checkpoint (copies the log while the writer
/// goes on appending), then a RESTART checkpoint that copies the few frames appended meanwhile and lets
/// the next commit write the log from its beginning again, so that the log stays the size of the work
/// between checkpoints and its blocks are reused, not allocated anew. The RESTART holds new commits back
/// while it copies those frames, and never waits: if a commit or a reader is under way it gives up at
/// once (`busyMode = .immediateError`) and is tried again after the next PASSIVE, so a long read (an
/// audit, a report) never holds the order path up.
///
/// Hand-written because SQLite offers only the automatic checkpoint in the committing connection or an
/// explicit call; GRDB exposes the call, not a schedule for it.
final class WALCheckpointer: Sendable {
    private let path: String
    private let every: Int
    private let everyRecords: Int
    private let queue = DispatchQueue(label: "journal-wal-checkpoint", qos: .utility)
    private struct State {
        var commits = 0
        var records = 0
        var running = false
        var paused = false
        var connection: DatabaseQueue?
        var restarts = 0
        var failures = 0
    }
    private let state = Mutex(State())

    init(path: String, every: Int = 256, everyRecords: Int = 20_000) {
        self.path = path
        self.every = every
        self.everyRecords = everyRecords
    }

    /// Counts a commit of `records` events; every `every` commits or `everyRecords` events (large
    /// batches under load make few commits but a long log) starts a checkpoint unless one is running.
    func committed(records: Int) {
        let start = state.withLock { state -> Bool in
            state.commits += 1
            state.records += records
            guard state.commits >= every || state.records >= everyRecords, !state.running, !state.paused else {
                return false
            }
            state.commits = 0
            state.records = 0
            state.running = true
            return true
        }
        if start { queue.async { self.checkpoint() } }
    }

    private func checkpoint() {
        defer { state.withLock { $0.running = false } }
        do {
            let connection = try state.withLock { state -> DatabaseQueue in
                if let connection = state.connection { return connection }
                var configuration = Configuration()
                configuration.busyMode = .immediateError
                let connection = try DatabaseQueue(path: path, configuration: configuration)
                state.connection = connection
                return connection
            }
            let restarted = try connection.writeWithoutTransaction { db -> Bool in
                _ = try db.checkpoint(.passive)
                // Each attempt gives up at once if a commit or a reader is under way; between commits
                // one soon finds the log free. Whatever is left waits for the next round.
                for _ in 0..<20 {
                    do {
                        _ = try db.checkpoint(.restart)
                        return true
                    } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                        usleep(200)
                    }
                }
                return false
            }
            state.withLock { if restarted { $0.restarts += 1 } }
        } catch {
            // The next checkpoint tries again; the log only grows meanwhile.
            state.withLock { $0.failures += 1 }
        }
    }

    /// Checkpoints that let the log restart, and checkpoints that failed.
    var counts: (restarts: Int, failures: Int) { state.withLock { ($0.restarts, $0.failures) } }

    /// Runs a checkpoint now and waits for it, whatever the count of commits.
    func checkpointNow() {
        state.withLock { $0.running = true }
        queue.sync { self.checkpoint() }
    }

    /// Stops counted commits from starting checkpoints (so a test can watch the log grow first).
    func pause() {
        queue.sync {}
        state.withLock { $0.paused = true }
    }

    /// Waits for a checkpoint under way and closes the checkpointer's connection.
    func close() throws {
        queue.sync {}
        let connection = state.withLock { state -> DatabaseQueue? in
            state.paused = true
            defer { state.connection = nil }
            return state.connection
        }
        try connection?.close()
    }
}

extension Database.BusyMode {
    /// For the journal's writer: while the checkpointer's RESTART holds commits back (a copy of a few
    /// frames and an fsync), wait in 50 µs steps instead of SQLite's first step of a whole millisecond;
    /// give up after 5 s.
    static var shortSteps: Database.BusyMode {
        .callback { retries in
            guard retries < 100_000 else { return false }
            usleep(50)
            return true
        }
    }
}
