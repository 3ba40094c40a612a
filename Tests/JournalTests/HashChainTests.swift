import Foundation
import GRDB
import GatewayTesting
import Testing

@testable import Journal

@Suite struct HashChainTests {
    let path = TestFolders.make("journal-chain") + "/journal.sqlite"

    func record(_ seq: Int64, kind: String = "fill", payload: String? = nil) -> JournalRecord {
        JournalRecord(
            seq: seq, ts: 1_795_000_000_000_000_000 + seq * 1_000_000_000, kind: kind, account: "paper",
            symbol: "AAPL", orderID: "o-\(seq)", clientOrderID: "c-\(seq)", strategy: "s",
            payload: payload
                ?? "{\"fill\":{\"side\":\"buy\",\"qty\":\"1\",\"price\":\"\(100 + seq)\",\"commission\":\"0\"}}")
    }

    func journal(with count: Int64) async throws -> EventJournal {
        let journal = try EventJournal(path: path)
        for seq in 1...count { try await journal.append([record(seq)]) }
        return journal
    }

    /// Tampers with the file the way a person with the `sqlite3` shell would: lift the trigger, change.
    func tamper(_ sql: String) throws {
        let raw = try DatabaseQueue(path: path)
        try raw.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS events_are_append_only_update")
            try db.execute(sql: "DROP TRIGGER IF EXISTS events_are_append_only_delete")
            try db.execute(sql: sql)
        }
        try raw.close()
    }

    @Test func anIntactJournalVerifiesAndEachLinkIsTheHashOfThePreviousAndTheRow() async throws {
        let journal = try await journal(with: 5)
        let result = try journal.verify()
        #expect(result.verified && result.events == 5 && result.lastSeq == 5 && result.brokenSeq == nil)
        // Recomputed from its definition: SHA-256(previous ‖ canonical bytes), from 32 zero bytes.
        var link = HashChain.genesis
        for seq in 1...5 { link = HashChain.link(after: link, record(Int64(seq))) }
        #expect(result.headHash == link.map { String(format: "%02x", $0) }.joined())
        try journal.close()
    }

    @Test func anEditedRowIsNamed() async throws {
        try await journal(with: 6).close()
        try tamper("UPDATE events SET payload = replace(payload, '\"104\"', '\"1.04\"') WHERE seq = 4")
        let result = try EventJournal(path: path).verify()
        #expect(!result.verified)
        #expect(result.brokenSeq == 4)
        #expect(result.expected != result.found && result.found?.count == 64)
    }

    @Test func anEditedSearchColumnIsNamedToo() async throws {
        try await journal(with: 3).close()
        try tamper("UPDATE events SET symbol = 'MSFT' WHERE seq = 2")
        #expect(try EventJournal(path: path).verify().brokenSeq == 2)
    }

    @Test func aDeletedRowIsNamed() async throws {
        try await journal(with: 6).close()
        try tamper("DELETE FROM events WHERE seq = 3")
        let result = try EventJournal(path: path).verify()
        #expect(!result.verified && result.brokenSeq == 3)
        #expect(result.problem?.contains("missing") == true)
    }

    @Test func aRowReplacedWithItsHashRecomputedBreaksTheNextLink() async throws {
        try await journal(with: 4).close()
        // The forger recomputes row 2's own hash from row 1's, but row 3 still chains from the old one.
        let forged = record(
            2, payload: "{\"fill\":{\"side\":\"sell\",\"qty\":\"1\",\"price\":\"1\",\"commission\":\"0\"}}")
        let reader = try EventJournal(path: path)
        let first = try reader.records(after: 0, limit: 1)[0]
        try reader.close()
        let link = HashChain.link(after: HashChain.link(after: HashChain.genesis, first), forged)
        let raw = try DatabaseQueue(path: path)
        try await raw.write { db in
            try db.execute(sql: "DROP TRIGGER events_are_append_only_update")
            try db.execute(
                sql: "UPDATE events SET payload = ?, hash = ? WHERE seq = 2", arguments: [forged.payload, link])
        }
        try raw.close()
        #expect(try EventJournal(path: path).verify().brokenSeq == 3)
    }

    @Test func aJournalFromBeforeTheChainGetsItsHashesOnOpening() async throws {
        // A journal as the first schema wrote it: no hash column.
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: path)
        try await old.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations VALUES ('v1-events');
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                    CREATE TABLE events (seq INTEGER PRIMARY KEY NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL,
                        account TEXT, symbol TEXT, order_id TEXT, client_order_id TEXT, strategy TEXT,
                        payload TEXT NOT NULL);
                    CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
                    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
                    """)
            for seq in Int64(1)...3 {
                let r = record(seq)
                try db.execute(
                    sql: "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        r.seq, r.ts, r.kind, r.account, r.symbol, r.orderID, r.clientOrderID, r.strategy, r.payload,
                    ])
            }
        }
        try old.close()
        let journal = try EventJournal(path: path)
        try await journal.append([record(4)])
        let result = try journal.verify()
        #expect(result.verified && result.events == 4)
        try journal.close()
    }

    @Test func aBackupIsAWholeVerifiableCopyAndNeverOverwrites() async throws {
        let journal = try await journal(with: 5)
        let copy = (path as NSString).deletingLastPathComponent + "/backup.sqlite"
        #expect(try journal.backup(to: copy) == 5)
        #expect(throws: JournalError.self) { try journal.backup(to: copy) }
        try await journal.append([record(6)])
        let restored = try EventJournal(path: copy)
        #expect(try restored.verify().lastSeq == 5)
        try restored.close()
        try journal.close()
    }

    @Test func theViewsReadOrdersFillsAndRoundTrips() async throws {
        let journal = try EventJournal(path: path)
        let fills = [("buy", "10", "100", "1"), ("buy", "10", "102", "1"), ("sell", "20", "105", "2")]
        for (n, fill) in fills.enumerated() {
            let payload =
                "{\"fill\":{\"fill_id\":\"f\(n)\",\"side\":\"\(fill.0)\",\"qty\":\"\(fill.1)\",\"price\":\"\(fill.2)\",\"commission\":\"\(fill.3)\"}}"
            try await journal.append([record(Int64(n + 1), payload: payload)])
        }
        try await journal.append([
            record(4, kind: "order", payload: "{\"order\":{\"status\":\"acknowledged\",\"qty\":\"5\"}}"),
            record(5, kind: "order", payload: "{\"order\":{\"status\":\"filled\",\"qty\":\"5\"}}"),
        ])
        try journal.close()
        let reader = try DatabaseQueue(path: path)
        try await reader.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fills") == 3)
            #expect(try String.fetchOne(db, sql: "SELECT price FROM fills WHERE fill_id = 'f1'") == "102")
            let trip = try Row.fetchOne(db, sql: "SELECT * FROM round_trips")
            // 20 × 105 − 10 × 100 − 10 × 102 − 4 of commissions = 76.
            #expect(trip?["pnl"] == 76.0)
            #expect(trip?["fills"] == 3)
            #expect(try String.fetchAll(db, sql: "SELECT status FROM orders") == ["acknowledged", "filled"])
        }
        try reader.close()
    }

    /// The append path's 32-byte links, hashed over the canonical bytes where it writes them into the log's
    /// buffer, are the links the chain is verified with, event after event, and each frame is the
    /// canonical bytes' length, the bytes and the link; a stored hash that is not 32 bytes has no such link.
    @Test func theAppendPathsLinksAreTheChainsLinks() {
        var data = HashChain.genesis
        var value = ChainHash(HashChain.genesis)!
        #expect(value.data == data)
        var buffer: [UInt8] = [7]
        for seq in Int64(1)...50 {
            let canonical = HashChain.canonicalBytes(of: record(seq))
            data = HashChain.link(after: data, record(seq))
            let start = buffer.count
            value = JournalLog.appendFrame(of: record(seq), after: value, to: &buffer)
            #expect(value.data == data)
            #expect(ChainHash(data) == value)
            let length = withUnsafeBytes(of: UInt32(canonical.count).bigEndian) { Array($0) }
            #expect(Array(buffer[start...]) == length + canonical + Array(data))
        }
        #expect(ChainHash(Data(repeating: 1, count: 31)) == nil)
        #expect(ChainHash(Data(repeating: 1, count: 33)) == nil)
    }
}
