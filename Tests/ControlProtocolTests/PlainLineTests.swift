import ControlProtocol
import Foundation
import GatewayCore
import Testing

/// The hand reader's other verbs — `cancel`, `replace`, `cancel_all`, `quote`, `signal`, `hello`,
/// `status` — against `JSONDecoder`, as `PlainSubmitTests` does for `submit`: whatever it reads, it reads
/// the same; whatever is plain and `JSONDecoder` reads, it reads too; anything else it leaves to
/// `JSONDecoder`.
@Suite struct PlainLineTests {

    @Test func readsEachVerbsPlainLine() throws {
        let cancel = try #require(PlainLine(Data(#"{"id":3,"op":"cancel","account":"paper","order_id":"o-9"}"#.utf8)))
        #expect(cancel.id == .number(3))
        #expect(cancel.request.cancel?.account == AccountID("paper"))
        #expect(cancel.request.cancel?.orderID == OrderID("o-9"))
        #expect(cancel.request.cancel?.clientOrderID == nil)
        let replace = try #require(
            PlainLine(
                Data(
                    #"{"id":"r","op":"replace","account":"paper","client_order_id":"c-1","qty":"5","limit_price":101.5}"#
                        .utf8)))
        #expect(replace.id == .string("r"))
        #expect(replace.request.replace?.clientOrderID == ClientOrderID("c-1"))
        #expect(replace.request.replace?.qty == Quantity(5))
        #expect(replace.request.replace?.limitPrice == Price("101.5"))
        let quote = try #require(
            PlainLine(Data(#"{"op":"quote","symbol":"BENCH","bid":"100","ask":"100.01","bid_size":3}"#.utf8)))
        #expect(quote.id == nil)
        #expect(quote.request.quote?.symbol == Symbol("BENCH"))
        #expect(quote.request.quote?.bid == Price("100"))
        #expect(quote.request.quote?.ask == Price("100.01"))
        #expect(quote.request.quote?.bidSize == Quantity(3))
        #expect(quote.request.quote?.last == nil)
        let status = try #require(PlainLine(Data(#"{"id":9,"op":"status"}"#.utf8)))
        #expect(status.id == .number(9))
        #expect(status.request.op == "status")
    }

    @Test(arguments: [
        // A key another verb takes, or none of them does.
        #"{"op":"cancel","account":"paper","order_id":"o-1","symbol":"AAPL"}"#,
        #"{"op":"replace","account":"paper","order_id":"o-1","side":"buy"}"#,
        #"{"op":"quote","symbol":"AAPL","bid":"1","qty":"1"}"#,
        #"{"op":"quote","symbol":"AAPL","bid":"1","note":"x"}"#,
        // A quote's time, in any of its forms.
        #"{"op":"quote","symbol":"AAPL","bid":"1","ts":"2026-12-07T10:00:00Z"}"#,
        // A key twice, an escape, an exponent, a verb read only the usual way.
        #"{"op":"cancel","account":"paper","order_id":"o-1","order_id":"o-2"}"#,
        #"{"op":"cancel","account":"paper","order_id":"o\u002d1"}"#,
        #"{"op":"quote","symbol":"AAPL","bid":1e2}"#,
        #"{"op":"orders","account":"paper"}"#,
        #"{"op":"status","verbose":true}"#,
        #"{"op":"cancel_all","account":"paper","side":"buy"}"#,
    ])
    func leavesEverythingElseToJSONDecoder(line: String) {
        #expect(PlainLine(Data(line.utf8)) == nil)
    }

    @Test func cancelAgreesWithJSONDecoderOnGeneratedLines() throws {
        try agree(
            verb: "cancel",
            pools: [
                Self.pool("id"), Self.op("cancel"), Self.pool("account"), Self.orderID, Self.pool("client_order_id"),
            ],
            seed: 20_261_207, read: \.cancel, as: CancelRequest.self)
    }

    @Test func replaceAgreesWithJSONDecoderOnGeneratedLines() throws {
        try agree(
            verb: "replace",
            pools: [
                Self.pool("id"), Self.op("replace"), Self.pool("account"), Self.orderID, Self.pool("client_order_id"),
                Self.pool("qty", required: false), Self.pool("limit_price"), Self.pool("stop_price"), Self.pool("tif"),
            ],
            seed: 20_261_208, read: \.replace, as: ReplaceRequest.self)
    }

    @Test func quoteAgreesWithJSONDecoderOnGeneratedLines() throws {
        try agree(
            verb: "quote",
            pools: [
                Self.pool("id"), Self.op("quote"), Self.pool("symbol"), Self.pool("limit_price", as: "bid"),
                Self.pool("limit_price", as: "ask"), Self.pool("stop_price", as: "last"),
                Self.pool("qty", as: "bid_size", required: false), Self.pool("qty", as: "ask_size", required: false),
                Self.pool("qty", as: "volume", required: false),
            ],
            seed: 20_261_209, read: \.quote, as: QuoteRequest.self)
    }

    @Test func signalAgreesWithJSONDecoderOnGeneratedLines() throws {
        try agree(
            verb: "signal",
            pools: [
                Self.pool("id"), Self.op("signal"), Self.pool("account"),
                Self.pool("client_order_id", as: "signal_id", required: true), Self.pool("strategy"),
                Self.pool("symbol"), Self.pool("side"), Self.entry, Self.pool("stop_price"),
                Self.pool("trail_price", as: "atr"), Self.pool("trail_percent", as: "atr_multiple"),
                Self.pool("limit_price", as: "take_profit"), Self.pool("trail_percent", as: "risk_fraction"),
                Self.pool("qty", required: false), Self.pool("tif"), Self.pool("tags"),
            ],
            seed: 20_261_210, read: \.signal, as: SignalRequest.self)
    }

    @Test func cancelAllAgreesWithJSONDecoderOnGeneratedLines() throws {
        try agree(
            verb: "cancel_all",
            pools: [
                Self.pool("id"), Self.op("cancel_all"), Self.pool("account", required: false),
                Self.pool("symbol", required: false),
            ],
            seed: 20_261_212, read: \.cancelAll, as: CancelAllRequest.self)
    }

    @Test func helloAgreesWithJSONDecoderOnGeneratedLines() throws {
        try agree(
            verb: "hello",
            pools: [
                Self.pool("id"), Self.op("hello"), Self.pool("strategy", as: "client"),
                GeneratedLine.Pool(
                    key: "protocol", required: false, usual: ["1", "2", "0", "-1", "null"],
                    other: [
                        "1.5", "~1.0", #""1""#, "true", "99999999999999999999", "~1e2", "~01", "~-01", "[1]",
                    ]),
            ],
            seed: 20_261_211, read: \.hello, as: HelloRequest.self)
    }

    /// `agreeWithJSONDecoder` over 10 000 generated lines of `verb`.
    func agree<Request: Decodable & Equatable>(
        verb: String, pools: [GeneratedLine.Pool], seed: UInt64, read: KeyPath<PlainRequest, Request?>,
        as type: Request.Type
    ) throws {
        try agreeWithJSONDecoder(
            verb: verb, pools: pools, extras: Self.extras, seed: seed, lines: 10_000, atLeast: 1_000, read: read,
            as: type)
    }

    /// A submit's pool of values for `key`, under another key or with `required` changed.
    static func pool(_ key: String, as name: String? = nil, required: Bool? = nil) -> GeneratedLine.Pool {
        let pool = GeneratedLine.pools.first { $0.key == key }!
        return GeneratedLine.Pool(
            key: name ?? key, required: required ?? pool.required, usual: pool.usual, other: pool.other)
    }

    static func op(_ verb: String) -> GeneratedLine.Pool {
        GeneratedLine.Pool(
            key: "op", required: true, usual: ["\"\(verb)\""], other: [#""submit""#, "null", #"~"x\u0079""#])
    }

    /// A signal's `entry`: the one object a plain line may hold, itself flat.
    static let entry = GeneratedLine.Pool(
        key: "entry", required: false,
        usual: [
            #"{"type":"market"}"#, #"{"type":"limit","price":"190.5"}"#, #"{ "price" : 190.5 , "type" : "stop" }"#,
            "{}", "null",
        ],
        other: [
            #"{"type":"bogus"}"#, #"{"price":"x"}"#, #"{"type":"limit","price":1.123456789}"#, #""market""#, "[]",
            #"~{"type":"limit","price":1e2}"#, #"~{"type":"limit","note":"x"}"#, #"~{"type":{"a":"b"}}"#,
            #"~{"type":"limit","type":"stop"}"#, #"~{"type":"li\u006dit"}"#, #"{"type":"limit""#,
        ])

    static let orderID = GeneratedLine.Pool(
        key: "order_id", required: false, usual: [#""o-1""#, #""ord_2.b:c""#],
        other: [
            #""""#, #""has space""#, "null", "7", "\"\(String(repeating: "o", count: 64))\"",
            "\"\(String(repeating: "o", count: 65))\"", #"~"o\u002d1""#, "~\"ö-1\"",
        ])

    /// Members that make a line not plain: a key its verb does not take, a key another verb takes, a time.
    static let extras = [
        #""foo":1"#, #""side":"buy""#, #""symbol":"AAPL""#, #""order_id":"o-2""#, #""ts":"2026-12-07T10:00:00Z""#,
        #""legs":[]"#,
    ]
}

/// The order path's other answers are written by JSONText: the same lines as JSONEncoder gave.
@Suite struct OrderPathAnswerTextTests {
    static let order = Order(
        orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
        symbol: Symbol("AAPL")!, side: .sell, qty: Quantity(3), type: .limit, limitPrice: Price("190.5")!,
        tif: .gtc, strategy: "mean/rev", tags: ["a", "b\"c"], createdAt: Timestamp(nanosecondsSinceEpoch: 5))

    static func expected(_ id: RequestID, _ body: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let text = String(decoding: try encoder.encode(body), as: UTF8.self)
        let idText = String(decoding: try encoder.encode(id), as: UTF8.self)
        return "{\"id\":\(idText),\"ok\":true," + text.dropFirst()
    }

    @Test func cancelReplaceAndCancelAllAnswers() throws {
        let writer = AnswerWriter()
        for id in [RequestID.number(7), .string("x/y"), .null] {
            #expect(
                writer.success(id: id, body: OrderAnswer(order: Self.order))
                    == (try Self.expected(id, OrderAnswer(order: Self.order))))
            for orders in [[], [Self.order], [Self.order, Self.order]] {
                #expect(
                    writer.success(id: id, body: OrdersAnswer(orders: orders))
                        == (try Self.expected(id, OrdersAnswer(orders: orders))))
            }
        }
    }

    @Test func signalAnswers() throws {
        let sizing = try JSONDecoder().decode(
            SizingResult.self,
            from: Data(
                #"{"method":"fixed_fraction","equity":"100000.5","risk_money":"1000","stop_distance":"5","raw_qty":"200","caps":["max_position_qty","a\"b"],"qty":"150"}"#
                    .utf8))
        let bare = try JSONDecoder().decode(
            SizingResult.self,
            from: Data(#"{"method":"fixed_qty","equity":"0","raw_qty":"1","caps":[],"qty":"1"}"#.utf8))
        let writer = AnswerWriter()
        for answer in [
            SignalAnswer(orders: [Self.order], sizing: sizing, duplicate: false, bracket: nil),
            SignalAnswer(orders: [Self.order, Self.order], sizing: bare, duplicate: false, bracket: nil),
            SignalAnswer(orders: [Self.order], sizing: nil, duplicate: true, bracket: "not placed: \"x\"/y"),
        ] {
            #expect(writer.success(id: .number(2), body: answer) == (try Self.expected(.number(2), answer)))
        }
    }

    @Test func helloAnswers() throws {
        let writer = AnswerWriter()
        for answer in [
            HelloAnswer(server: "gatewayd", version: "1.2.3", accounts: [AccountID("paper")!, AccountID("ibkr-1")!]),
            HelloAnswer(server: "gatewayd", version: "dev \"x\"", accounts: [], role: nil),
            HelloAnswer(server: "gatewayd", version: "1", accounts: [AccountID("a")!], role: .viewer),
        ] {
            #expect(writer.success(id: .string("h"), body: answer) == (try Self.expected(.string("h"), answer)))
        }
    }

    @Test func statusAnswers() throws {
        let writer = AnswerWriter()
        let accounts = [
            AccountStatus(
                account: AccountID("paper")!, broker: "paper", connection: "connected", tradingState: "active",
                openOrders: 3, unknownOrders: 0),
            AccountStatus(
                account: AccountID("ibkr")!, broker: "ibkr", connection: "reconnecting \"5 s\"",
                tradingState: "halted", openOrders: 0, unknownOrders: 2),
        ]
        for answer in [
            StatusAnswer(server: "gatewayd", version: "1.0", uptimeSeconds: 12, seq: 345, accounts: accounts),
            StatusAnswer(
                server: "gatewayd", version: "dev", uptimeSeconds: 0, seq: 0, accounts: [],
                journal: "the journal could not be written (disk full)", journalTables: "locked", journalBacklog: 8),
        ] {
            #expect(writer.success(id: .number(3), body: answer) == (try Self.expected(.number(3), answer)))
        }
    }

    @Test func quoteAnswers() throws {
        let writer = AnswerWriter()
        let quotes = [
            Quote(symbol: Symbol("AAPL")!, ts: Timestamp(nanosecondsSinceEpoch: 0)),
            Quote(
                symbol: Symbol("AAPL  261218C00200000")!, bid: Price("1.25"), ask: Price("1.3"), last: Price("1.27"),
                ts: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_123_456_789), bidSize: Quantity(10),
                askSize: Quantity("2.5"), volume: Quantity(1_000)),
            Quote(symbol: Symbol("BRK.B")!, ask: Price("400"), ts: Timestamp(nanosecondsSinceEpoch: 1)),
        ]
        for quote in quotes {
            #expect(
                writer.success(id: .number(1), body: QuoteAnswer(quote: quote))
                    == (try Self.expected(.number(1), QuoteAnswer(quote: quote))))
        }
    }
}
