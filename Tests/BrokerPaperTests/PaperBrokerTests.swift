import BrokerAPI
import BrokerPaper
import Foundation
import GatewayCore
import GatewayTesting
import Testing

@Suite(.timeLimit(.minutes(1)))
struct PaperBrokerTests {
    struct FixedClock: WallClock {
        func now() -> Timestamp { Timestamp(nanosecondsSinceEpoch: 1_795_600_000_000_000_000) }
    }

    func order(
        _ id: String, _ side: OrderSide, _ qty: Int, type: OrderType = .market, limit: String? = nil,
        stop: String? = nil, tif: TimeInForce = .day
    ) -> Order {
        Order(
            orderID: OrderID(id)!, clientOrderID: ClientOrderID("c-\(id)")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!,
            side: side, qty: Quantity(qty), type: type, limitPrice: limit.flatMap(Price.init),
            stopPrice: stop.flatMap(Price.init),
            tif: tif, createdAt: FixedClock().now())
    }

    func quote(bid: String? = nil, ask: String? = nil, last: String? = nil) -> Quote {
        Quote(
            symbol: Symbol("AAPL")!, bid: bid.flatMap(Price.init), ask: ask.flatMap(Price.init),
            last: last.flatMap(Price.init), ts: FixedClock().now())
    }

    /// The next `count` events.
    func take(_ broker: PaperBroker, _ count: Int) async -> [BrokerEvent] {
        var iterator = broker.events.makeAsyncIterator()
        var events: [BrokerEvent] = []
        while events.count < count, let event = await iterator.next() { events.append(event) }
        return events
    }

    func fillPrice(_ event: BrokerEvent) -> String? {
        if case .fill(let fill) = event { return fill.price.description }
        return nil
    }

    @Test func marketBuyFillsAtTheAskAndSellAtTheBid() async throws {
        let broker = PaperBroker(clock: FixedClock())
        try await broker.connect()
        await broker.receive(quote(bid: "190", ask: "190.05"))
        try await broker.submit(order("1", .buy, 10))
        try await broker.submit(order("2", .sell, 5))
        let events = await take(broker, 4)
        #expect(events.compactMap(fillPrice) == ["190.05", "190"])
    }

    @Test func marketOrderWaitsForTheFirstQuote() async throws {
        let broker = PaperBroker(clock: FixedClock())
        try await broker.connect()
        try await broker.submit(order("1", .buy, 10))
        await broker.receive(quote(last: "50"))
        let events = await take(broker, 2)
        #expect(events.compactMap(fillPrice) == ["50"])
    }

    @Test func limitOrderRestsUntilAQuoteCrossesIt() async throws {
        let broker = PaperBroker(clock: FixedClock())
        try await broker.connect()
        await broker.receive(quote(bid: "100", ask: "100.10"))
        try await broker.submit(order("1", .buy, 10, type: .limit, limit: "99.50"))
        await broker.receive(quote(bid: "99.60", ask: "99.70"))
        #expect(try await broker.orderReport(for: OrderID("1")!)?.status == .acknowledged)
        await broker.receive(quote(bid: "99.40", ask: "99.45"))
        let events = await take(broker, 2)
        // A resting limit fills at its limit when the market trades through it: the market came to it.
        #expect(events.compactMap(fillPrice) == ["99.5"])
        #expect(try await broker.positions().first?.qty == Quantity(10))
    }

    @Test func stopTriggersThenFillsAtTheTouch() async throws {
        let broker = PaperBroker(clock: FixedClock())
        try await broker.connect()
        await broker.receive(quote(bid: "100", ask: "100.10", last: "100"))
        try await broker.submit(order("1", .sell, 10, type: .stop, stop: "98"))
        await broker.receive(quote(bid: "97.90", ask: "98.00", last: "97.95"))
        let events = await take(broker, 2)
        #expect(events.compactMap(fillPrice) == ["97.9"])
    }

    @Test func iocThatCannotFillIsCanceledAtOnce() async throws {
        let broker = PaperBroker(clock: FixedClock())
        try await broker.connect()
        await broker.receive(quote(bid: "100", ask: "100.10"))
        try await broker.submit(order("1", .buy, 10, type: .limit, limit: "99", tif: .ioc))
        let events = await take(broker, 2)
        guard case .canceled(let id, _, _) = events[1] else {
            Issue.record("expected a cancel, got \(events)")
            return
        }
        #expect(id == OrderID("1")!)
    }

