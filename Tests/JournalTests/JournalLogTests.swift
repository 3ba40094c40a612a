import Foundation
import GRDB
@testable import Journal
import GatewayTesting
import Synchronization
import Testing

/// Events reach the journal's log before anything is answered and SQLite's tables a moment later: what
/// the log holds and the tables do not is copied at the next start, reads wait for the tables, and the
/// newest state of a finished order is found before its events reach them.
@Suite struct JournalLogTests {
    let folder = TestFolders.make("journal-log")
    var path: String { folder + "/journal.sqlite" }

    static func records(_ seqs: ClosedRange<Int64>, order: String = "o-1") -> [JournalRecord] {
        seqs.map { seq in
            JournalRecord(
                seq: seq, ts: 1_000 + seq, kind: seq % 4 == 0 ? "fill" : "order", account: "paper",
                symbol: seq % 2 == 0 ? "AAPL" : nil, orderID: order, clientOrderID: "c-\(seq)",
                strategy: seq % 3 == 0 ? "breakout" : nil, payload: #"{"seq":\#(seq),"note":"é ✓"}"#)
        }
    }

    /// Appends `records` to a journal whose tables never get them, as if the process died right after.
    func appendThenDie(_ records: [JournalRecord], before: [JournalRecord] = []) throws {
        let journal = try EventJournal(path: path, durability: .durable)
        if !before.isEmpty { try journal.appendNow(before) }
        try journal.indexer(caughtUpWithin: 10)
        journal.pauseIndexing()
        try journal.appendNow(records)
    }

    /// The log's bytes after its last frame are zeros: the frames end where the first zero length is.
    func logFrames() throws -> [(start: Int, end: Int)] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "-log")))
        var frames: [(Int, Int)] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            guard length > 0 else { break }
            frames.append((offset, offset + 4 + length + 32))
            offset += 4 + length + 32
        }
        return frames
    }

    @Test func eventsInTheLogAloneReachTheTablesAtTheNextStartAndTheChainHolds() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try appendThenDie(Self.records(4...9), before: Self.records(1...3))
        let reopened = try EventJournal(path: path)
        #expect(reopened.recoveredEvents == 6)
        #expect(try reopened.records(after: 0, limit: 100) == Self.records(1...9))
        #expect(try reopened.verify().verified)
        #expect(try reopened.verify().events == 9)
        try reopened.appendNow(Self.records(10...10))
        try reopened.close()
        // Closed cleanly: the log holds no frame (its first length is zero) and the tables hold everything.
        #expect(try logFrames().isEmpty)
        let raw = try DatabaseQueue(path: path)
        #expect(try raw.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") } == 10)
        try raw.close()
    }

    @Test func aBatchWhoseSyncFailedIsNotReadBackAtTheNextStart() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let journal = try EventJournal(path: path, durability: .durable)
            try journal.appendNow(Self.records(1...3))
            try journal.indexer(caughtUpWithin: 10)
            journal.pauseIndexing()
            try journal.appendNow(Self.records(4...5))
            // The disk fails: the batch's bytes were written, its fdatasync was not.
            journal.failNextLogSync()
            #expect(throws: JournalError.self) { try journal.appendNow(Self.records(6...8)) }
            // Nothing more is appended until the journal is opened again.
            #expect(throws: JournalError.self) { try journal.appendNow(Self.records(6...6)) }
        }
        // The refused batch's first length was zeroed: the frames after it are never read back, though
        // its bytes are in the file.
        #expect(try logFrames().count == 5)
        let reopened = try EventJournal(path: path, durability: .durable)
        #expect(reopened.recoveredEvents == 2)
        #expect(try reopened.lastSequence() == 5)
        #expect(try reopened.records(after: 0, limit: 10).map(\.seq) == [1, 2, 3, 4, 5])
        #expect(try reopened.verify().verified)
        try reopened.appendNow(Self.records(6...6))
        #expect(try reopened.lastSequence() == 6)
        try reopened.close()
    }

    @Test func aTornLastFrameIsDroppedAndTheNextEventTakesItsPlace() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try appendThenDie(Self.records(1...5))
        let frames = try logFrames()
        #expect(frames.count == 5)
        // The last frame half written: its second half never reached the disk.
        let handle = try #require(FileHandle(forUpdatingAtPath: path + "-log"))
        let last = frames[4]
        try handle.seek(toOffset: UInt64((last.start + last.end) / 2))
        try handle.write(contentsOf: Data(repeating: 0xAB, count: (last.end - last.start) / 2 + 1))
        try handle.close()

        let reopened = try EventJournal(path: path)
        #expect(try reopened.lastSequence() == 4)
        var replacement = Self.records(5...5)[0]
        replacement.payload = #"{"seq":5,"note":"again"}"#
        try reopened.appendNow([replacement])
        try reopened.appendNow(Self.records(6...7))
        #expect(
            try reopened.records(after: 3, limit: 10).map(\.payload) == [
                Self.records(4...4)[0].payload, replacement.payload, Self.records(6...6)[0].payload,
                Self.records(7...7)[0].payload,
            ])
        #expect(try reopened.verify().verified)
        try reopened.close()
    }

    @Test func aLogThatSkipsEventsTheTablesLackIsRefusedByName() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try appendThenDie(Self.records(1...4))
        // The first frame gone: the log starts at event 2, the tables hold nothing.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "-log")))
        let first = try logFrames()[0]
        try Data(bytes[first.end...]).write(to: URL(fileURLWithPath: path + "-log"))
        #expect {
            _ = try EventJournal(path: path)
        } throws: { error in
            "\(error)".contains("continues at event 2 but the journal ends at 0: events 1…1 are missing")
        }
    }

    @Test func readsWaitForTheTablesAndAFinishedOrderIsFoundBeforeItsEventsReachThem() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: path, durability: .fast)
        try journal.appendNow(Self.records(1...2, order: "o-1"))
        try journal.indexer(caughtUpWithin: 10)
        journal.pauseIndexing()
        try journal.appendNow(Self.records(3...3, order: "o-1") + Self.records(4...5, order: "o-2"))
        // In the log and memory only: o-1's newest change is event 3, o-2's event 5.
        #expect(try journal.latestOrderPayload("o-1") == Self.records(3...3)[0].payload)
        #expect(try journal.latestOrderPayload("o-2") == Self.records(5...5)[0].payload)
        #expect(try journal.lastSequence() == 5)

        // The read waits on a thread of its own (started here, not from a task, so that it never needs
        // one of the cooperative pool's few threads).
        let (started, finished) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let indexed = Mutex(false)
        let seqs = Mutex<[Int64]?>(nil)
        Thread {
            started.signal()
            seqs.withLock { $0 = try? journal.records(after: 0, limit: 100).map(\.seq) }
            finished.signal()
        }.start()
        started.wait()
        journal.resumeIndexing()
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(seqs.withLock { $0 } == [1, 2, 3, 4, 5])
        let called = DispatchSemaphore(value: 0)
        journal.whenIndexed { error in
            indexed.withLock { $0 = error == nil }
            called.signal()
        }
        #expect(called.wait(timeout: .now() + 10) == .success)
        #expect(indexed.withLock { $0 })
        try journal.close()
    }

    @Test func oneJournalWritesTheFileAtATime() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try EventJournal(path: path)
        try first.appendNow(Self.records(1...2))
        #expect {
            _ = try EventJournal(path: path)
        } throws: { error in
            "\(error)".contains("another gatewayd has this journal open")
        }
        try first.close()
        let second = try EventJournal(path: path)
        #expect(try second.lastSequence() == 2)
        try second.close()
    }

    /// When durable, the tables' own log is synced before the journal's log is reused: the events are on
    /// the disk in the tables before their frames are overwritten.
    @Test(arguments: EventJournal.Durability.allCases)
    func theLogIsWrittenFromItsStartAgainOnceTheTablesHoldEverythingInIt(durability: EventJournal.Durability)
        throws
    {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: path, durability: durability, logReuseSize: 2_000)
        let grown = try #require(try FileManager.default.attributesOfItem(atPath: path + "-log")[.size] as? Int)
        #expect(grown >= 2_000)
        for seq in Int64(1)...200 {
            try journal.appendNow(Self.records(seq...seq))
            try journal.indexer(caughtUpWithin: 10)
        }
        // Reused many times over, the two files in turn: each keeps the length it was grown to when
        // opened, and what each holds after its last reuse (new frames, then older ones) reads back as
        // a run of the newest events, the newest of all in one of them.
        var newest: [Int64] = []
        for file in [path + "-log", path + "-log2"] {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
            #expect(size == grown)
            // Read as the journal reads it at start: from the first frame while each follows the one before.
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            var seqs: [Int64] = []
            var offset = 0
            while offset + 4 <= bytes.count {
                let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
                guard length > 0, offset + 4 + length <= bytes.count,
                    let record = HashChain.record(fromCanonical: bytes[offset + 4..<offset + 4 + length]),
                    seqs.last.map({ record.seq == $0 + 1 }) ?? true
                else { break }
                seqs.append(record.seq)
                offset += 4 + length + 32
            }
            #expect(!seqs.isEmpty && seqs.count < 20)
            newest.append(seqs.last ?? 0)
        }
        #expect(newest.max() == 200)
        #expect(try journal.verify().events == 200)
        try journal.close()
    }
}

extension EventJournal {
    /// Waits, at most `seconds`, until the tables hold every event appended. A copy that fails answers the
    /// waiter with its error; the copy is retried (every 50 ms), and so is the wait: a copy under way when a
    /// test clears an injected failure still fails with it.
    func indexer(caughtUpWithin seconds: Double) throws {
        let deadline = DispatchTime.now() + seconds
        while true {
            let done = DispatchSemaphore(value: 0)
            let failed = Mutex(false)
            whenIndexed { error in
                failed.withLock { $0 = error != nil }
                done.signal()
            }
            guard done.wait(timeout: deadline) == .success else {
                throw JournalError("the tables did not catch up within \(seconds) s")
            }
            if !failed.withLock({ $0 }) { return }
        }
    }
}
