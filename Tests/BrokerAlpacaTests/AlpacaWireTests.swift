import BrokerAPI
import Foundation
import GatewayCore
import Testing

@testable import BrokerAlpaca

/// An order as the engine hands it to the adapter.
func order(
    _ id: String = "ord-1", symbol: String = "AAPL", side: OrderSide = .buy, qty: String = "2",
    type: OrderType = .limit, limit: String? = "150", stop: String? = nil, trailPrice: String? = nil,
    trailPercent: String? = nil, tif: TimeInForce = .gtc
) -> Order {
    Order(
        orderID: OrderID(id)!, clientOrderID: ClientOrderID("c-" + id)!, account: AccountID("alpaca")!,
        symbol: Symbol(symbol)!, side: side, qty: Quantity(qty)!, type: type, limitPrice: limit.flatMap { Price($0) },
        stopPrice: stop.flatMap { Price($0) }, trailPrice: trailPrice.flatMap { Price($0) },
        trailPercent: trailPercent.flatMap { Price($0) }, tif: tif, createdAt: Timestamp(nanosecondsSinceEpoch: 0))
}

/// The request's JSON object, as Alpaca receives it.
func body(_ request: AlpacaOrderRequest) throws -> [String: Any] {
    let data = try JSONEncoder().encode(request)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// Compares a JSON object with the expected one, string for string (nested objects as dictionaries).
func expectFields(_ actual: [String: Any], _ expected: [String: Any], sourceLocation: SourceLocation = #_sourceLocation)
{
    #expect(Set(actual.keys) == Set(expected.keys), "keys", sourceLocation: sourceLocation)
    for (key, value) in expected {
        if let nested = value as? [String: String] {
            let object = (actual[key] as? [String: Any])?.mapValues { "\($0)" }
            #expect(
                object == nested, "\(key): \(String(describing: object)) ≠ \(nested)", sourceLocation: sourceLocation)
            continue
        }
        #expect(
            "\(actual[key] ?? "missing")" == "\(value)", "\(key): \(actual[key] ?? "missing") ≠ \(value)",
            sourceLocation: sourceLocation)
    }
}

@Suite struct AlpacaOrderRequestTests {
    @Test func aLimitOrderCarriesTheGatewaysIDAsClientOrderID() throws {
        expectFields(
            try body(AlpacaOrderRequest(order())),
            [
                "symbol": "AAPL", "qty": "2", "side": "buy", "type": "limit", "time_in_force": "gtc",
                "limit_price": "150", "client_order_id": "ord-1",
            ])
    }

    @Test func everyOrderTypeSendsExactlyItsPrices() throws {
        expectFields(
            try body(AlpacaOrderRequest(order(side: .sell, qty: "10", type: .market, limit: nil, tif: .day))),
            [
                "symbol": "AAPL", "qty": "10", "side": "sell", "type": "market", "time_in_force": "day",
                "client_order_id": "ord-1",
            ])
        expectFields(
            try body(AlpacaOrderRequest(order(type: .stop, limit: nil, stop: "140.5", tif: .day))),
            [
                "symbol": "AAPL", "qty": "2", "side": "buy", "type": "stop", "time_in_force": "day",
                "stop_price": "140.5", "client_order_id": "ord-1",
            ])
        expectFields(
            try body(AlpacaOrderRequest(order(type: .stopLimit, limit: "141", stop: "140.5", tif: .ioc))),
            [
                "symbol": "AAPL", "qty": "2", "side": "buy", "type": "stop_limit", "time_in_force": "ioc",
                "limit_price": "141", "stop_price": "140.5", "client_order_id": "ord-1",
            ])
        expectFields(
            try body(AlpacaOrderRequest(order(side: .sell, type: .trailingStop, limit: nil, trailPrice: "1.25"))),
            [
                "symbol": "AAPL", "qty": "2", "side": "sell", "type": "trailing_stop", "time_in_force": "gtc",
                "trail_price": "1.25", "client_order_id": "ord-1",
            ])
        expectFields(
            try body(
                AlpacaOrderRequest(order(side: .sell, type: .trailingStop, limit: nil, trailPercent: "2", tif: .day))),
            [
                "symbol": "AAPL", "qty": "2", "side": "sell", "type": "trailing_stop", "time_in_force": "day",
                "trail_percent": "2", "client_order_id": "ord-1",
            ])
    }

