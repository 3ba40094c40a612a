import BrokerAPI
import Foundation
import GatewayCore
import Testing

@testable import BrokerPaper

/// Each resting paper order's fields are one allocation: with 100 000 resting orders a size class more is
/// 1.5 MiB or more, of a memory target that has only a few MiB to spare.
@Suite struct PaperBookLayoutTests {
    static let order = Order(
        orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
        symbol: Symbol("AAPL")!, side: .sell, qty: Quantity("10")!, type: .trailingStop, trailPrice: Price("2")!,
        tif: .day, createdAt: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000))

    /// The fields' box (the object's 16-byte header and the fields) fits the allocator's 80-byte class,
    /// jemalloc's and glibc's alike: what most orders do not have belongs among the links.
    @Test func theFieldsBoxFitsIn80Bytes() {
        #expect(16 + MemoryLayout<PaperBook.Resting.Fields>.size <= 80)
    }

    /// The links (a trailing stop's best price, a bracket child's parent and sibling) are kept apart from
    /// the other fields: set and cleared on one copy of an order they leave the other copies alone.
    @Test func theLinksBehaveAsValues() {
        var resting = PaperBook.Resting(order: Self.order, brokerOrderID: "paper-o-1", status: .acknowledged)
        #expect(resting.watermark == nil && resting.parent == nil && resting.sibling == nil)
        resting.watermark = Price("101")!
        resting.parent = OrderID("o-p")!
        let before = resting
        resting.sibling = OrderID("o-s")!
        resting.watermark = Price("102")!
        resting.held = true
        #expect(before.watermark == Price("101")! && before.parent == OrderID("o-p")! && before.sibling == nil)
        #expect(!before.held)
        #expect(resting.watermark == Price("102")! && resting.parent == OrderID("o-p")!)
        #expect(resting.sibling == OrderID("o-s")! && resting.held)
        resting.watermark = nil
        resting.parent = nil
        resting.sibling = nil
        #expect(resting.watermark == nil && resting.parent == nil && resting.sibling == nil)
        #expect(before.watermark == Price("101")! && before.parent == OrderID("o-p")!)
    }
}
