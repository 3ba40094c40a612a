import BrokerAPI
import Foundation
import GatewayCore
import GatewayTesting
import Testing

@testable import BrokerPaper

/// The ledger's `received`, `filled` and `kept` lines are written by hand; each must read back as the
/// entry that JSONEncoder's line for it reads back as.
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
        let kept = PaperLedger.Kept(
            order: Order(terms: order.sharedTerms, status: .partiallyFilled), brokerOrderID: "P-1",
            status: .partiallyFilled, fills: [fill, fill], triggered: true, watermark: Price("191.25"),
            reservePrice: nil, held: false, parent: OrderID("o-0"), sibling: nil)
        var bare = kept
        bare.fills = []
        (bare.watermark, bare.reservePrice, bare.parent, bare.sibling) = (nil, Price("3"), nil, OrderID("o-2"))
        for entry in [
            PaperLedger.Entry.received(order, brokerOrderID: "P-1"), .filled(fill), .kept(kept), .kept(bare),
        ] {
            let line = try #require(PaperLedger.line(entry))
            let read = try JSONDecoder().decode(PaperLedger.Entry.self, from: Data(line))
            #expect(try sorted.encode(read) == sorted.encode(entry))
        }
        #expect(PaperLedger.line(.canceled(OrderID("o-1")!)) == nil)
    }

    /// A start after a kill in the middle of a write finds a torn last line: the next append must not be
    /// glued to it, or it is lost with it at the following start.
    @Test func anAppendAfterATornLineIsNotLostWithIt() throws {
        let folder = TestFolders.make("paper-ledger")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func received(_ id: String) throws -> [UInt8] {
            let order = Order(
                orderID: OrderID(id)!, clientOrderID: ClientOrderID("c-\(id)")!, account: AccountID("paper")!,
                symbol: Symbol("AAPL")!, side: .buy, qty: Quantity(1), type: .limit, limitPrice: Price("10")!,
                tif: .gtc, createdAt: Timestamp(nanosecondsSinceEpoch: 5))
            return try #require(PaperLedger.line(.received(order, brokerOrderID: "P-\(id)"))) + [UInt8(ascii: "\n")]
        }
        // Whole lines, then most of one more: a long first line, so that the newline is found across the
        // search's 64 KiB steps as well.
        for (name, size) in [("short", 3), ("long", 70_000)] {
            let path = folder + "/\(name).jsonl"
            var torn = try received("o-1") + received("o-2")
            let third = try received("o-3")
            torn += third.prefix(third.count - 10)
            torn += [UInt8](repeating: UInt8(ascii: " "), count: size)
            #expect(FileManager.default.createFile(atPath: path, contents: Data(torn)))
            let ledger = PaperLedger(path: path)
            #expect(try ledger.load().orders.keys.map(\.rawValue).sorted() == ["o-1", "o-2"])
            try ledger.write(received("o-4"))
            #expect(try PaperLedger(path: path).load().orders.keys.map(\.rawValue).sorted() == ["o-1", "o-2", "o-4"])
        }
        // A file of whole lines is left as it is, and one with no newline at all is emptied.
        let whole = folder + "/whole.jsonl"
        #expect(FileManager.default.createFile(atPath: whole, contents: Data(try received("o-1"))))
        try PaperLedger(path: whole).write(received("o-2"))
        #expect(try PaperLedger(path: whole).load().orders.count == 2)
        let none = folder + "/none.jsonl"
        #expect(FileManager.default.createFile(atPath: none, contents: Data(try received("o-1").dropLast())))
        try PaperLedger(path: none).write(received("o-2"))
        #expect(try PaperLedger(path: none).load().orders.keys.map(\.rawValue) == ["o-2"])
    }
}
