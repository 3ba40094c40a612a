import BrokerAPI
@testable import BrokerPaper
import Foundation
import GatewayCore
import Testing

/// The paper book with many working orders: a quote that fills them all, and the arrival lists that make
/// that cost each order a constant amount instead of a pass over every other one.
@Suite(.timeLimit(.minutes(1)))
struct PaperBookScaleTests {
    struct FixedClock: WallClock {
        func now() -> Timestamp { Timestamp(nanosecondsSinceEpoch: 1_795_600_000_000_000_000) }
    }

    func order(_ n: Int, _ symbol: String) -> Order {
        Order(
            orderID: OrderID("o-\(n)")!, clientOrderID: ClientOrderID("c-\(n)")!, account: AccountID("paper")!,
            symbol: Symbol(symbol)!, side: n % 2 == 0 ? .buy : .sell, qty: Quantity(1), type: .market, tif: .day,
            createdAt: FixedClock().now())
    }

    /// 40 000 market orders wait for a first quote; the quote fills every one on its symbol, oldest first,
    /// and none on the other. Closing each order with a pass over the rest (as the book did) took minutes
    /// here (845 s for 60 000), past the suite's limit.
    @Test func aQuoteFillsFortyThousandWaitingOrdersInArrivalOrder() async throws {
        let broker = PaperBroker(clock: FixedClock())
        try await broker.connect()
        let count = 40_000
        for n in 0..<count { try await broker.submit(order(n, n % 10 == 9 ? "MSFT" : "AAPL")) }
        await broker.receive(
            Quote(symbol: Symbol("AAPL")!, bid: Price("100")!, ask: Price("100.01")!, ts: FixedClock().now()))
        let expected = (0..<count).filter { $0 % 10 != 9 }.map { "o-\($0)" }
        var filled: [String] = []
        var iterator = broker.events.makeAsyncIterator()
        while filled.count < expected.count, let event = await iterator.next() {
            if case .fill(let fill) = event { filled.append(fill.orderID.description) }
        }
        #expect(filled == expected)
        #expect(try await broker.orderReport(for: OrderID("o-9")!)?.status == .acknowledged)
        #expect(try await broker.orderReport(for: OrderID("o-39998")!)?.status == .filled)
        // Of the 36 000 filled, the broker keeps the latest finished (`PaperBook.finishedKept`), not all:
        // the call that filled them let go of a thousand, and each call after lets go of a thousand more.
        #expect(try await broker.orderReport(for: OrderID("o-8")!) == nil)
        #expect(try await broker.orderReport(for: OrderID("o-20008")!)?.status == .filled)
        for _ in 0..<34 { await broker.advance() }
        #expect(try await broker.orderReport(for: OrderID("o-20008")!) == nil)
        #expect(try await broker.orderReport(for: OrderID("o-39998")!)?.status == .filled)
    }

    @Test func arrivalListKeepsOrderAndStaysWithinTwiceWhatIsOpen() {
        var list = ArrivalList()
        var open = Set<Int>()
        let ids = (0..<1_000).map { OrderID("o-\($0)")! }
        for (n, id) in ids.enumerated() {
            list.append(id)
            open.insert(n)
        }
        // Close three in four, in an order unlike their arrival, checking the bound after each.
        let closing = (0..<1_000).filter { $0 % 4 != 0 }.sorted { ($0 * 7919) % 1_000 < ($1 * 7919) % 1_000 }
        for n in closing {
            open.remove(n)
            list.closedOne { id in open.contains(Int(id.description.dropFirst(2))!) }
            let bound = 2 * open.count + 1
            #expect(list.ids.count <= bound)
        }
        let stillOpen: [OrderID] = list.ids.filter { open.contains(Int($0.description.dropFirst(2))!) }
        let expected: [OrderID] = stride(from: 0, to: 1_000, by: 4).map { ids[$0] }
        #expect(stillOpen == expected)
    }
}
