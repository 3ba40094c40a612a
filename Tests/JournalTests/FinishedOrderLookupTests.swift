import Foundation
import GRDB
@testable import Journal
import GatewayTesting
import Testing

/// A finished order is read back from the journal on the engine's thread (a duplicate submit, a cancel of
/// a finished order, a late fill): the newest `order` event of that order, found through its own index.
@Suite struct FinishedOrderLookupTests {
    let path = TestFolders.make("journal-test") + "/journal.sqlite"

    @Test func theNewestOrderEventOfTheOrderIsReadThroughTheOrdersIndex() async throws {
        let journal = try EventJournal(path: path)
        var records: [JournalRecord] = []
        for seq in Int64(1)...300 {
            // Three orders' events interleaved, with fills beside the order changes.
            let order = "o-\(seq % 3)"
            let kind = seq % 5 == 0 ? "fill" : "order"
            records.append(
                JournalRecord(
                    seq: seq, ts: seq, kind: kind, account: "paper", symbol: "AAPL", orderID: order,
                    payload: #"{"seq":\#(seq)}"#))
        }
        try await journal.append(records)
        // o-1's newest event is 298, an order change; o-0's is 300, a fill, so its newest change is 297.
        #expect(try journal.latestOrderPayload("o-1") == #"{"seq":298}"#)
        #expect(try journal.latestOrderPayload("o-0") == #"{"seq":297}"#)
        #expect(try journal.latestOrderPayload("o-9") == nil)
        try journal.close()

        let database = try DatabaseQueue(path: path)
        let plan = try await database.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + EventJournal.latestOrderPayloadSQL, arguments: ["o-1"])
                .map { $0["detail"] as String? ?? "" }
        }
        #expect(plan.contains { $0.contains("USING INDEX events_by_order") }, "plan: \(plan)")
        try database.close()
    }
}
