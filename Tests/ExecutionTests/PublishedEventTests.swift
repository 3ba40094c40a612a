import Journal
import Testing

@testable import Execution

/// An event's wire line: the envelope's fields, then the payload's.
@Suite struct PublishedEventTests {
    @Test func aRecordBecomesItsEnvelopeFollowedByThePayloadsFields() {
        let record = JournalRecord(
            seq: 42, ts: 1_795_000_000_123_456_789, kind: "order", account: "paper", symbol: "AAPL", orderID: "o-1",
            strategy: "momentum", payload: #"{"order":{"order_id":"o-1","status":"accepted"}}"#)
        let event = PublishedEvent(record: record)
        #expect(
            event.line
                == #"{"event":"order","seq":42,"ts":"2026-11-18T11:06:40.123456789Z","order":{"order_id":"o-1","status":"accepted"}}"#
        )
        #expect(event.seq == 42)
        #expect(event.kind == "order")
        #expect(event.strategy == "momentum")
    }
}
