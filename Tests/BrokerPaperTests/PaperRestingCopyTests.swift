import BrokerAPI
@testable import BrokerPaper
import GatewayCore
import Testing

/// A resting order's fields live in one shared box (copy-on-write): copies must still behave as values.
@Suite struct PaperRestingCopyTests {
    @Test func changingACopyLeavesTheBookAlone() {
        let order = Order(
            orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: .buy, qty: Quantity("10")!, type: .limit, limitPrice: Price("190")!,
            tif: .day, createdAt: Timestamp(nanosecondsSinceEpoch: 1))
        var book = PaperBook()
        book.orders[order.orderID] = PaperBook.Resting(order: order, brokerOrderID: "B-1", status: .acknowledged)
        var copy = book.orders[order.orderID]!
        copy.status = .canceled
        copy.triggered = true
        copy.parent = OrderID("o-0")!
        #expect(book.orders[order.orderID]?.status == .acknowledged)
        #expect(book.orders[order.orderID]?.triggered == false && book.orders[order.orderID]?.parent == nil)
        book.orders[order.orderID]?.watermark = Price("191")!
        #expect(copy.watermark == nil && copy.status == .canceled && copy.triggered)
        #expect(book.orders[order.orderID]?.watermark == Price("191")!)
        #expect(book.orders[order.orderID]?.leaves == Quantity("10")!)
    }
}