    @Test func cancelAndReplaceWorkOnRestingOrders() async throws {
        let broker = PaperBroker(clock: FixedClock())
        try await broker.connect()
        let resting = order("1", .buy, 10, type: .limit, limit: "90")
        try await broker.submit(resting)
        var replacement = order("2", .buy, 10, type: .limit, limit: "91")
        replacement.replacesOrderID = resting.orderID
        try await broker.replace(resting, with: replacement)
        try await broker.cancel(replacement)
        try await broker.cancel(replacement)
        let events = await take(broker, 4)
        guard case .replaced(let old, let new, _, _) = events[1], case .canceled = events[2],
            case .cancelRejected = events[3]
        else {
            Issue.record("unexpected events \(events)")
            return
        }
        #expect(old == resting.orderID && new == replacement.orderID)
    }

    @Test func aLedgerLetsANewBrokerRememberOrdersAndFills() async throws {
        let path = TestFolders.make("paper") + "/ledger.jsonl"
        let first = PaperBroker(clock: FixedClock(), ledgerPath: path)
        try await first.connect()
        try await first.submit(order("1", .buy, 10, type: .limit, limit: "90"))
        try await first.submit(order("2", .buy, 5))
        await first.receive(quote(bid: "95", ask: "95.5"))
        let second = PaperBroker(clock: FixedClock(), ledgerPath: path)
        try await second.connect()
        #expect(try await second.orderReport(for: OrderID("1")!)?.status == .acknowledged)
        let filled = try #require(try await second.orderReport(for: OrderID("2")!))
        #expect(filled.status == .filled)
        #expect(filled.fills.map(\.price.description) == ["95.5"])
        #expect(try await second.orderReport(for: OrderID("3")!) == nil)
        await second.receive(quote(bid: "89", ask: "89.5"))
        #expect(try await second.orderReport(for: OrderID("1")!)?.status == .filled)
    }

