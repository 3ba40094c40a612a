import Foundation
import GatewayCore
import Testing

/// JSONText must write exactly what the journal's JSONEncoder writes, or a payload's bytes (and the hash
/// chain over them) would depend on which of the two wrote it.
@Suite struct JSONTextTests {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func expected(_ value: some Encodable) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    /// Every ASCII character, some of what lies beyond, and the characters JSON escapes by name.
    static let awkward: String = {
        var text = ""
        for byte in 0..<128 { text.unicodeScalars.append(Unicode.Scalar(UInt8(byte))) }
        return text + "é€😀\u{2028}/\\\"end"
    }()

    @Test func stringsAreEscapedAsJSONEncoderEscapesThem() throws {
        for text in ["", "plain", "a/b", Self.awkward, "\u{7f}", "tab\there", "\"quoted\""] {
            var json = JSONText()
            json.string(text)
            #expect(json.text == (try Self.expected(text)), "\(text.debugDescription)")
        }
    }

    @Test func anOrderWithEveryFieldSetIsTheSameBytes() throws {
        var order = Order(
            orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c.1:x-2")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL  261218C00200000")!, side: .sellShort, qty: Quantity("12.5")!, type: .trailingStop,
            limitPrice: Price("190.05")!, stopPrice: Price("-0.0001")!, trailPrice: Price("1")!,
            trailPercent: Price("2.5")!, tif: .gtc, strategy: Self.awkward, tags: ["a", "b/c", Self.awkward],
            status: .partiallyFilled, createdAt: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_123_456_789))
        order.filledQty = Quantity("3")!
        order.avgFillPrice = Price("190.0123")!
        order.brokerOrderID = "B-1 \"x\""
        order.updatedAt = Timestamp(nanosecondsSinceEpoch: 1_795_000_001_000_000_000)
        order.rejectReasons = ["max_qty: 12.5 > 10", ""]
        order.replacesOrderID = OrderID("o-0")!
        order.replacedByOrderID = OrderID("o-2")!
        order.parentOrderID = OrderID("o-p")!
        order.orderClass = .mleg
        order.legs = [
            OrderLeg(symbol: Symbol("AAPL  261218C00200000")!, side: .buyToOpen, ratio: 1),
            OrderLeg(symbol: Symbol("AAPL  261218C00210000")!, side: .sellToOpen, ratio: 2),
        ]
        #expect(String(decoding: order.jsonBytes, as: UTF8.self) == (try Self.expected(order)))
        // And decodes back to the same order.
        #expect(try JSONDecoder().decode(Order.self, from: Data(order.jsonBytes)) == order)
    }

    @Test func anOrderWithOnlyItsRequiredFieldsAndEmptyListsIsTheSameBytes() throws {
        var order = Order(
            orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
            symbol: Symbol("BRK.B")!, side: .buy, qty: Quantity(1), type: .market, tif: .day,
            createdAt: Timestamp(nanosecondsSinceEpoch: 0))
        #expect(String(decoding: order.jsonBytes, as: UTF8.self) == (try Self.expected(order)))
        order.tags = []
        order.rejectReasons = []
        #expect(String(decoding: order.jsonBytes, as: UTF8.self) == (try Self.expected(order)))
    }

    /// Timestamps are written into the text without a `String` between: the same bytes now, at the epoch,
    /// before it, and at the ends of what nanoseconds in an `Int64` reach.
    @Test func aTextGrowsPastItsCapacityAndACopyIsItsOwn() throws {
        let long = String(repeating: Self.awkward, count: 40)
        var json = JSONText(capacity: 1)
        json.object { json in
            json.member("a", long)
            json.key("b")
            json.array(0..<300) { $0.int(Int64($1) - 150) }
        }
        var copy = json
        copy.raw(Array(",".utf8))
        json.raw(AnySequence(Array("!".utf8)))
        let expected =
            #"{"a":"# + (try Self.expected(long)) + #","b":["#
            + (0..<300).map { String($0 - 150) }.joined(separator: ",") + "]}"
        #expect(json.text == expected + "!")
        #expect(copy.text == expected + ",")
        #expect(json.count == json.bytes.count)
    }

    /// The engine writes every payload in one kept writer: each text is the one a fresh writer gives,
    /// whatever was written before it, and a copy taken earlier keeps its own bytes.
    @Test func aWriterKeptForManyValuesWritesEachAsAFreshOneDoes() throws {
        var long = Order(
            orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: .buy, qty: Quantity(5), type: .limit, limitPrice: Price("190.25")!,
            tif: .gtc, strategy: Self.awkward, tags: ["a", Self.awkward], createdAt: Timestamp(nanosecondsSinceEpoch: 1)
        )
        long.rejectReasons = [Self.awkward]
        let short = Order(
            orderID: OrderID("o-2")!, clientOrderID: ClientOrderID("c-2")!, account: AccountID("paper")!,
            symbol: Symbol("BRK.B")!, side: .sell, qty: Quantity(1), type: .market, tif: .day,
            createdAt: Timestamp(nanosecondsSinceEpoch: 2))
        var kept = JSONText(capacity: 16)
        let first = long.jsonString(reusing: &kept)
        let held = kept
        let second = short.jsonString(reusing: &kept)
        let third = long.jsonString(reusing: &kept)
        #expect(first == (try Self.expected(long)))
        #expect(second == (try Self.expected(short)))
        #expect(third == first)
        #expect(held.text == first)
        #expect(kept.count == first.utf8.count)
    }

    @Test func aLongTextIsHandedOverInPiecesThatJoinUp() {
        var json = JSONText(capacity: 8)
        var pieces: [UInt8] = []
        json.array(0..<1_000) { json, item in
            json.string("item \(item)")
            if json.count >= 64 { pieces += json.takeAllButLast() }
        }
        pieces += json.bytes
        let expected = "[" + (0..<1_000).map { "\"item \($0)\"" }.joined(separator: ",") + "]"
        #expect(String(decoding: pieces, as: UTF8.self) == expected)
    }

    @Test(arguments: [0, 7, -1, 10, -10, 1_234_567_890, Int64.max, Int64.min, Int64.min + 1])
    func integersAreTheirDecimalText(value: Int64) {
        var json = JSONText()
        json.int(value)
        #expect(String(decoding: json.bytes, as: UTF8.self) == String(value))
    }

    @Test(arguments: [1_795_000_000_000_000_001, 0, -1, Int64.max, Int64.min])
    func aFillIsTheSameBytes(nanoseconds: Int64) throws {
        let fill = Fill(
            fillID: FillID("f-1")!, orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!,
            account: AccountID("paper")!, symbol: Symbol("AAPL")!, side: .sell, qty: Quantity("0.5")!,
            price: Price("190.05")!, commission: Money("1.25")!,
            ts: Timestamp(nanosecondsSinceEpoch: nanoseconds))
        #expect(String(decoding: fill.jsonBytes, as: UTF8.self) == (try Self.expected(fill)))
    }
}
