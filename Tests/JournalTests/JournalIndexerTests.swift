import Foundation
@testable import Journal
import GatewayTesting
import Synchronization
import Testing

/// How events reach SQLite's tables: in batches that take many appends, at once when someone waits, and
/// at normal priority when the idle-priority thread cannot get a core.
@Suite struct JournalIndexerTests {
    let folder = TestFolders.make("journal-indexer")
    var path: String { folder + "/journal.sqlite" }

    static func record(_ seq: Int64) -> JournalRecord {
        JournalRecord(
            seq: seq, ts: 1_000 + seq, kind: "order", account: "paper", symbol: "AAPL", orderID: "o-\(seq)",
            clientOrderID: "c-\(seq)", strategy: nil, payload: #"{"seq":\#(seq)}"#)
    }

    /// What the next copy into the tables says: `nil` when they hold every event, else why they do not;
    /// `.none` when no copy was tried within 30 seconds.
    static func nextCopy(of journal: EventJournal) -> String?? {
        let done = DispatchSemaphore(value: 0)
        let heard = Mutex<String?>(nil)
        journal.whenIndexed { error in
            heard.withLock { $0 = error.map { "\($0)" } }
            done.signal()
        }
        guard done.wait(timeout: .now() + 30) == .success else { return .none }
        return .some(heard.withLock { $0 })
    }

    /// A `fast` journal whose tables refuse events ("database is locked"), with events 1 to 3 appended
    /// and a copy of them tried: a waiter hears of the failure, not of success.
    func journalWhoseTablesFail() throws -> EventJournal {
        let journal = try EventJournal(path: path, durability: .fast)
        journal.injectTableFailure("database is locked")
        try journal.appendNow((1...3).map(Self.record))
        #expect(Self.nextCopy(of: journal)??.contains("database is locked") == true)
        return journal
    }

    @Test func appendsShareOneTransactionAndAReaderCutsTheLingerShort() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Nothing would be copied for a minute unless someone waited.
        let journal = try EventJournal(
            path: path, durability: .fast, indexLinger: (.seconds(60), .seconds(60)))
        defer { try? journal.close() }
        for seq in Int64(1)...10 { try journal.appendNow([Self.record(seq)]) }
        #expect(!journal.indexer.holds(through: 1))
        #expect(journal.indexer.batchesWritten(by: .background) + journal.indexer.batchesWritten(by: .urgent) == 0)

        // A read waits for the tables: the ten appends go in at once, in one transaction.
        #expect(try journal.records(after: 0, limit: 100).map(\.seq) == Array(1...10))
        #expect(journal.indexer.batchesWritten(by: .background) == 0)
        #expect(journal.indexer.batchesWritten(by: .urgent) == 1)
    }

    @Test func withoutAReaderTheEventsReachTheTablesInOneTransaction() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: path, durability: .fast)
        defer { try? journal.close() }
        try journal.appendNow((1...5).map(Self.record))
        #expect(journal.indexer.waitQuietly(through: 5, timeout: 30))
        #expect(journal.indexer.batchesWritten(by: .background) + journal.indexer.batchesWritten(by: .urgent) == 1)
    }

    /// An append that leaves the threads' wake-up to its caller (the engine, once its answers are out)
    /// owes it until `wakeTables`; the events then reach the tables without a reader hurrying them. An
    /// append that does not leave it, or whose batch is large, owes nothing.
    @Test func anAppendThatLeavesTheWakeUpToItsCallerOwesItUntilPaid() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Only the idle-priority thread copies: the other would wait a minute for events to age.
        let journal = try EventJournal(path: path, durability: .fast, indexLinger: (.milliseconds(2), .seconds(60)))
        defer { try? journal.close() }
        try journal.appendNow((1...5).map(Self.record), wakeLater: true)
        #expect(journal.tablesWakeOwed)
        journal.wakeTables()
        #expect(!journal.tablesWakeOwed)
        #expect(journal.indexer.waitQuietly(through: 5, timeout: 30))
        #expect(journal.indexer.batchesWritten(by: .urgent) == 0)

        try journal.appendNow([Self.record(6)])
        #expect(!journal.tablesWakeOwed)
        #expect(journal.indexer.waitQuietly(through: 6, timeout: 30))

        // A large batch (a burst, a quote's pass) wakes the threads at once: its publication would hold
        // the copying back.
        let large = Int64(7 + JournalIndexer.deferredWakeLimit)
        try journal.appendNow((7...large).map(Self.record), wakeLater: true)
        #expect(!journal.tablesWakeOwed)
        #expect(journal.indexer.waitQuietly(through: large, timeout: 30))
    }

    @Test func whenTheIdleThreadGetsNoCoreTheOtherCopiesTheEventsOnceOldEnough() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: path, durability: .fast)
        defer { try? journal.close() }
        journal.indexer.stallBackground()
        try journal.appendNow((1...5).map(Self.record))
        #expect(journal.indexer.waitQuietly(through: 5, timeout: 30))
        #expect(journal.indexer.batchesWritten(by: .background) == 0)
        #expect(journal.indexer.batchesWritten(by: .urgent) >= 1)
        #expect(try journal.records(after: 0, limit: 100).map(\.seq) == Array(1...5))
    }
}

