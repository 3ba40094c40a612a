import BrokerAPI
import Foundation
import GatewayCore
import GatewayTesting
import Synchronization
import Testing

@testable import BrokerPaper

/// The paper broker keeps its open orders and only the latest finished ones, and rewrites its ledger as
/// what it keeps once enough lines have been appended: a new broker reading the rewritten ledger must be the
/// broker that wrote it, and fill what it holds the same way.
@Suite(.timeLimit(.minutes(1))) final class PaperLedgerCompactionTests {
    /// Each test's own folder, removed after it, and the ledger's path in it.
    let folder = TestFolders.make("paper-compaction")
    var path: String { folder + "/ledger.jsonl" }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    struct Clock: WallClock {
        func now() -> Timestamp { Timestamp(nanosecondsSinceEpoch: 1_795_600_000_000_000_000) }
    }

    func order(
        _ id: String, _ side: OrderSide, _ qty: Int, type: OrderType = .market, limit: String? = nil,
        stop: String? = nil
    ) -> Order {
        Order(
            orderID: OrderID(id)!, clientOrderID: ClientOrderID("c-\(id)")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: side, qty: Quantity(qty), type: type, limitPrice: limit.flatMap(Price.init),
            stopPrice: stop.flatMap(Price.init), tif: .gtc, createdAt: Clock().now())
    }

    func quote(bid: String, ask: String) -> Quote {
        Quote(symbol: Symbol("AAPL")!, bid: Price(bid), ask: Price(ask), ts: Clock().now())
    }

    /// A broker on the ledger at `path` keeping three finished orders and compacting every six lines, or
    /// (`small: false`) as gatewayd makes it.
    func broker(_ path: String, small: Bool = true) -> PaperBroker {
        let broker = PaperBroker(
            clock: Clock(), ledgerPath: path,
            costs: CostModel(commission: .perShare(rate: Price("0.5")!, minimum: .zero, maximumPercent: nil)),
            cash: Money("1000000"))
        if small { broker.setRetention(finishedOrders: 3, compactEvery: 6) }
        return broker
    }

    func lines(_ path: String) throws -> [Substring] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    }

    /// Whether two books hold the same: the same compacted entries, compared with sorted keys (the book
    /// line's key order is JSONEncoder's).
    func same(_ one: PaperBook, _ other: PaperBook) throws -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try one.compacted(startingCash: Money("1000000")).map(encoder.encode)
            == other.compacted(startingCash: Money("1000000")).map(encoder.encode)
    }

    /// A broker that never rewrites its ledger, as an older gatewayd's, after thirty market buys filled.
    func neverRewriting() async throws -> PaperBroker {
        let broker = PaperBroker(clock: Clock(), ledgerPath: path)
        broker.setRetention(finishedOrders: 1_000, compactEvery: .max)
        try await broker.connect()
        await broker.receive(quote(bid: "100", ask: "100.5"))
        for n in 0..<30 { try await broker.submit(order("m\(n)", .buy, 1)) }
        return broker
    }

    @Test func aCompactedLedgerIsTheBookThatWroteIt() async throws {
        let first = broker(path)
        try await first.connect()
        await first.receive(quote(bid: "100", ask: "100.5"))
        // Open: two resting buys, a bracket whose stop and target wait for its entry, and a partly filled
        // sell; a canceled order; then forty market orders, filled at once.
        try await first.submit(order("r1", .buy, 10, type: .limit, limit: "90"))
        try await first.submit(order("r2", .buy, 4, type: .limit, limit: "91"))
        try await first.submitBracket(
            entry: order("e1", .buy, 2, type: .limit, limit: "80"),
            stop: order("s1", .sell, 2, type: .stop, stop: "70"),
            target: order("t1", .sell, 2, type: .limit, limit: "120"))
        try await first.submit(order("x1", .buy, 3, type: .limit, limit: "50"))
        try await first.cancel(order("x1", .buy, 3, type: .limit, limit: "50"))
        for n in 0..<40 { try await first.submit(order("m\(n)", n % 3 == 0 ? .sell : .buy, 1 + n % 4)) }

        // Rewritten at least once (on a thread of its own): it starts with the book, and holds one line per
        // order kept (the seven open, the three latest finished) and the lines appended since, not the whole
        // history (over 85).
        first.waitForLedgerRewrite()
        let written = try lines(path)
        #expect(written.first?.hasPrefix(#"{"book":"#) == true)
        #expect(written.count < 10 + 1 + 8 * 10)
        #expect(written.contains { $0.contains(#""kept""#) })
        #expect(!FileManager.default.fileExists(atPath: path + ".compacting"))

        // The oldest finished orders are forgotten, by the broker that wrote the ledger and the one that reads
        // it; the latest finished and every open order are kept.
        let second = broker(path)
        try await second.connect()
        for broker in [first, second] {
            #expect(try await broker.orderReport(for: OrderID("m0")!) == nil)
            #expect(try await broker.orderReport(for: OrderID("x1")!) == nil)
            #expect(try await broker.orderReport(for: OrderID("m39")!)?.status == .filled)
        }
        #expect(try await first.orderReport(for: OrderID("m39")!) == second.orderReport(for: OrderID("m39")!))
        #expect(try await first.openOrders() == second.openOrders())
        #expect(try await first.openOrders().map(\.orderID.rawValue) == ["e1", "r1", "r2", "s1", "t1"])
        #expect(try await first.positions() == second.positions())
        #expect(try await first.accountReport().cash == second.accountReport().cash)
        #expect(try await first.accountReport().buyingPower == second.accountReport().buyingPower)

        // Both fill the same orders the same way: in the order they arrived, as far as the size at the touch
        // goes, then the rest; the entry's fill releases its stop and target.
        for broker in [first, second] {
            await broker.receive(
                Quote(
                    symbol: Symbol("AAPL")!, bid: Price("78"), ask: Price("79"), ts: Clock().now(),
                    askSize: Quantity(12)))
            #expect(try await broker.orderReport(for: OrderID("r1")!)?.fills.map(\.qty) == [Quantity(10)])
            #expect(try await broker.orderReport(for: OrderID("r2")!)?.fills.map(\.qty) == [Quantity(2)])
            #expect(try await broker.orderReport(for: OrderID("e1")!)?.status == .acknowledged)
            await broker.receive(quote(bid: "78", ask: "79"))
            #expect(try await broker.orderReport(for: OrderID("e1")!)?.status == .filled)
            #expect(
                try await broker.orderReport(for: OrderID("r2")!)?.fills.map(\.price) == [Price("91")!, Price("91")!])
        }
        #expect(try await first.openOrders() == second.openOrders())
        #expect(try await first.positions() == second.positions())
        #expect(try await first.accountReport().cash == second.accountReport().cash)
    }

    @Test func aStartCompactsALedgerThatHasGrownPastItsBook() async throws {
        let old = try await neverRewriting()
        try await old.submit(order("r1", .buy, 1, type: .limit, limit: "90"))
        #expect(try lines(path).count == 61)

        let reader = broker(path)
        try await reader.connect()
        reader.waitForLedgerRewrite()
        let compacted = try lines(path)
        #expect(compacted.count == 1 + 3 + 1)  // the book, the three latest finished, the open order
        #expect(try await reader.positions().map(\.qty) == [Quantity(30)])
        #expect(try await reader.openOrders().map(\.orderID.rawValue) == ["r1"])
        #expect(try await reader.orderReport(for: OrderID("m29")!)?.status == .filled)
        #expect(try await reader.orderReport(for: OrderID("m26")!) == nil)
    }

    /// Killed while writing the rewritten ledger: the old ledger is whole and is what the next start reads;
    /// the half-written file beside it is overwritten by the next rewrite, never read.
    @Test func aRewriteCutShortLeavesTheOldLedgerInPlace() async throws {
        _ = try await neverRewriting()
        let before = try lines(path)
        let torn = Array(#"{"book":{"positions":[],"cashChange":"5"}}"#.utf8) + Array(#"{"kept":{"_0":{"bro"#.utf8)
        #expect(FileManager.default.createFile(atPath: path + ".compacting", contents: Data(torn)))

        let second = broker(path)
        try await second.connect()
        #expect(try await second.positions().map(\.qty) == [Quantity(30)])
        #expect(try await second.orderReport(for: OrderID("m29")!)?.status == .filled)
        second.waitForLedgerRewrite()
        #expect(try lines(path).count < before.count)
        #expect(!FileManager.default.fileExists(atPath: path + ".compacting"))
        let third = broker(path)
        try await third.connect()
        #expect(try await third.positions() == second.positions())
        #expect(try await third.accountReport().cash == second.accountReport().cash)
    }

    /// gatewayd starts reading the ledger as it makes the broker, while the journal replays; `connect()`
    /// takes that read, or reads again when the broker was set up otherwise since.
    @Test func aLedgerReadAheadIsTheBookConnectTakes() async throws {
        let writer = broker(path)
        try await writer.connect()
        await writer.receive(quote(bid: "100", ask: "100.5"))
        for n in 0..<12 { try await writer.submit(order("m\(n)", n % 3 == 0 ? .sell : .buy, 1 + n % 4)) }
        try await writer.submit(order("r1", .buy, 10, type: .limit, limit: "90"))

        let ahead = broker(path, small: false)
        ahead.readLedgerAhead()
        try await ahead.connect()
        let changed = broker(path)
        changed.readLedgerAhead()
        changed.setRetention(finishedOrders: 2, compactEvery: 6)
        try await changed.connect()
        for broker in [ahead, changed] {
            #expect(try await broker.positions() == writer.positions())
            #expect(try await broker.openOrders() == writer.openOrders())
            #expect(try await broker.accountReport().cash == writer.accountReport().cash)
            #expect(try await broker.orderReport(for: OrderID("m11")!) == writer.orderReport(for: OrderID("m11")!))
        }
        #expect(try await changed.orderReport(for: OrderID("m9")!) == nil)
    }

    /// A rewrite on its own thread works from a copy of the book; what is appended while it runs goes to
    /// the old ledger and, before the rename, to the new one: the ledger read back is the book with every
    /// change, and appends after the rename go to the new file.
    @Test func linesAppendedDuringABackgroundRewriteReachTheNewLedger() throws {
        let ledger = PaperLedger(path: path)
        var book = PaperBook()
        book.cash = Money("1000000")
        func append(_ entries: [PaperLedger.Entry]) throws {
            for entry in entries {
                try ledger.write(ledger.line(entry))
                book.apply(entry)
            }
        }
        func fill(_ id: String, _ qty: Int) -> BrokerFill {
            BrokerFill(
                orderID: OrderID(id)!, fillID: FillID("\(id)-f1")!, qty: Quantity(qty), price: Price("100")!,
                commission: Money("1")!, ts: Clock().now())
        }
        let r1 = order("r1", .buy, 5, type: .limit, limit: "90")
        try append([.received(order("m1", .buy, 2), brokerOrderID: "b-m1"), .filled(fill("m1", 2))])
        try append([.received(r1, brokerOrderID: "b-r1")])
        let held = DispatchSemaphore(value: 0)
        let reached = DispatchSemaphore(value: 0)
        ledger.beforeRename.withLock {
            $0 = {
                reached.signal()
                held.wait()
            }
        }
        #expect(ledger.compactInBackground(book, startingCash: Money("1000000")))
        reached.wait()
        #expect(!ledger.compactInBackground(book, startingCash: Money("1000000")))
        try append([
            .received(order("m2", .sell, 1), brokerOrderID: "b-m2"), .filled(fill("m2", 1)), .canceled(r1.orderID),
        ])
        held.signal()
        ledger.waitForRewrite()
        try append([.received(order("r2", .buy, 1, type: .limit, limit: "80"), brokerOrderID: "b-r2")])

        let written = try lines(path)
        #expect(written.first?.hasPrefix(#"{"book":"#) == true)
        #expect(written.count == 1 + 2 + 3 + 1)  // the book, its two orders, three appended during, one after
        #expect(!FileManager.default.fileExists(atPath: path + ".compacting"))
        let read = try PaperLedger(path: path).load(cash: Money("1000000"))
        #expect(try same(read, book))
        #expect(read.orders[OrderID("r1")!]?.status == .canceled)
        #expect(read.orders[OrderID("r2")!]?.status == .acknowledged)
    }

    /// A quote's pass through more orders than one step matches rewrites no ledger until it ends (a copy of
    /// the book held by a rewrite meanwhile kept the old version of every order the pass changed), though
    /// one falls due during it: 40 resting orders filled 4 a step pass the rewrite's threshold (eight
    /// lines an order the book holds) at the ninth step. The last step rewrites it.
    @Test func aQuotesPassPutsTheRewriteOffToItsEnd() async throws {
        let broker = broker(path)
        broker.setSweepStep(4)
        try await broker.connect()
        for n in 0..<40 { try await broker.submit(order("r\(n)", .buy, 1, type: .limit, limit: "90")) }
        func rewritten() throws -> Bool {
            broker.waitForLedgerRewrite()
            return try lines(path).first?.hasPrefix(#"{"book":"#) == true
        }
        #expect(try !rewritten())
        var steps = 0
        broker.callNow(.quote(quote(bid: "80", ask: "85"))) { _, _ in }
        steps += 1
        while broker.hasUnfinishedWork {
            #expect(try !rewritten())
            broker.continueNow { _ in }
            steps += 1
        }
        #expect(steps == 10)
        #expect(try rewritten())
        #expect(try lines(path).count == 1 + 3)  // the book, and the three finished orders it keeps
    }

    /// A rewrite writes the new ledger a piece at a time (`PaperLedger.rewritePiece`): a book whose lines
    /// fill several pieces is read back whole, every order once, in arrival order.
    @Test func aRewriteLargerThanOnePieceIsReadBackWhole() throws {
        let ledger = PaperLedger(path: path)
        var book = PaperBook()
        book.cash = Money("1000000")
        for n in 0..<4_000 {
            let entry = PaperLedger.Entry.received(
                order("r\(n)", .buy, 1 + n % 7, type: .limit, limit: "\(50 + n % 40)"), brokerOrderID: "b-r\(n)")
            try ledger.write(ledger.line(entry))
            book.apply(entry)
        }
        let size = { (try? FileManager.default.attributesOfItem(atPath: self.path)[.size] as? Int) ?? 0 }
        #expect(ledger.compactInBackground(book, startingCash: Money("1000000")))
        ledger.waitForRewrite()
        #expect(size() > 3 * PaperLedger.rewritePiece)
        let written = try lines(path)
        #expect(written.count == 1 + 4_000)
        #expect(written.dropFirst().allSatisfy { $0.hasPrefix(#"{"kept":"#) })
        let read = try PaperLedger(path: path).load(cash: Money("1000000"))
        #expect(try same(read, book))
        #expect(read.arrival.ids.map(\.rawValue) == (0..<4_000).map { "r\($0)" })
    }

    /// A ledger path that is a symbolic link (to a ledger kept on another disk, say) is still one after the
    /// rewrite, to the rewritten ledger.
    @Test func aLedgerBehindASymbolicLinkIsRewrittenWhereItIs() async throws {
        try FileManager.default.createDirectory(atPath: folder + "/real", withIntermediateDirectories: true)
        let real = folder + "/real/ledger.jsonl"
        #expect(FileManager.default.createFile(atPath: real, contents: Data()))
        let link = path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        let writer = broker(link)
        try await writer.connect()
        await writer.receive(quote(bid: "100", ask: "100.5"))
        for n in 0..<30 { try await writer.submit(order("m\(n)", .buy, 1)) }
        writer.waitForLedgerRewrite()
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == real)
        #expect(try lines(real).first?.hasPrefix(#"{"book":"#) == true)
        let reader = broker(link)
        try await reader.connect()
        #expect(try await reader.positions() == writer.positions())
    }
}
