@testable import Alerts
import Foundation
import GatewayCore
import Testing

@Suite struct AlertClassifierTests {
    static func alert(_ kind: String, _ line: String, strategy: String? = nil) -> Alert? {
        AlertClassifier.alert(for: AlertFeedEvent(seq: 9, kind: kind, strategy: strategy, line: line))
    }

    @Test func aFillReadsAtAGlance() throws {
        let alert = try #require(Self.alert("fill", fillLine(), strategy: "turtle20"))
        #expect(alert.category == .fill)
        #expect(alert.text == "FILLED buy 100 AAPL @ 190.12 · paper · turtle20")
        #expect(alert.account == AccountID("paper"))
        #expect(alert.strategy == "turtle20")
        #expect(alert.symbol == "AAPL")
        #expect(alert.seq == 9)
        #expect(alert.event == fillLine())
    }

    @Test func aRejectionBeforeAcknowledgementIsAReject() throws {
        let alert = try #require(
            Self.alert("order", orderLine(change: "rejected", status: "rejected", reason: "max_order_qty 100 > 50")))
        #expect(alert.category == .reject)
        #expect(alert.text == "REJECTED buy 100 AAPL limit 190.5 · paper · turtle20 — max_order_qty 100 > 50")
    }

    @Test func aRejectionAfterAcknowledgementIsLate() throws {
        let alert = try #require(
            Self.alert(
                "order", orderLine(change: "rejected", status: "rejected", brokerID: "B-7", reason: "not shortable")))
        #expect(alert.category == .lateReject)
        #expect(alert.text == "LATE REJECT buy 100 AAPL limit 190.5 · paper · turtle20 — not shortable")
    }

    @Test func cancelsExpiriesAndUnknownOutcomesAreOrderChanges() throws {
        let canceled = try #require(
            Self.alert("order", orderLine(change: "canceled", status: "canceled", brokerID: "B-1", filled: "40")))
        #expect(canceled.category == .order)
        #expect(canceled.text == "CANCELED buy 100 AAPL limit 190.5 (40 filled) · paper · turtle20")
        let unknown = try #require(Self.alert("order", orderLine(change: "unknown", status: "unknown")))
        #expect(
            unknown.text
                == "OUTCOME UNKNOWN buy 100 AAPL limit 190.5 · paper · turtle20 — asking the broker before anything is sent again"
        )
        #expect(Self.alert("order", orderLine(change: "expired", status: "expired"))?.category == .order)
    }

    @Test(arguments: ["accepted", "submitted", "acknowledged", "partially_filled", "filled", "pending_cancel"])
    func routineOrderChangesMakeNoAlert(change: String) {
        #expect(Self.alert("order", orderLine(change: change, status: change)) == nil)
    }

    @Test func anOperatorHaltIsTheKillSwitchAndALossLimitIsRisk() throws {
        let halt = try #require(
            Self.alert(
                "trading_state",
                #"{"event":"trading_state","seq":3,"ts":"2026-11-25T14:32:05Z","scope":"gateway","state":"halted","reason":"halted by an operator","cause":"operator"}"#
            ))
        #expect(halt.category == .killSwitch)
        #expect(halt.text == "KILL SWITCH gateway is now halted: halted by an operator")
        #expect(halt.account == nil)
        let resume = try #require(
            Self.alert(
                "trading_state",
                #"{"event":"trading_state","seq":4,"ts":"2026-11-25T14:32:05Z","scope":"account","account":"paper","state":"active","reason":"resumed by an operator","cause":"operator"}"#
            ))
        #expect(resume.text == "RESUMED paper is now active: resumed by an operator")
        let risk = try #require(
            Self.alert(
                "trading_state",
                #"{"event":"trading_state","seq":5,"ts":"2026-11-25T14:32:05Z","scope":"account","account":"paper","state":"reducing","reason":"daily loss 1200 reached the limit of 1000","cause":"risk_limit"}"#
            ))
        #expect(risk.category == .riskState)
        #expect(risk.text == "RISK paper is now reducing: daily loss 1200 reached the limit of 1000")
    }

    @Test func brokerConnectionsAndUnmatchedReports() throws {
        let down = try #require(
            Self.alert(
                "broker",
                #"{"event":"broker","seq":2,"ts":"2026-11-25T14:32:05Z","account":"paper","broker":"paper","state":"disconnected","detail":"ledger unreadable"}"#
            ))
        #expect(down.category == .broker)
        #expect(down.text == "BROKER paper disconnected · paper: ledger unreadable")
        let unmatched = try #require(
            Self.alert(
                "broker_unmatched",
                #"{"event":"broker_unmatched","seq":2,"ts":"2026-11-25T14:32:05Z","account":"paper","report":"fill X-1 for order B-9"}"#
            ))
        #expect(unmatched.category == .reconciliation)
        #expect(
            unmatched.text
                == "RECONCILE paper: the broker reported what the journal does not hold: fill X-1 for order B-9")
        let mismatch = try #require(
            Self.alert(
                "reconciliation",
                #"{"event":"reconciliation","seq":3,"ts":"2026-11-25T14:32:05Z","account":"alpaca-live","#
                    + #""trigger":"periodic","difference":"position_mismatch","symbol":"AAPL","journal":"10","#
                    + #""broker":"15","action":"halted","detail":"the broker's position differs"}"#
            ))
        #expect(mismatch.category == .reconciliation && mismatch.symbol == "AAPL")
        #expect(mismatch.text == "RECONCILE alpaca-live position_mismatch AAPL: journal 10 · broker 15 → halted")
    }

    @Test func quotesUnknownKindsAndGarbageMakeNoAlert() {
        #expect(Self.alert("quote", #"{"event":"quote","seq":1,"ts":"2026-11-25T14:32:05Z"}"#) == nil)
        #expect(Self.alert("alert_dropped", #"{"event":"alert_dropped","seq":1,"ts":"2026-11-25T14:32:05Z"}"#) == nil)
        #expect(Self.alert("fill", "not json") == nil)
        #expect(Self.alert("fill", #"{"event":"fill","seq":1,"ts":"2026-11-25T14:32:05Z","fill":{}}"#) == nil)
    }
}