extension JournalIndexerTests {
    /// A checkpoint waits for the tables to hold its event without hurrying them: the idle-priority
    /// thread copies the events in its own time, and the normal-priority one (which a reader wakes at
    /// once) copies nothing.
    @Test func aCheckpointWaitsForTheTablesWithoutHurryingThem() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: path, durability: .fast, indexLinger: (.milliseconds(2), .seconds(60)))
        defer { try? journal.close() }
        try journal.appendNow((1...5).map(Self.record))
        _ = try journal.checkpointWriter(seq: 5, ts: 1_005, quietWait: 60)
        #expect(journal.indexer.holds(through: 5))
        #expect(journal.indexer.batchesWritten(by: .background) >= 1)
        #expect(journal.indexer.batchesWritten(by: .urgent) == 0)
    }

    /// When the tables refuse events, a checkpoint's quiet wait ends at once and the failure is named.
    @Test func aCheckpointWhoseTablesFailSaysWhyWithoutWaitingOut() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try journalWhoseTablesFail()
        defer { try? journal.close() }
        let began = Date()
        #expect(throws: JournalError.self) { try journal.checkpointWriter(seq: 3, ts: 1_003, quietWait: 120) }
        #expect(Date().timeIntervalSince(began) < 60)
    }
}

extension JournalIndexerTests {
    @Test func aFailingCopyIsReportedWithItsBacklogAndReadsNameItUntilCopyingResumes() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try journalWhoseTablesFail()
        defer { try? journal.close() }
        let backlog = journal.tablesBacklog()
        #expect(backlog.events == 3)
        #expect(backlog.problem?.contains("events after 0 are in the journal's log") == true)
        #expect(backlog.problem?.contains("database is locked") == true)
        #expect(throws: JournalError.self) { try journal.records(after: 0, limit: 10) }
        // Appends go on into the log meanwhile.
        try journal.appendNow([Self.record(4)])
        #expect(journal.tablesBacklog().events == 4)

        journal.injectTableFailure(nil)
        try journal.indexer(caughtUpWithin: 30)
        #expect(journal.tablesBacklog().events == 0)
        #expect(journal.tablesBacklog().problem == nil)
        #expect(try journal.records(after: 0, limit: 10).map(\.seq) == [1, 2, 3, 4])
    }
}

extension JournalIndexerTests {
    @Test func theTablesHoldEachFieldAsAppendedNullsEmptyTextAndAllAndTheChainVerifies() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: path, durability: .durable)
        defer { try? journal.close() }
        let records = [
            JournalRecord(
                seq: 1, ts: -5, kind: "order", account: "paper", symbol: "AAPL  261218C00200000", orderID: "o-1",
                clientOrderID: "c:1", strategy: "", payload: #"{"note":"é ✓ \u0000 \"quoted\""}"#),
            JournalRecord(
                seq: 2, ts: Int64.max, kind: "quote", account: nil, symbol: nil, orderID: nil, clientOrderID: nil,
                strategy: nil, payload: ""),
            JournalRecord(
                seq: 3, ts: 0, kind: "fill", account: "a-b_c", symbol: "BRK.B", orderID: "o-1", clientOrderID: "",
                strategy: "breakout ✓", payload: String(repeating: "x", count: 70_000)),
        ]
        try journal.appendNow(records)
        let read = try journal.records(after: 0, limit: 10)
        #expect(read == records)
        #expect(read.map(\.strategy) == ["", nil, "breakout ✓"])
        #expect(try journal.verify().verified)
    }
}

extension JournalIndexerTests {
    @Test func eventsBeingCopiedAreStillFoundAndCountedUntilTheTablesHoldThem() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: path, durability: .fast)
        defer { try? journal.close() }
        let hold = journal.indexer.holdNextWrite()
        try journal.appendNow((1...3).map(Self.record))
        #expect(hold.taken.wait(timeout: .now() + 30) == .success)
        // The batch is taken out of the waiting events and held before its transaction: a finished
        // order's newest state is read from it, and the backlog counts it.
        #expect(journal.indexer.latestOrderPayload("o-2") == #"{"seq":2}"#)
        #expect(journal.tablesBacklog().events == 3)
        try journal.appendNow([Self.record(4)])
        #expect(journal.indexer.latestOrderPayload("o-4") == #"{"seq":4}"#)
        #expect(journal.indexer.latestOrderPayload("o-1") == #"{"seq":1}"#)
        #expect(journal.tablesBacklog().events == 4)
        #expect(!journal.indexer.holds(through: 1))

        hold.release.signal()
        try journal.indexer(caughtUpWithin: 30)
        #expect(journal.tablesBacklog().events == 0)
        #expect(journal.indexer.latestOrderPayload("o-2") == nil)
        #expect(try journal.records(after: 0, limit: 10).map(\.seq) == [1, 2, 3, 4])
    }
}

extension JournalIndexerTests {
    @Test func writtenBatchesAreReleasedByTheNextAppendAndOnlyAFewWaitForOne() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: path, durability: .fast)
        defer { try? journal.close() }
        try journal.appendNow((1...3).map(Self.record))
        try journal.indexer(caughtUpWithin: 30)
        // The written batch waits for the appending thread, which made its events, to release them.
        #expect(journal.indexer.batchesHeldForRelease() == 1)
        journal.pauseIndexing()
        try journal.appendNow([Self.record(4)])
        #expect(journal.indexer.batchesHeldForRelease() == 0)
        journal.resumeIndexing()
        try journal.indexer(caughtUpWithin: 30)
        #expect(journal.indexer.batchesHeldForRelease() == 1)

        // Many batches and no append between them: the indexing thread releases them itself past a few.
        journal.pauseIndexing()
        let many = 5 * 4_096 + 1
        try journal.appendNow((5...Int64(4 + many)).map(Self.record))
        journal.resumeIndexing()
        try journal.indexer(caughtUpWithin: 30)
        #expect(journal.indexer.batchesWritten(by: .urgent) + journal.indexer.batchesWritten(by: .background) >= 7)
        #expect(journal.indexer.batchesHeldForRelease() <= JournalIndexer.releaseHeld)
        #expect(try journal.records(after: 0, limit: 10).map(\.seq) == Array(1...10))
    }
}
