import Foundation
@testable import Journal
import Testing

@Suite struct DurabilityTests {
    @Test(arguments: [(EventJournal.Durability.durable, 2), (.fast, 1)])
    func eachDurabilitySetsItsSynchronousMode(durability: EventJournal.Durability, expected: Int) throws {
        let folder = NSTemporaryDirectory() + "durability-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: folder + "/journal.sqlite", durability: durability)
        #expect(journal.durability == durability)
        #expect(try journal.synchronousSetting() == expected)
        try journal.close()
    }
}

/// The writer never checkpoints the log itself (its orders would wait for the copy and the fsync); the
/// journal's checkpointer copies it back on a thread of its own, and the next commits write the log from
/// its beginning again instead of growing it.
@Suite struct WALCheckpointTests {
    @Test func theWriterLeavesCheckpointsToTheCheckpointerAndTheLogStopsGrowing() throws {
        let folder = NSTemporaryDirectory() + "wal-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: folder + "/journal.sqlite", durability: .fast)
        #expect(try journal.autoCheckpointSetting() == 0)
        var seq: Int64 = 0
        func append(_ batches: Int) throws {
            for _ in 0..<batches {
                seq += 1
                try journal.appendNow([
                    JournalRecord(
                        seq: seq, ts: seq, kind: "order", account: "paper", symbol: "AAPL", orderID: "o-\(seq)",
                        clientOrderID: "c-\(seq)", payload: "{\"n\":\(seq)}")
                ])
            }
        }
        journal.checkpointer.pause()
        try append(300)
        let grown = journal.walSize()
        try append(300)
        // Nothing checkpointed: the log grew with every batch.
        #expect(journal.walSize() > grown)
        journal.checkpointer.checkpointNow()
        #expect(journal.checkpointer.counts.restarts == 1)
        let checkpointed = journal.walSize()
        try append(300)
        // After the checkpoint the next batches reuse the log from its start.
        #expect(journal.walSize() <= checkpointed)
        #expect(journal.checkpointer.counts.failures == 0)
        #expect(try journal.lastSequence() == 900)
        try journal.close()
        // Everything is in the file: a fresh reader sees all of it.
        let reopened = try EventJournal(path: folder + "/journal.sqlite", durability: .fast)
        #expect(try reopened.lastSequence() == 900)
        try reopened.close()
    }
}