    @Test func shortAndCoverAreAlpacasSellAndBuy() throws {
        #expect(try body(AlpacaOrderRequest(order(side: .sellShort)))["side"] as? String == "sell")
        #expect(try body(AlpacaOrderRequest(order(side: .buyToCover)))["side"] as? String == "buy")
    }

    @Test func anOptionGoesByItsCompactSymbolWithItsIntent() throws {
        let option = order(symbol: "AAPL  261218C00200000", side: .sellToOpen, qty: "3", limit: "4.1", tif: .day)
        expectFields(
            try body(AlpacaOrderRequest(option)),
            [
                "symbol": "AAPL261218C00200000", "qty": "3", "side": "sell", "type": "limit", "time_in_force": "day",
                "limit_price": "4.1", "client_order_id": "ord-1", "position_intent": "sell_to_open",
            ])
    }

    @Test func aBracketNamesItsTargetAndItsStop() throws {
        let entry = order("e-1", limit: "500", tif: .day)
        let stop = order("e-1-s", side: .sell, type: .stopLimit, limit: "489.5", stop: "490", tif: .gtc)
        let target = order("e-1-t", side: .sell, limit: "520", tif: .gtc)
        let request = try body(AlpacaOrderRequest(entry: entry, stop: stop, target: target))
        #expect(request["order_class"] as? String == "bracket")
        #expect((request["take_profit"] as? [String: Any])?["limit_price"] as? String == "520")
        let stopLoss = try #require(request["stop_loss"] as? [String: Any])
        #expect(stopLoss["stop_price"] as? String == "490")
        #expect(stopLoss["limit_price"] as? String == "489.5")
        #expect(request["client_order_id"] as? String == "e-1")

        let oto = try body(
            AlpacaOrderRequest(
                entry: entry, stop: order("e-1-s", side: .sell, type: .stop, limit: nil, stop: "490"), target: nil))
        #expect(oto["order_class"] as? String == "oto")
        #expect(oto["take_profit"] == nil)
        #expect((oto["stop_loss"] as? [String: Any])?.keys.sorted() == ["stop_price"])
    }

    /// Every field of a bracket, an OTO with a target and an OCO, as Alpaca receives them.
    @Test func bracketOTOAndOCOBodiesFieldByField() throws {
        let entry = order("e-2", qty: "10", limit: "500", tif: .day)
        let stop = order("e-2-stop", side: .sell, qty: "10", type: .stop, limit: nil, stop: "490", tif: .day)
        let target = order("e-2-target", side: .sell, qty: "10", limit: "520", tif: .day)
        expectFields(
            try body(AlpacaOrderRequest(entry: entry, stop: stop, target: target)),
            [
                "symbol": "AAPL", "qty": "10", "side": "buy", "type": "limit", "time_in_force": "day",
                "limit_price": "500", "client_order_id": "e-2", "order_class": "bracket",
                "take_profit": ["limit_price": "520"], "stop_loss": ["stop_price": "490"],
            ])
        expectFields(
            try body(AlpacaOrderRequest(entry: entry, stop: nil, target: target)),
            [
                "symbol": "AAPL", "qty": "10", "side": "buy", "type": "limit", "time_in_force": "day",
                "limit_price": "500", "client_order_id": "e-2", "order_class": "oto",
                "take_profit": ["limit_price": "520"],
            ])
        var limit = order("x-1", side: .sell, qty: "10", limit: "520", tif: .gtc)
        limit.orderClass = .oco
        var ocoStop = order("x-1-stop", side: .sell, qty: "10", type: .stopLimit, limit: "489", stop: "490")
        ocoStop.orderClass = .oco
        expectFields(
            try body(AlpacaOrderRequest(entry: limit, stop: ocoStop, target: nil)),
            [
                "symbol": "AAPL", "qty": "10", "side": "sell", "type": "limit", "time_in_force": "gtc",
                "limit_price": "520", "client_order_id": "x-1", "order_class": "oco",
                "take_profit": ["limit_price": "520"], "stop_loss": ["limit_price": "489", "stop_price": "490"],
            ])
    }

