import BrokerAPI
import Foundation
import GatewayCore
import Testing

@testable import BrokerPaper

/// The ledger's `received` and `filled` lines are written by hand; each must read back as the entry
/// that JSONEncoder's line for it reads back as.
@Suite struct PaperLedgerLineTests {
    @Test func handWrittenLinesReadBackAsTheEntriesTheyRecord() throws {
        var order = Order(
            orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: .sell, qty: Quantity(10), type: .limit, limitPrice: Price("190.5")!,
            tif: .gtc, strategy: "s/\"1\"", tags: ["x"], createdAt: Timestamp(nanosecondsSinceEpoch: 5))
        order.parentOrderID = OrderID("o-0")!
        let fill = BrokerFill(
            orderID: OrderID("o-1")!, fillID: FillID("f-1")!, qty: Quantity("2.5")!, price: Price("190.55")!,
            commission: Money("0.01")!, ts: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000))
        let sorted = JSONEncoder()
        sorted.outputFormatting = [.sortedKeys]
        for entry in [PaperLedger.Entry.received(order, brokerOrderID: "P-1"), .filled(fill)] {
            let line = try #require(PaperLedger.line(entry))
            let read = try JSONDecoder().decode(PaperLedger.Entry.self, from: Data(line))
            #expect(try sorted.encode(read) == sorted.encode(entry))
        }
        #expect(PaperLedger.line(.canceled(OrderID("o-1")!)) == nil)
    }
}
