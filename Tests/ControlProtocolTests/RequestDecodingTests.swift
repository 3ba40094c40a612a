import ControlProtocol
import Foundation
import GatewayCore
import Testing

@Suite struct RequestDecodingTests {
    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }

    func problem<T: Decodable>(_ type: T.Type, _ json: String) -> RequestProblem? {
        do {
            _ = try decode(type, json)
            return nil
        } catch let error as DecodingError {
            return RequestProblem(error)
        } catch {
            return nil
        }
    }

    @Test func decimalsAreStringsOrExactNumbers() throws {
        let fromString = try decode(
            SubmitRequest.self,
            #"{"account":"paper","symbol":"AAPL","side":"buy","qty":"0.1","type":"limit","limit_price":"190.25"}"#)
        let fromNumber = try decode(
            SubmitRequest.self,
            #"{"account":"paper","symbol":"AAPL","side":"buy","qty":0.1,"type":"limit","limit_price":190.25}"#)
        #expect(fromString.qty == fromNumber.qty)
        #expect(fromNumber.qty.description == "0.1")
        #expect(fromNumber.limitPrice?.description == "190.25")
    }

    @Test func aNumberWithTooManyDecimalsIsRefusedNotRounded() {
        let problem = problem(
            SubmitRequest.self, #"{"account":"paper","symbol":"AAPL","side":"buy","qty":"1","limit_price":1.123456789}"#
        )
        #expect(problem?.field == "limit_price")
    }

    @Test(arguments: [
        (#"{"symbol":"AAPL","side":"buy","qty":"1"}"#, "account"),
        (#"{"account":"paper","side":"buy","qty":"1"}"#, "symbol"),
        (#"{"account":"paper","symbol":"AAPL","side":"up","qty":"1"}"#, "side"),
        (#"{"account":"paper","symbol":"AAPL","side":"buy"}"#, "qty"),
        (#"{"account":"paper","symbol":"AAPL","side":"buy","qty":"NaN"}"#, "qty"),
        (#"{"account":"paper","symbol":"AAPL","side":"buy","qty":true}"#, "qty"),
        (#"{"account":"paper","symbol":"$$$","side":"buy","qty":"1"}"#, "symbol"),
        (#"{"account":"paper","symbol":"AAPL","side":"buy","qty":"1","type":"iceberg"}"#, "type"),
        (#"{"account":"paper","symbol":"AAPL","side":"buy","qty":"1","tif":"forever"}"#, "tif"),
        (
            #"{"account":"paper","symbol":"AAPL","side":"buy","qty":"1","client_order_id":"has space"}"#,
            "client_order_id"
        ),
    ])
    func badFieldsAreNamed(json: String, field: String) {
        #expect(problem(SubmitRequest.self, json)?.field == field)
    }

    /// A time past what the journal's nanoseconds reach is refused naming the range, not trapped on.
    @Test(arguments: ["9999-12-31T23:59:59Z", "1600-01-01", "yesterday"])
    func aTimeOutsideTheRangeIsRefusedNamingIt(since: String) {
        let refused = problem(JournalRequest.self, #"{"since":"\#(since)"}"#)
        #expect(refused?.field == "since")
        #expect(
            refused?.message.contains(
                "'\(since)' is not an RFC 3339 time from 1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z")
                == true, "\(String(describing: refused?.message))")
    }

    @Test func requestIDsAreEchoedAsTheyCame() throws {
        let writer = AnswerWriter()
        let numeric = try decode(RequestEnvelope.self, #"{"id":7,"op":"status"}"#)
        let text = try decode(RequestEnvelope.self, #"{"id":"a-1","op":"status"}"#)
        #expect(writer.success(id: numeric.id!, body: QuoteAnswerless()) == #"{"id":7,"ok":true}"#)
        #expect(writer.success(id: text.id!, rawBody: #"{"events":[]}"#) == #"{"id":"a-1","ok":true,"events":[]}"#)
        #expect(writer.success(id: numeric.id!, rawBody: "{}") == #"{"id":7,"ok":true}"#)
        #expect(writer.success(id: numeric.id!, rawBody: #"{"note":"é✓ 🇫🇷"}"#) == #"{"id":7,"ok":true,"note":"é✓ 🇫🇷"}"#)
        #expect(
            writer.failure(id: .null, code: "bad_request", message: "m")
                == #"{"error":{"code":"bad_request","message":"m"},"id":null,"ok":false}"#)
    }
}

struct QuoteAnswerless: Encodable {}

/// `submit`'s answer is written by JSONText on the order path: the same line as JSONEncoder gave.
@Suite struct SubmitAnswerTextTests {
    @Test func theAnswerLineIsWhatJSONEncoderWrote() throws {
        let order = Order(
            orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: .buy, qty: Quantity(1), type: .market, tif: .day,
            createdAt: Timestamp(nanosecondsSinceEpoch: 0))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        // Numbers as clients send them and as they may come: whole (printed as integers), with an exponent,
        // fractional, negative, past Int64.
        let numbers = [
            "7", "0", "-0", "-12", "1000", "1e3", "2.50", "-2.5", "9223372036854775807", "99999999999999999999",
        ]
        let ids = numbers.map { RequestID.number(Decimal(string: $0)!) } + [.string("a\"b/c"), .null]
        for id in ids {
            let line = AnswerWriter().success(id: id, body: SubmitAnswer(order: order, duplicate: true))
            let body = String(decoding: try encoder.encode(SubmitAnswer(order: order, duplicate: true)), as: UTF8.self)
            let idText = String(decoding: try encoder.encode(id), as: UTF8.self)
            #expect(line == "{\"id\":\(idText),\"ok\":true," + body.dropFirst())
        }
    }
}