    @Test func aCallWhoseLedgerLinesCannotBeWrittenLeavesNothingBehind() async throws {
        let path = TestFolders.make("paper") + "/ledger.jsonl"
        let broker = PaperBroker(
            clock: FixedClock(), ledgerPath: path, faults: PaperFaults(ledgerWritesBeforeFailing: 2))
        try await broker.connect()
        await broker.receive(quote(bid: "95", ask: "95.5"))
        try await broker.submit(order("1", .buy, 10))  // the first write: received and filled, together
        try await broker.submit(order("2", .buy, 5, type: .limit, limit: "90"))  // the second
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written.split(separator: "\n").count == 3)
        // The third write fails: the order is not at the broker, nothing is reported, the ledger is as it was.
        await #expect(throws: BrokerError.self) { try await broker.submit(self.order("3", .buy, 7)) }
        do {
            try await broker.submit(order("4", .buy, 7))
            Issue.record("a submit whose ledger line failed succeeded")
        } catch {
            #expect(error.kind == .unknownOutcome)
            #expect(error.message.contains("nothing of this call was recorded"))
        }
        #expect(try await broker.orderReport(for: OrderID("3")!) == nil)
        #expect(try await broker.orderReport(for: OrderID("4")!) == nil)
        #expect(try await broker.positions().map(\.qty) == [Quantity(10)])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == written)
        // A quote that would fill the resting order cannot be recorded either: it stays working.
        await broker.receive(quote(bid: "89", ask: "89.5"))
        #expect(try await broker.orderReport(for: OrderID("2")!)?.status == .acknowledged)
        // Reported: the first order's acknowledgement and fill, the second's acknowledgement; nothing since.
        await broker.disconnect()
        let events = await take(broker, 100)
        #expect(events.count == 3)
        // What the ledger holds is what a new broker reads.
        let second = PaperBroker(clock: FixedClock(), ledgerPath: path)
        try await second.connect()
        #expect(try await second.orderReport(for: OrderID("1")!)?.status == .filled)
        #expect(try await second.orderReport(for: OrderID("2")!)?.status == .acknowledged)
        #expect(try await second.orderReport(for: OrderID("3")!) == nil)
    }

    @Test func refusesWhatItCannotSimulate() {
        let broker = PaperBroker(clock: FixedClock())
        #expect(broker.unsupportedReason(for: order("1", .buy, 1, tif: .opg)) != nil)
        #expect(broker.unsupportedReason(for: order("1", .buy, 1)) == nil)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct PaperBracketTests {
    let base = PaperBrokerTests()

    @Test func childrenWaitForTheEntryThenCancelEachOtherEvenWhenOneQuoteTouchesBoth() async throws {
        let broker = PaperBroker(clock: PaperBrokerTests.FixedClock())
        try await broker.connect()
        await broker.receive(base.quote(bid: "100", ask: "100.10"))
        let entry = base.order("e", .buy, 10, type: .limit, limit: "99")
        var stop = base.order("s", .sell, 10, type: .stop, stop: "95")
        stop.parentOrderID = entry.orderID
        var target = base.order("t", .sell, 10, type: .limit, limit: "105")
        target.parentOrderID = entry.orderID
        try await broker.submitBracket(entry: entry, stop: stop, target: target)
        // A quote through the target before the entry fills does nothing to the held children.
        await broker.receive(base.quote(bid: "106", ask: "106.10"))
        #expect(try await broker.orderReport(for: target.orderID)?.status == .acknowledged)
        await broker.receive(base.quote(bid: "98.90", ask: "99.00"))
        #expect(try await broker.orderReport(for: entry.orderID)?.status == .filled)
        // One quote that would fill both: the first to fill cancels the other.
        await broker.receive(base.quote(bid: "105", ask: "105.10", last: "94"))
        let stopStatus = try await broker.orderReport(for: stop.orderID)?.status
        let targetStatus = try await broker.orderReport(for: target.orderID)?.status
        #expect([stopStatus, targetStatus].filter { $0 == .filled }.count == 1)
        #expect([stopStatus, targetStatus].filter { $0 == .canceled }.count == 1)
        #expect(try await broker.positions().isEmpty)
    }

    @Test func cancellingTheEntryCancelsItsChildren() async throws {
        let broker = PaperBroker(clock: PaperBrokerTests.FixedClock())
        try await broker.connect()
        let entry = base.order("e", .buy, 10, type: .limit, limit: "90")
        var stop = base.order("s", .sell, 10, type: .stop, stop: "85")
        stop.parentOrderID = entry.orderID
        try await broker.submitBracket(entry: entry, stop: stop, target: nil)
        try await broker.cancel(entry)
        #expect(try await broker.orderReport(for: stop.orderID)?.status == .canceled)
    }
}

/// Fills bounded by what the quote offers at the touch: partial fills across quotes, one quote's size
/// shared by the orders it fills, and IOC and FOK as exchanges treat them.
@Suite(.timeLimit(.minutes(1)))
struct PaperQuoteSizeTests {
    let base = PaperBrokerTests()

    func offer(ask: String, size: String) -> Quote {
        Quote(
            symbol: Symbol("AAPL")!, bid: Price("9"), ask: Price(ask), ts: PaperBrokerTests.FixedClock().now(),
            bidSize: Quantity("1000"), askSize: Quantity(size))
    }

    func fills(_ events: [BrokerEvent]) -> [String] {
        events.compactMap { event in
            if case .fill(let fill) = event { return "\(fill.orderID) \(fill.qty)@\(fill.price)" }
            return nil
        }
    }

    @Test func anOrderLargerThanTheOfferFillsInPartsAcrossQuotes() async throws {
        let broker = PaperBroker(clock: PaperBrokerTests.FixedClock())
        try await broker.connect()
        try await broker.submit(base.order("big", .buy, 100))
        await broker.receive(offer(ask: "10", size: "30"))
        await broker.receive(offer(ask: "10.1", size: "50"))
        await broker.receive(offer(ask: "10.2", size: "40"))
        let events = await base.take(broker, 4)
        #expect(fills(events) == ["big 30@10", "big 50@10.1", "big 20@10.2"])
        let report = try #require(try await broker.orderReport(for: OrderID("big")!))
        #expect(report.status == .filled && report.filledQty == Quantity(100))
    }

