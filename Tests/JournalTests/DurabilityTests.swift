import Foundation
import GRDB
@testable import Journal
import GatewayTesting
import Testing

@Suite struct DurabilityTests {
    /// The log makes an event durable; the tables commit with `synchronous=NORMAL` in both durabilities
    /// (when durable, the indexer syncs them itself, below).
    @Test(arguments: EventJournal.Durability.allCases)
    func theTablesCommitWithNormal(durability: EventJournal.Durability) throws {
        let folder = TestFolders.make("durability")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: folder + "/journal.sqlite", durability: durability)
        #expect(journal.durability == durability)
        #expect(try journal.synchronousSetting() == 1)
        try journal.close()
    }

    /// Durable: a log file is written from its start again only once a sync of the tables covers every
    /// event in it. While the tables' syncs fail the log grows instead; once they succeed it is reused.
    @Test func aDurableLogIsReusedOnlyBehindASyncOfTheTables() throws {
        let folder = TestFolders.make("durability")
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

/// The writer (the journal's indexer) never checkpoints the log itself (its commits would wait for the copy
/// and the fsync); the journal's checkpointer copies it back on a thread of its own, and the next commits write the log from
/// its beginning again instead of growing it.
@Suite struct WALCheckpointTests {
    @Test func theWriterLeavesCheckpointsToTheCheckpointerAndTheLogStopsGrowing() throws {
        let folder = TestFolders.make("wal")
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
                // One transaction in the tables per batch, as the journal's indexer writes them when idle.
                try journal.indexer(caughtUpWithin: 10)
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

/// A checkpoint's state is written in pieces, each its own transaction, and the row that names them
/// last: pieces no row names (a crash before the row) are never read and are deleted by the next
/// checkpoint, and a state whose pieces do not hash to the row's hash is passed over for the older one.
@Suite struct CheckpointWritingTests {
    /// A journal of `events` events in a new folder (removed by the caller), and its path.
    static func journal(of events: Int64) throws -> (journal: EventJournal, folder: String, path: String) {
        let folder = TestFolders.make("checkpoint")
        let path = folder + "/journal.sqlite"
        let journal = try EventJournal(path: path, durability: .fast)
        for seq in Int64(1)...events {
            try journal.appendNow([
                JournalRecord(seq: seq, ts: seq, kind: "order", account: "paper", payload: "{\"n\":\(seq)}")
            ])
        }
        return (journal, folder, path)
    }

    @Test func aStateWrittenInPiecesReadsBackWholeAndOnlyANamedCompleteOneIsUsed() async throws {
        let (journal, folder, path) = try Self.journal(of: 4)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = Array((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        // Pieces of 7 bytes: the last one short.
        try journal.writeCheckpoint(seq: 1, ts: 1, state: first, chunk: 7)
        #expect(try journal.latestCheckpoint().map { ($0.seq, Array($0.state)) }! == (1, first))
        #expect(try journal.checkpointRows().seqs == [1])
        #expect(try journal.checkpointRows().pieces == 1_429)

        // Pieces of a newer checkpoint whose row was never written (the process died): not used.
        let raw = try DatabaseQueue(path: path)
        try await raw.write { db in
            try db.execute(sql: "INSERT INTO checkpoint_pieces(seq, piece, bytes) VALUES (2, 0, x'00')")
        }
        #expect(try journal.latestCheckpoint()?.seq == 1)

        let second = Array(repeating: UInt8(ascii: "x"), count: 5_000)
        try journal.writeCheckpoint(seq: 3, ts: 3, state: second, chunk: 4_096)
        #expect(try journal.latestCheckpoint().map { ($0.seq, Array($0.state)) }! == (3, second))
        // A piece changed after the fact: the newest no longer hashes to its row's hash; the older is used.
        try await raw.write { db in
            try db.execute(
                sql: "UPDATE checkpoint_pieces SET bytes = x'79' || substr(bytes, 2) WHERE seq = 3 AND piece = 1")
        }
        #expect(try journal.latestCheckpoint()?.seq == 1)

        // With keep 2, the oldest checkpoint and its pieces go once a third is written, and so do the
        // pieces no checkpoint names.
        try journal.writeCheckpoint(seq: 4, ts: 4, state: [UInt8]("{}".utf8))
        #expect(try journal.latestCheckpoint().map { ($0.seq, Array($0.state)) }! == (4, [UInt8]("{}".utf8)))
        #expect(try journal.checkpointRows().seqs == [4, 3])
        #expect(try journal.checkpointRows().pieces == 3)

        // A checkpoint written before pieces, its state in its row, is read as it was.
        try await raw.write { db in
            try db.execute(
                sql: """
                    UPDATE checkpoints SET state = (SELECT bytes FROM checkpoint_pieces WHERE seq = 4) WHERE seq = 4;
                    DELETE FROM checkpoint_pieces WHERE seq = 4;
                    """)
        }
        #expect(try journal.latestCheckpoint().map { ($0.seq, Array($0.state)) }! == (4, [UInt8]("{}".utf8)))
        try raw.close()
        try journal.close()
    }

    /// A checkpoint with a base is read back with the states of its chain of bases, oldest first; a chain
    /// with a link that does not match the journal is passed over for an older checkpoint; and the
    /// checkpoints a kept one builds on are kept, however old.
    @Test func aCheckpointIsReadWithItsChainOfBasesAndTheChainIsKept() async throws {
        let (journal, folder, path) = try Self.journal(of: 8)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func state(_ seq: Int64) -> [UInt8] { Array("state \(seq)".utf8) }
        func newest() throws -> (Int64, [UInt8], [[UInt8]])? {
            try journal.latestCheckpoint().map { ($0.seq, Array($0.state), $0.bases.map { Array($0) }) }
        }
        try journal.writeCheckpoint(seq: 1, ts: 1, state: state(1))
        try journal.writeCheckpoint(seq: 3, ts: 3, state: state(3), base: 1)
        try journal.writeCheckpoint(seq: 4, ts: 4, state: state(4), base: 3)
        #expect(try newest()! == (4, state(4), [state(1), state(3)]))
        // Keep 2 keeps 4 and 3, and 1, which they build on.
        #expect(try journal.checkpointRows().seqs == [4, 3, 1])

        // Refused: a base that is not stored, or not older.
        #expect(throws: JournalError.self) { try journal.writeCheckpoint(seq: 5, ts: 5, state: state(5), base: 2) }
        #expect(throws: JournalError.self) { try journal.writeCheckpoint(seq: 5, ts: 5, state: state(5), base: 6) }

        // A whole checkpoint, then one on it: the newest two need 6 and 5, and 5's chain (4, 3, 1).
        try journal.writeCheckpoint(seq: 5, ts: 5, state: state(5), base: 4)
        try journal.writeCheckpoint(seq: 6, ts: 6, state: state(6))
        #expect(try journal.checkpointRows().seqs == [6, 5, 4, 3, 1])
        try journal.writeCheckpoint(seq: 7, ts: 7, state: state(7), base: 6)
        #expect(try newest()! == (7, state(7), [state(6)]))
        #expect(try journal.checkpointRows().seqs == [7, 6])
        try journal.writeCheckpoint(seq: 8, ts: 8, state: state(8), base: 7)
        #expect(try newest()! == (8, state(8), [state(6), state(7)]))

        // A checkpoint's hash covers its base: one pointed at another base does not match, and the older
        // checkpoint is used.
        let raw = try DatabaseQueue(path: path)
        try await raw.write { db in try db.execute(sql: "UPDATE checkpoints SET base = 6 WHERE seq = 8") }
        #expect(try newest()! == (7, state(7), [state(6)]))

        // The whole one at the chain's root changed after the fact: no checkpoint of that chain is usable.
        try await raw.write { db in
            try db.execute(sql: "UPDATE checkpoint_pieces SET bytes = x'79' || substr(bytes, 2) WHERE seq = 6")
        }
        #expect(try newest() == nil)
        try raw.close()
        try journal.close()
    }
}
