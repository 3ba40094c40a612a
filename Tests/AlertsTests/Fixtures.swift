import Alerts
import Foundation
import GatewayCore

let aTime = Timestamp(nanosecondsSinceEpoch: 1_795_600_000_000_000_000)

func fillAlert(_ n: Int = 1, symbol: String = "AAPL") -> Alert {
    Alert(
        category: .fill, text: "FILLED buy \(n) \(symbol) @ 190.12 · paper", account: AccountID("paper")!,
        symbol: symbol, ts: aTime)
}

/// The line the engine publishes for a fill (PROTOCOL.md "Positions, accounts, events").
func fillLine(seq: Int64 = 7, qty: String = "100", price: String = "190.12") -> String {
    """
    {"event":"fill","seq":\(seq),"ts":"2026-11-25T14:32:05.123456789Z","fill":{"account":"paper",\
    "client_order_id":"turtle-AAPL-1","commission":"0","fill_id":"F-1","order_id":"O-1","price":"\(price)",\
    "qty":"\(qty)","side":"buy","symbol":"AAPL","ts":"2026-11-25T14:32:05.123456789Z"}}
    """
}

func orderLine(change: String, status: String, brokerID: String? = nil, reason: String? = nil, filled: String = "0")
    -> String
{
    let broker = brokerID.map { ",\"broker_order_id\":\"\($0)\"" } ?? ""
    let why = reason.map { ",\"reason\":\"\($0)\"" } ?? ""
    return """
        {"event":"order","seq":9,"ts":"2026-11-25T14:32:05Z","change":"\(change)"\(why),"order":{"account":"paper",\
        "client_order_id":"c-1","created_at":"2026-11-25T14:32:00Z","filled_qty":"\(filled)","limit_price":"190.5",\
        "order_id":"O-1","qty":"100","side":"buy","status":"\(status)","strategy":"turtle20","symbol":"AAPL",\
        "tif":"day","type":"limit","updated_at":"2026-11-25T14:32:05Z"\(broker)}}
        """
}
