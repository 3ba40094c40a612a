import Foundation
import GRDB
@testable import Journal
import GatewayTesting
import Testing

/// The journal's indexes (migration v7): the ones an append pays for, and the audit questions each serves.
@Suite struct JournalIndexTests {
    let path = TestFolders.make("journal-test") + "/journal.sqlite"

    static let indexes: Set = [
        "events_by_order", "events_by_symbol_time", "events_by_ts", "events_by_strategy", "events_by_client_order",
        "events_fills",
    ]

    /// Two accounts, three symbols, a strategy on every other order, a client order id on two of three;
    /// every fourth event a fill.
    static func records(_ seqs: ClosedRange<Int64>) -> [JournalRecord] {
        seqs.map { seq in
            JournalRecord(
                seq: seq, ts: 1_000 * seq, kind: seq % 4 == 0 ? "fill" : "order",
                account: seq % 2 == 0 ? "paper" : "live", symbol: ["AAPL", "MSFT", "SPY"][Int(seq % 3)],
                orderID: "o-\(seq / 4)", clientOrderID: seq % 3 == 0 ? nil : "c-\(seq / 4)",
                strategy: (seq / 4) % 2 == 0 ? "momentum" : nil, payload: #"{"n":\#(seq)}"#)
        }
    }

    func indexNames(_ db: Database) throws -> Set<String> {
        Set(
            try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"
            ))
    }

    @Test func aJournalOfTheOlderSchemaKeepsItsEventsAndGetsTheNewIndexes() async throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let older = try DatabaseQueue(path: path)
        try JournalSchema.migrator.migrate(older, upTo: "v6-checkpoint-pieces")
        try await older.write { db in
            #expect(try indexNames(db).count == 8)
            var previous = HashChain.genesis
            for record in Self.records(1...40) {
                previous = HashChain.link(after: previous, record)
                try db.execute(
                    sql: """
                        INSERT INTO events(seq, ts, kind, account, symbol, order_id, client_order_id, strategy,
                            payload, hash)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        record.seq, record.ts, record.kind, record.account, record.symbol, record.orderID,
                        record.clientOrderID, record.strategy, record.payload, previous,
                    ])
            }
        }
        try older.close()

        let journal = try EventJournal(path: path)
        #expect(try journal.verify().verified)
        #expect(try journal.lastSequence() == 40)
        #expect(
            try journal.records(matching: JournalQuery(strategy: "momentum", limit: 100)).map(\.seq)
                == Self.records(1...40).filter { $0.strategy == "momentum" }.map(\.seq))
        #expect(try journal.latestFillTimestamp(account: "paper") == 40_000)
        try journal.close()
        let database = try DatabaseQueue(path: path)
        #expect(try await database.read { db in try indexNames(db) } == Self.indexes)
        try database.close()
    }

    @Test func theNewestFillOfAnAccountIsFoundAndNoneIsNil() async throws {
        let journal = try EventJournal(path: path)
        try await journal.append(Self.records(1...30))
        // Fills are every fourth event, and all of them even: the "paper" account's.
        #expect(try journal.latestFillTimestamp(account: "paper") == 28_000)
        #expect(try journal.latestFillTimestamp(account: "live") == nil)
        #expect(try journal.latestFillTimestamp(account: "other") == nil)
        let fills = try journal.records(matching: JournalQuery(account: "paper", kinds: ["fill"], limit: 100))
        #expect(fills.map(\.seq) == [4, 8, 12, 16, 20, 24, 28])
        try journal.close()
    }

    /// Each question an audit asks most is answered through an index, not a walk over every event.
    @Test func auditQueriesAreAnsweredThroughTheirIndexes() async throws {
        let journal = try EventJournal(path: path)
        try await journal.append(Self.records(1...200))
        try journal.close()
        let database = try DatabaseQueue(path: path)
        func plan(_ sql: String, _ arguments: StatementArguments) throws -> String {
            try database.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments)
                    .map { $0["detail"] as String? ?? "" }.joined(separator: "; ")
            }
        }
        let cases: [(JournalQuery, String)] = [
            (JournalQuery(symbol: "AAPL"), "events_by_symbol_time"),
            (JournalQuery(symbol: "AAPL", since: 5_000, until: 90_000), "events_by_symbol_time"),
            (JournalQuery(since: 5_000, until: 9_000), "events_by_ts"),
            (JournalQuery(strategy: "momentum"), "events_by_strategy"),
            (JournalQuery(clientOrderID: "c-3"), "events_by_client_order"),
            (JournalQuery(orderID: "o-3"), "events_by_order"),
            (JournalQuery(account: "paper", kinds: ["fill"]), "events_fills"),
        ]
        for (query, index) in cases {
            let (sql, arguments) = EventJournal.statement(matching: query)
            let detail = try plan(sql, arguments)
            #expect(detail.contains("INDEX \(index)"), "\(query): \(detail)")
        }
        let detail = try plan(EventJournal.latestFillTimestampSQL, ["paper"])
        #expect(detail.contains("INDEX events_fills"), "\(detail)")
        try database.close()
    }
}