    /// A spread goes as `mleg`: no symbol or side of its own, the net price (negative for a credit), and
    /// each leg's compact symbol, ratio, side and intent.
    @Test func aMultiLegOrderSendsItsLegs() throws {
        var spread = order("s-1", symbol: "AAPL", side: .sell, qty: "3", limit: "-1.25", tif: .day)
        spread.orderClass = .mleg
        spread.legs = [
            OrderLeg(symbol: Symbol("AAPL  261218P00190000")!, side: .sellToOpen, ratio: 1),
            OrderLeg(symbol: Symbol("AAPL  261218P00180000")!, side: .buyToOpen, ratio: 2),
        ]
        let request = try body(AlpacaOrderRequest(spread))
        #expect(request["legs"] != nil)
        expectFields(
            request.filter { $0.key != "legs" },
            [
                "qty": "3", "type": "limit", "time_in_force": "day", "limit_price": "-1.25", "client_order_id": "s-1",
                "order_class": "mleg",
            ])
        let legs = try #require(request["legs"] as? [[String: Any]])
        #expect(legs.count == 2)
        expectFields(
            legs[0],
            [
                "symbol": "AAPL261218P00190000", "ratio_qty": "1", "side": "sell", "position_intent": "sell_to_open",
            ])
        expectFields(
            legs[1],
            ["symbol": "AAPL261218P00180000", "ratio_qty": "2", "side": "buy", "position_intent": "buy_to_open"])
    }
}

@Suite struct AlpacaSupportTests {
    @Test func whatAlpacaCannotTakeIsRefusedBeforeSending() {
        let option = "AAPL  261218C00200000"
        #expect(AlpacaSupport.unsupportedReason(for: order(symbol: option, side: .buyToOpen, tif: .day)) == nil)
        #expect(
            AlpacaSupport.unsupportedReason(for: order(symbol: option, side: .buyToOpen, tif: .gtc))?
                .contains("time in force day only") == true)
        #expect(
            AlpacaSupport.unsupportedReason(
                for: order(symbol: option, type: .trailingStop, limit: nil, trailPrice: "1", tif: .day)) != nil)
        #expect(AlpacaSupport.unsupportedReason(for: order(symbol: option, qty: "1.5", tif: .day)) != nil)
        #expect(AlpacaSupport.unsupportedReason(for: order(side: .buyToOpen)) != nil)
        #expect(AlpacaSupport.unsupportedReason(for: order(qty: "0.5", type: .market, limit: nil, tif: .day)) == nil)
        var spread = order(symbol: "AAPL", qty: "1", limit: "1.25", tif: .day)
        spread.legs = [
            OrderLeg(symbol: Symbol(option)!, side: .buyToOpen),
            OrderLeg(symbol: Symbol("AAPL  261218C00210000")!, side: .sellToOpen),
        ]
        spread.orderClass = .mleg
        #expect(AlpacaSupport.unsupportedReason(for: spread) == nil)
        spread.tif = .gtc
        #expect(AlpacaSupport.unsupportedReason(for: spread)?.contains("day only") == true)
        var bracket = order(tif: .ioc)
        bracket.orderClass = .bracket
        #expect(AlpacaSupport.unsupportedReason(for: bracket)?.contains("day or gtc") == true)
        bracket.tif = .gtc
        #expect(AlpacaSupport.unsupportedReason(for: bracket) == nil)
        var optionOCO = order(symbol: option, side: .sellToClose, tif: .day)
        optionOCO.orderClass = .oco
        #expect(AlpacaSupport.unsupportedReason(for: optionOCO)?.contains("simple or multi-leg") == true)
        #expect(AlpacaSupport.unsupportedReason(for: order(qty: "0.5", type: .limit, tif: .day)) != nil)
        #expect(AlpacaSupport.unsupportedReason(for: order(type: .stopLimit, limit: "1", stop: "1", tif: .opg)) == nil)
    }
}