    @Test func oneQuotesSizeIsSharedByTheOrdersItFills() async throws {
        let broker = PaperBroker(clock: PaperBrokerTests.FixedClock())
        try await broker.connect()
        try await broker.submit(base.order("first", .buy, 20, type: .limit, limit: "10"))
        try await broker.submit(base.order("second", .buy, 20, type: .limit, limit: "10"))
        await broker.receive(offer(ask: "10", size: "30"))
        let events = await base.take(broker, 4)
        #expect(fills(events) == ["first 20@10", "second 10@10"])
        #expect(try await broker.orderReport(for: OrderID("second")!)?.status == .partiallyFilled)
    }

    @Test func iocTakesWhatIsOfferedAndFokAllOrNothing() async throws {
        let broker = PaperBroker(clock: PaperBrokerTests.FixedClock())
        try await broker.connect()
        await broker.receive(offer(ask: "10", size: "30"))
        try await broker.submit(base.order("ioc", .buy, 100, tif: .ioc))
        try await broker.submit(base.order("fok", .buy, 100, tif: .fok))
        let events = await base.take(broker, 5)
        #expect(fills(events) == ["ioc 30@10"])
        let canceled = events.compactMap { event -> String? in
            if case .canceled(let id, let reason, _) = event { return "\(id): \(reason ?? "")" }
            return nil
        }
        #expect(
            canceled == [
                "ioc: ioc order: the 70 not offered at once canceled",
                "fok: fok order could not fill at once: 0 offered",
            ])
    }
}

/// Trailing stops: the best price follows the market, the stop trails it by a price or a percent, the
/// order fills at the touch once the market comes back that far, and the best price survives a restart.
@Suite(.timeLimit(.minutes(1)))
struct PaperTrailingStopTests {
    let base = PaperBrokerTests()

    func trailing(_ id: String, _ side: OrderSide, by price: String? = nil, percent: String? = nil) -> Order {
        Order(
            orderID: OrderID(id)!, clientOrderID: ClientOrderID("c-\(id)")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: side, qty: Quantity(10), type: .trailingStop,
            trailPrice: price.flatMap { Price($0) }, trailPercent: percent.flatMap { Price($0) }, tif: .gtc,
            createdAt: PaperBrokerTests.FixedClock().now())
    }

    func fills(_ broker: PaperBroker, after quotes: [String], count: Int) async -> [String] {
        for last in quotes { await broker.receive(base.quote(last: last)) }
        return await base.take(broker, count).compactMap(base.fillPrice)
    }

    @Test func aSellTrailsTheHighByAPrice() async throws {
        let broker = PaperBroker(clock: PaperBrokerTests.FixedClock())
        try await broker.connect()
        try await broker.submit(trailing("sell-trail", .sell, by: "2"))
        // High 105: the stop is 103; 104 does not reach it, 102.9 does.
        #expect(await fills(broker, after: ["100", "105", "104", "102.9"], count: 2) == ["102.9"])
    }

    @Test func aBuyTrailsTheLowByAPercent() async throws {
        let broker = PaperBroker(clock: PaperBrokerTests.FixedClock())
        try await broker.connect()
        try await broker.submit(trailing("buy-trail", .buy, percent: "5"))
        // Low 90: the stop is 94.50; 94 does not reach it, 94.5 does.
        #expect(await fills(broker, after: ["100", "90", "94", "94.5"], count: 2) == ["94.5"])
    }

    @Test func theBestPriceSurvivesARestart() async throws {
        let ledger = TestFolders.make("trail") + "/ledger.jsonl"
        let first = PaperBroker(clock: PaperBrokerTests.FixedClock(), ledgerPath: ledger)
        try await first.connect()
        try await first.submit(trailing("kept", .sell, by: "2"))
        await first.receive(base.quote(last: "100"))
        await first.receive(base.quote(last: "110"))
        await first.disconnect()
        let second = PaperBroker(clock: PaperBrokerTests.FixedClock(), ledgerPath: ledger)
        try await second.connect()
        // 107.5 is 2.5 below the high of 110 kept in the ledger (not 7.5 above a fresh start).
        await second.receive(base.quote(last: "107.5"))
        #expect(await base.take(second, 1).compactMap(base.fillPrice) == ["107.5"])
    }
}
