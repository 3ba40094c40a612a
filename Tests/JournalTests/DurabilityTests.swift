import Foundation
import GRDB
@testable import Journal
import Testing

@Suite struct DurabilityTests {
    /// The log makes an event durable; the tables commit with `synchronous=NORMAL` in both durabilities
    /// (when durable, the indexer syncs them itself, below).
    @Test(arguments: EventJournal.Durability.allCases)
    func theTablesCommitWithNormal(durability: EventJournal.Durability) throws {
        let folder = NSTemporaryDirectory() + "durability-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: folder + "/journal.sqlite", durability: durability)
        #expect(journal.durability == durability)
        #expect(try journal.synchronousSetting() == 1)
        try journal.close()
    }

    /// Durable: a log file is written from its start again only once a sync of the tables covers every
    /// event in it. While the tables' syncs fail the log grows instead; once they succeed it is reused.
    @Test func aDurableLogIsReusedOnlyBehindASyncOfTheTables() throws {
        let folder = NSTemporaryDirectory() + "durability-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/journal.sqlite"
        let journal = try EventJournal(path: path, durability: .durable, logReuseSize: 2_000)
        func sizes() throws -> [Int] {
            try [path + "-log", path + "-log2"].map {
                try #require(try FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int)
            }
        }
        let grown = try sizes()
        journal.failTableSyncs(true)
        var seq: Int64 = 0
        func append(_ count: Int) throws {
            for _ in 0..<count {
                seq += 1
                try journal.appendNow(JournalLogTests.records(seq...seq))
                try journal.indexer(caughtUpWithin: 10)
            }
        }
        // Far more than both files hold: every event is in the tables, none is synced, so neither file
        // may be written over and the log grows.
        try append(3_000)
        #expect(journal.indexer.durableThrough() == 0)
        let held = try sizes()
        #expect(held.reduce(0, +) > grown.reduce(0, +))
        journal.failTableSyncs(false)
        try append(1_000)
        #expect(journal.indexer.durableThrough() > 3_000)
        // Reused from here on, in turn: neither file grows any more.
        #expect(try sizes() == held)
        #expect(try journal.verify().events == 4_000)
        try journal.close()
    }
}
