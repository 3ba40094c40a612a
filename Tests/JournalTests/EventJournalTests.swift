import Foundation
import GRDB
import GatewayTesting
import Journal
import Testing

@Suite struct EventJournalTests {
    let path = TestFolders.make("journal-test") + "/journal.sqlite"

    func record(_ seq: Int64, kind: String = "order", symbol: String? = "AAPL", account: String? = "paper")
        -> JournalRecord
    {
        JournalRecord(
            seq: seq, ts: seq * 1_000, kind: kind, account: account, symbol: symbol, orderID: "o-\(seq)",
            payload: "{\"n\":\(seq)}")
    }

    @Test func appendsContiguousBatchesAndReadsThemBack() async throws {
        let journal = try EventJournal(path: path)
        try await journal.append([record(1), record(2)])
        try await journal.append([record(3)])
        #expect(try journal.lastSequence() == 3)
        #expect(try journal.records(after: 1, limit: 10).map(\.seq) == [2, 3])
        #expect(try journal.records(after: 0, limit: 10).first == record(1))
        try journal.close()
    }

    @Test func refusesAGapOrAReusedSequenceNumberWhole() async throws {
        let journal = try EventJournal(path: path)
        try await journal.append([record(1)])
        await #expect(throws: JournalError.self) { try await journal.append([record(3)]) }
        await #expect(throws: JournalError.self) { try await journal.append([record(1)]) }
        await #expect(throws: JournalError.self) { try await journal.append([record(2), record(4)]) }
        #expect(try journal.lastSequence() == 1)
        try journal.close()
    }

    /// The engine's own append (its transaction begun and committed with cached statements): a refused
    /// batch is rolled back whole and the next one goes in.
    @Test func appendNowRefusesAGapWholeAndGoesOn() throws {
        let journal = try EventJournal(path: path)
        try journal.appendNow([record(1)])
        #expect(throws: JournalError.self) { try journal.appendNow([record(2), record(4)]) }
        #expect(throws: JournalError.self) { try journal.appendNow([record(1)]) }
        #expect(try journal.lastSequence() == 1)
        try journal.appendNow([record(2), record(3)])
        #expect(try journal.records(after: 0, limit: 10).map(\.seq) == [1, 2, 3])
        try journal.close()
    }

    @Test func eventsCannotBeUpdatedOrDeleted() async throws {
        let journal = try EventJournal(path: path)
        try await journal.append([record(1)])
        try journal.close()
        let queue = try DatabaseQueue(path: path)
        #expect(throws: (any Error).self) {
            try queue.write { db in try db.execute(sql: "UPDATE events SET kind = 'x'") }
        }
        #expect(throws: (any Error).self) { try queue.write { db in try db.execute(sql: "DELETE FROM events") } }
        let mode: String? = try await queue.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        try queue.close()
    }

    @Test func queriesNarrowByEveryFilter() async throws {
        let journal = try EventJournal(path: path)
        try await journal.append([
            record(1, kind: "quote", symbol: "AAPL", account: nil), record(2, symbol: "AAPL"),
            record(3, kind: "fill", symbol: "MSFT"),
            record(4, symbol: "MSFT", account: "other"),
        ])
        #expect(try journal.records(matching: JournalQuery(symbol: "AAPL")).map(\.seq) == [1, 2])
        #expect(try journal.records(matching: JournalQuery(account: "paper")).map(\.seq) == [2, 3])
        #expect(try journal.records(matching: JournalQuery(kinds: ["fill", "quote"])).map(\.seq) == [1, 3])
        #expect(try journal.records(matching: JournalQuery(since: 2_000, until: 4_000)).map(\.seq) == [2, 3])
        #expect(try journal.records(matching: JournalQuery(afterSeq: 2, limit: 1)).map(\.seq) == [3])
        #expect(try journal.records(matching: JournalQuery(orderID: "o-4")).map(\.seq) == [4])
        try journal.close()
    }

    @Test func keepsItsInstanceIDAcrossReopens() throws {
        let first = try EventJournal(path: path)
        let id = first.instanceID
        try first.close()
        let second = try EventJournal(path: path)
        #expect(second.instanceID == id)
        #expect(id.count == 8)
        try second.close()
    }
}
