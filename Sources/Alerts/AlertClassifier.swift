import Foundation
import GatewayCore

/// Turns a committed event into the alert a person would want, or `nil` when the event is not worth
/// one (an order accepted, a quote). Pure: no I/O, no state.
public enum AlertClassifier {
    private struct OrderEvent: Decodable {
        var ts: Timestamp
        var order: Order
        var change: String
        var reason: String?
    }

    private struct FillEvent: Decodable {
        var ts: Timestamp
        var fill: Fill
    }

    private struct TradingStateEvent: Decodable {
        var ts: Timestamp
        var account: AccountID?
        var state: TradingState
        var reason: String?
        var cause: String?
        var canceled: [OrderID]?
    }

    private struct BrokerEvent: Decodable {
        var ts: Timestamp
        var account: AccountID
        var broker: String
        var state: String
        var detail: String?
    }

    private struct ReconciliationEvent: Decodable {
        var ts: Timestamp
        var difference: ReconciliationDifference

        init(from decoder: any Decoder) throws {
            ts = try decoder.container(keyedBy: Key.self).decode(Timestamp.self, forKey: .ts)
            difference = try ReconciliationDifference(from: decoder)
        }

        enum Key: String, CodingKey { case ts }
    }

    private struct UnmatchedEvent: Decodable {
        var ts: Timestamp
        var account: AccountID
        var report: String
    }

    /// The alert for `event`, if any. An event that cannot be read makes no alert (the journal, not
    /// the alerting, is the record; a decoding failure here is not a reason to stop).
    public static func alert(for event: AlertFeedEvent) -> Alert? {
        guard AlertFeedEvent.kinds.contains(event.kind) else { return nil }
        // Most order events (accepted, submitted, acknowledged, filled …) make no alert: read their
        // `change` off the line before paying for a decode.
        if event.kind == "order", let change = topLevelString("change", in: event.line),
            !alertingChanges.contains(change)
        {
            return nil
        }
        if event.kind == "fill", let alert = quickFill(event) { return alert }
        return decoded(event)
    }

    /// The alert for `event` by decoding its JSON whole.
    static func decoded(_ event: AlertFeedEvent) -> Alert? {
        let data = Data(event.line.utf8)
        let decoder = JSONDecoder()
        var alert: Alert?
        switch event.kind {
        case "fill":
            guard let payload = try? decoder.decode(FillEvent.self, from: data) else { return nil }
            let fill = payload.fill
            alert = fillAlert(
                fill.account, fill.side, fill.qty, fill.symbol, fill.price, strategy: event.strategy, ts: payload.ts)
        case "order":
            guard let change = try? decoder.decode(OrderEvent.self, from: data) else { return nil }
            alert = orderAlert(change.order, change: change.change, reason: change.reason, ts: change.ts)
        case "trading_state":
            guard let change = try? decoder.decode(TradingStateEvent.self, from: data) else { return nil }
            let scope = change.account?.rawValue ?? "gateway"
            let why = change.reason.map { ": \($0)" } ?? ""
            if change.cause == "risk_limit" {
                alert = Alert(
                    category: .riskState, text: "RISK \(scope) is now \(change.state.rawValue)\(why)",
                    account: change.account, ts: change.ts)
            } else {
                let canceling = change.canceled.map { $0.isEmpty ? "" : " (\(ordersCount($0.count)) canceling)" } ?? ""
                let verb = change.state == .halted ? "KILL SWITCH" : "RESUMED"
                alert = Alert(
                    category: .killSwitch, text: "\(verb) \(scope) is now \(change.state.rawValue)\(why)\(canceling)",
                    account: change.account, ts: change.ts)
            }
        case "broker":
            guard let change = try? decoder.decode(BrokerEvent.self, from: data) else { return nil }
            let detail = change.detail.map { ": \(clipped($0))" } ?? ""
            alert = Alert(
                category: .broker,
                text: "BROKER \(change.broker) \(change.state) · \(change.account)\(detail)", account: change.account,
                ts: change.ts)
        case "broker_unmatched":
            guard let unmatched = try? decoder.decode(UnmatchedEvent.self, from: data) else { return nil }
            alert = Alert(
                category: .reconciliation,
                text: "RECONCILE \(unmatched.account): the broker reported what the journal does not hold: "
                    + clipped(unmatched.report),
                account: unmatched.account, ts: unmatched.ts)
        case "reconciliation":
            guard let found = try? decoder.decode(ReconciliationEvent.self, from: data) else { return nil }
            let difference = found.difference
            let subject = [difference.symbol?.text, difference.orderID?.rawValue].compactMap { $0 }.joined(
                separator: " ")
            alert = Alert(
                category: .reconciliation,
                text: "RECONCILE \(difference.account) \(difference.difference.rawValue) \(subject): journal "
                    + "\(difference.journal ?? "none") · broker \(difference.broker ?? "none") → "
                    + "\(difference.action.rawValue)",
                account: difference.account, symbol: difference.symbol?.text, ts: found.ts)
        default:
            return nil
        }
        alert?.seq = event.seq
        alert?.event = event.line
        return alert
    }