@Suite struct TopLevelStringTests {
    @Test func readsAFieldOnceAndGivesUpOnAnythingUnusual() {
        #expect(AlertClassifier.topLevelString("change", in: #"{"a":1,"change":"accepted","order":{}}"#) == "accepted")
        #expect(AlertClassifier.topLevelString("change", in: #"{"change":"a","x":{"change":"b"}}"#) == nil)
        #expect(AlertClassifier.topLevelString("change", in: #"{"change":"a\"b"}"#) == nil)
        #expect(AlertClassifier.topLevelString("change", in: #"{"change":"unterminated"#) == nil)
        #expect(AlertClassifier.topLevelString("change", in: #"{"other":"x"}"#) == nil)
        #expect(AlertClassifier.topLevelString("change", in: #"{"change":"é·x","n":"ü"}"#) == "é·x")
    }
}

@Suite struct QuickFillTests {
    @Test func theQuickReadingOfAFillEqualsTheDecodedOne() throws {
        for (qty, price) in [("100", "190.12"), ("0.5", "0.0001"), ("12345678", "99999.99")] {
            let event = AlertFeedEvent(
                seq: 3, kind: "fill", strategy: "s", line: fillLine(seq: 3, qty: qty, price: price))
            let quick = try #require(AlertClassifier.quickFill(event))
            #expect(quick == AlertClassifier.decoded(event))
            #expect(quick.text == "FILLED buy \(qty) AAPL @ \(price) · paper · s")
            #expect(quick.ts.description == "2026-11-25T14:32:05.123456789Z")
        }
        // Anything the quick reading cannot vouch for goes to the decoder.
        #expect(
            AlertClassifier.quickFill(AlertFeedEvent(seq: 1, kind: "fill", strategy: nil, line: #"{"qty":"x"}"#)) == nil
        )
        let escaped = fillLine().replacingOccurrences(of: #""symbol":"AAPL""#, with: #""symbol":"AA\u0050L""#)
        #expect(AlertClassifier.quickFill(AlertFeedEvent(seq: 1, kind: "fill", strategy: nil, line: escaped)) == nil)
        #expect(
            AlertClassifier.alert(for: AlertFeedEvent(seq: 1, kind: "fill", strategy: nil, line: escaped))?.text
                == "FILLED buy 100 AAPL @ 190.12 · paper")
    }
}
