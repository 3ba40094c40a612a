import Foundation
import GatewayCore
import Testing

@testable import Execution

/// The order path's journal payloads are written by JSONText; they must be the bytes JSONEncoder wrote
/// before, so journals written either way read and hash the same.
@Suite struct PayloadTextTests {
    static func expected(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let order = Order(
        orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
        symbol: Symbol("AAPL")!, side: .buy, qty: Quantity(100), type: .limit, limitPrice: Price("190.5")!, tif: .day,
        strategy: "turtle/20", tags: ["breakout"],
        createdAt: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000))

    @Test func orderChangesWithAndWithoutAReason() throws {
        for change in [
            OrderChanged(order: Self.order, change: "accepted", reason: nil),
            OrderChanged(order: Self.order, change: "rejected", reason: "max_qty: \"100\" > 50\n"),
        ] {
            #expect(String(decoding: change.jsonBytes, as: UTF8.self) == (try Self.expected(change)))
        }
    }

    @Test func fillPayloads() throws {
        let fill = Fill(
            fillID: FillID("f-1")!, orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!,
            account: AccountID("paper")!, symbol: Symbol("AAPL")!, side: .buy, qty: Quantity(100),
            price: Price("190.05")!, ts: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000))
        let payload = FillPayload(fill: fill)
        #expect(String(decoding: payload.jsonBytes, as: UTF8.self) == (try Self.expected(payload)))
    }

    @Test func quotePayloads() throws {
        for quote in [
            Quote(symbol: Symbol("AAPL")!, bid: Price("190.01"), ts: Timestamp(nanosecondsSinceEpoch: 0)),
            Quote(
                symbol: Symbol("AAPL  261218C00200000")!, bid: Price("1.25"), ask: Price("1.3"), last: Price("1.27"),
                ts: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_123_456_789), bidSize: Quantity(10),
                askSize: Quantity("2.5"), volume: Quantity(1_000)),
        ] {
            let payload = QuotePayload(quote: quote)
            #expect(String(decoding: payload.jsonBytes, as: UTF8.self) == (try Self.expected(payload)))
        }
    }
}