    /// A fill's alert read straight off its line (each field it needs occurs once there; the envelope's
    /// `ts` comes first), checked as the decoder would check it; `nil` sends the event to the decoder.
    static func quickFill(_ event: AlertFeedEvent) -> Alert? {
        let line = event.line
        guard let account = topLevelString("account", in: line).flatMap({ AccountID(String($0)) }),
            let side = topLevelString("side", in: line).flatMap({ OrderSide(rawValue: String($0)) }),
            let qty = topLevelString("qty", in: line).flatMap({ Quantity(String($0)) }),
            let symbol = topLevelString("symbol", in: line).flatMap({ Symbol(String($0)) }),
            let price = topLevelString("price", in: line).flatMap({ Price(String($0)) }),
            let ts = topLevelString("ts", in: line, first: true).flatMap({ Timestamp(rfc3339: String($0)) })
        else { return nil }
        var alert = fillAlert(account, side, qty, symbol, price, strategy: event.strategy, ts: ts)
        alert.seq = event.seq
        alert.event = line
        return alert
    }

    static func fillAlert(
        _ account: AccountID, _ side: OrderSide, _ qty: Quantity, _ symbol: Symbol, _ price: Price, strategy: String?,
        ts: Timestamp
    ) -> Alert {
        Alert(
            category: .fill,
            text: "FILLED \(side.rawValue) \(qty) \(symbol.text) @ \(price)" + trailer(account, strategy),
            account: account, strategy: strategy, symbol: symbol.text, ts: ts)
    }

    static let alertingChanges: Set<Substring> = [
        "rejected", "canceled", "expired", "unknown", "cancel_rejected", "replace_rejected",
    ]

    /// The value of `"name":"…"` in `line` when it occurs once (or, with `first`, its first occurrence)
    /// and holds no escape; else `nil` (the caller then decodes). Events are written with sorted keys by the engine, and an order's own fields hold
    /// no key named `change`.
    static func topLevelString(_ name: String, in line: String, first: Bool = false) -> Substring? {
        let key = Array("\"\(name)\":\"".utf8)
        var text = line
        let range: Range<Int>? = text.withUTF8 { bytes in
            var found: Int?
            var index = 0
            while index + key.count <= bytes.count {
                if bytes[index] == key[0], (1..<key.count).allSatisfy({ bytes[index + $0] == key[$0] }) {
                    guard found == nil else { return nil }
                    found = index + key.count
                    if first { break }
                    index += key.count
                } else {
                    index += 1
                }
            }
            guard let start = found else { return nil }
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                if bytes[end] == UInt8(ascii: "\\") { return nil }
                end += 1
            }
            return end < bytes.count ? start..<end : nil
        }
        guard let range else { return nil }
        let utf8 = line.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
        return line[start..<utf8.index(start, offsetBy: range.count)]
    }

    static func orderAlert(_ order: Order, change: String, reason: String?, ts: Timestamp) -> Alert? {
        let category: AlertCategory
        let headline: String
        switch change {
        case "rejected":
            category = order.brokerOrderID == nil ? .reject : .lateReject
            headline = order.brokerOrderID == nil ? "REJECTED" : "LATE REJECT"
        case "canceled": (category, headline) = (.order, "CANCELED")
        case "expired": (category, headline) = (.order, "EXPIRED")
        case "unknown": (category, headline) = (.order, "OUTCOME UNKNOWN")
        case "cancel_rejected": (category, headline) = (.order, "CANCEL REFUSED")
        case "replace_rejected": (category, headline) = (.order, "REPLACE REFUSED")
        default: return nil
        }
        var text = "\(headline) \(order.side.rawValue) \(order.qty) \(order.symbol.text) \(terms(order))"
        if order.filledQty.isPositive, change != "rejected" { text += " (\(order.filledQty) filled)" }
        text += trailer(order.account, order.strategy)
        let why = reason ?? order.rejectReasons?.joined(separator: "; ")
        if let why, !why.isEmpty { text += " — " + clipped(why) }
        if change == "unknown", reason == nil { text += " — asking the broker before anything is sent again" }
        return Alert(
            category: category, text: text, account: order.account, strategy: order.strategy,
            symbol: order.symbol.text, ts: ts)
    }

    /// "limit 190.50", "stop 185", "market".
    static func terms(_ order: Order) -> String {
        switch order.type {
        case .limit: "limit \(order.limitPrice.map { "\($0)" } ?? "?")"
        case .stop: "stop \(order.stopPrice.map { "\($0)" } ?? "?")"
        case .stopLimit:
            "stop \(order.stopPrice.map { "\($0)" } ?? "?") limit \(order.limitPrice.map { "\($0)" } ?? "?")"
        case .trailingStop:
            order.trailPercent.map { "trailing \($0)%" } ?? "trailing \(order.trailPrice.map { "\($0)" } ?? "?")"
        case .market: "market"
        }
    }

    /// " · paper · turtle20"
    static func trailer(_ account: AccountID, _ strategy: String?) -> String {
        " · \(account)" + (strategy.map { " · \($0)" } ?? "")
    }

    static func ordersCount(_ count: Int) -> String { count == 1 ? "1 order" : "\(count) orders" }

    /// At most 300 characters of a free text, on one line.
    static func clipped(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count <= 300 ? line : String(line.prefix(299)) + "…"
    }
}
