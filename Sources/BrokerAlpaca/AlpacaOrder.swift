public import BrokerAPI
import Foundation
public import GatewayCore

/// An Alpaca Order object (the reference's §3), as much of it as the gateway reads; unknown fields are
/// ignored, and every field Alpaca may send as `null` is optional.
public struct AlpacaOrder: Sendable, Hashable, Decodable {
    public var id: String
    public var clientOrderID: String
    public var status: String
    public var symbol: String?
    public var type: String?
    public var qty: String?
    public var filledQty: String?
    public var filledAvgPrice: String?
    public var replaces: String?
    public var replacedBy: String?
    public var legs: [AlpacaOrder]?
    public var side: String?
    public var orderClass: String?
    /// On an `mleg` leg: how many of it make one spread.
    public var ratioQty: String?
    public var timeInForce: String?
    public var limitPrice: String?
    public var stopPrice: String?
    /// When it last filled, and when it last changed (RFC 3339).
    public var filledAt: String?
    public var updatedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, clientOrderID = "client_order_id", status, symbol, type, qty, filledQty = "filled_qty"
        case filledAvgPrice = "filled_avg_price", replaces, replacedBy = "replaced_by", legs, side
        case orderClass = "order_class", ratioQty = "ratio_qty", timeInForce = "time_in_force"
        case limitPrice = "limit_price", stopPrice = "stop_price", filledAt = "filled_at", updatedAt = "updated_at"
    }

    /// When what a read of it shows last happened: its last fill, else its last change.
    public var lastChanged: Timestamp? {
        (filledAt ?? updatedAt).flatMap { Timestamp(rfc3339: $0) }
    }

    /// The order's terms in the gateway's, for an order the gateway did not send (reconciliation adopts
    /// it); `nil` for a multi-leg order, or one whose side, type or time in force the gateway has no
    /// name for.
    public var terms: BrokerOrderTerms? {
        guard !isMultiLegParent, let symbol = symbol.flatMap({ Symbol($0) }), let qty = qty.flatMap({ Quantity($0) }),
            let side = side.flatMap({ OrderSide(rawValue: $0) }), side == .buy || side == .sell,
            let type = type.flatMap({ OrderType(rawValue: $0) }),
            let tif = timeInForce.flatMap({ TimeInForce(rawValue: $0) })
        else { return nil }
        return BrokerOrderTerms(
            clientOrderID: clientOrderID, symbol: symbol, side: side, qty: qty, type: type,
            limitPrice: limitPrice.flatMap { Price($0) }, stopPrice: stopPrice.flatMap { Price($0) }, tif: tif,
            avgFillPrice: filledAvgPrice.flatMap { Price($0) })
    }

    /// Whether this is the parent of a multi-leg order (its legs carry the contracts).
    public var isMultiLegParent: Bool { orderClass == "mleg" && !(legs ?? []).isEmpty }

    /// Alpaca's status in the gateway's terms. Statuses of a working order (`new`, `accepted`,
    /// `pending_new`, `held`, `done_for_day`, …) are `acknowledged`, or `partially_filled` once some of it
    /// filled; a status this code does not know is read the same way, never as an end.
    public var gatewayStatus: OrderStatus {
        switch status {
        case "filled": .filled
        case "partially_filled": .partiallyFilled
        case "canceled": .canceled
        case "expired": .expired
        case "replaced": .replaced
        case "rejected": .rejected
        case "pending_cancel": .pendingCancel
        case "pending_replace": .pendingReplace
        default: filled.isPositive ? .partiallyFilled : .acknowledged
        }
    }

    /// `filled_qty`, zero when absent or unreadable.
    public var filled: Quantity { filledQty.flatMap { Quantity($0) } ?? .zero }

    /// The report the engine settles an order with. `orderID` is the gateway's (Alpaca's
    /// `client_order_id`); fills come from the activities, not from here.
    public func report(for orderID: OrderID, fills: [BrokerFill] = []) -> BrokerOrderReport {
        BrokerOrderReport(
            orderID: orderID, brokerOrderID: id, status: gatewayStatus, filledQty: filled, fills: fills,
            reason: gatewayStatus == .rejected ? "rejected by Alpaca" : nil)
    }
}

/// Alpaca's error body: `{"code": 40310000, "message": "insufficient buying power", …}` (401 has only a
/// message).
public struct AlpacaErrorBody: Sendable, Hashable, Decodable {
    public var code: Int?
    public var message: String?
}

/// What an HTTP answer from Alpaca means for the engine (the reference's §6 and the rules).
public enum AlpacaOutcome {
    /// The broker error for a failed call. `sent` says whether the request may have changed something at
    /// Alpaca (a POST, PATCH or DELETE): then a 5xx is an unknown outcome, never a rejection, and the
    /// order is looked up by its client order id before anything is sent again.
    public static func error(status: Int, body: [UInt8], sent: Bool) -> BrokerError {
        let parsed = try? JSONDecoder().decode(AlpacaErrorBody.self, from: Data(body))
        let message = parsed?.message ?? String(decoding: body.prefix(300), as: UTF8.self)
        let code = parsed?.code.map { "alpaca_\($0)" } ?? "http_\(status)"
        switch status {
        case 401:
            return BrokerError(.fatal, code: "unauthorized", message: "Alpaca refused the credentials: \(message)")
        case 403, 422:
            return BrokerError(.nonRetryable, code: code, message: "Alpaca: \(message)")
        case 404:
            return BrokerError(.nonRetryable, code: "not_found", message: "Alpaca: \(message)")
        case 429:
            return BrokerError(.retryable, code: "rate_limited", message: "Alpaca's rate limit: \(message)")
        case 500...599 where sent:
            return BrokerError(
                .unknownOutcome, code: "http_\(status)",
                message: "Alpaca answered \(status) after the request was sent; asking before sending again")
        case 500...599:
            return BrokerError(.retryable, code: "http_\(status)", message: "Alpaca answered \(status): \(message)")
        default:
            return BrokerError(.nonRetryable, code: code, message: "Alpaca answered \(status): \(message)")
        }
    }
}