@Suite struct AlpacaOrderTests {
    static let json = """
        {"id":"7b08df51-c1ac-453c-99f9-323a5f075f0d","client_order_id":"ord-1",
         "created_at":"2023-12-12T22:31:24.668464435Z","filled_at":null,"replaced_by":null,"replaces":null,
         "asset_id":"b0b6dd9d-8b9b-48a9-ba46-b9d54906e415","symbol":"AAPL","asset_class":"us_equity",
         "notional":null,"qty":"2","filled_qty":"0","filled_avg_price":null,"order_class":"",
         "order_type":"limit","type":"limit","side":"buy","time_in_force":"gtc","limit_price":"150",
         "stop_price":null,"status":"accepted","extended_hours":false,"legs":null,"commission":"0","future":1}
        """

    static func decoded(status: String, filled: String = "0") throws -> AlpacaOrder {
        var order = try JSONDecoder().decode(AlpacaOrder.self, from: Data(json.utf8))
        order.status = status
        order.filledQty = filled
        return order
    }

    @Test func readsTheReferenceExampleIgnoringUnknownFields() throws {
        let order = try JSONDecoder().decode(AlpacaOrder.self, from: Data(Self.json.utf8))
        #expect(order.id == "7b08df51-c1ac-453c-99f9-323a5f075f0d")
        #expect(order.clientOrderID == "ord-1")
        #expect(order.gatewayStatus == .acknowledged)
        let report = order.report(for: OrderID("ord-1")!)
        #expect(report.brokerOrderID == order.id)
        #expect(report.filledQty == .zero)
    }

    @Test func everyStatusMapsAndUnknownOnesAreNeverAnEnd() throws {
        let expected: [String: OrderStatus] = [
            "new": .acknowledged, "accepted": .acknowledged, "pending_new": .acknowledged, "held": .acknowledged,
            "accepted_for_bidding": .acknowledged, "done_for_day": .acknowledged, "calculated": .acknowledged,
            "stopped": .acknowledged, "suspended": .acknowledged, "partially_filled": .partiallyFilled,
            "filled": .filled, "canceled": .canceled, "expired": .expired, "replaced": .replaced,
            "rejected": .rejected, "pending_cancel": .pendingCancel, "pending_replace": .pendingReplace,
            "something_new": .acknowledged,
        ]
        for (status, mapped) in expected {
            #expect(try Self.decoded(status: status).gatewayStatus == mapped, "\(status)")
        }
        #expect(try Self.decoded(status: "done_for_day", filled: "1").gatewayStatus == .partiallyFilled)
    }
}

@Suite struct AlpacaOutcomeTests {
    func error(_ status: Int, _ body: String, sent: Bool = true) -> BrokerError {
        AlpacaOutcome.error(status: status, body: Array(body.utf8), sent: sent)
    }

    @Test func refusalsCarryAlpacasMessage() {
        let funds = error(403, #"{"buying_power":"1","code":40310000,"message":"insufficient buying power"}"#)
        #expect(funds.kind == .nonRetryable)
        #expect(funds.code == "alpaca_40310000")
        #expect(funds.message == "Alpaca: insufficient buying power")
        let duplicate = error(422, #"{"code":40010001,"message":"client_order_id must be unique"}"#)
        #expect(duplicate.kind == .nonRetryable)
        #expect(duplicate.message.contains("client_order_id must be unique"))
    }

    @Test func credentialsRateLimitsAndServerErrors() {
        #expect(error(401, #"{"message":"unauthorized"}"#).kind == .fatal)
        #expect(error(429, "").kind == .retryable)
        #expect(error(500, "oops", sent: true).kind == .unknownOutcome)
        #expect(error(503, "", sent: false).kind == .retryable)
        #expect(error(404, #"{"code":40410000,"message":"order not found"}"#).code == "not_found")
    }
}
