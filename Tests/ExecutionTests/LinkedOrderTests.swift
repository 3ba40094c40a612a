import BrokerAPI
import BrokerPaper
import Execution
import Foundation
import GatewayCore
import GatewayTesting
import Journal
import Testing

let putHigh = Symbol("AAPL  261218P00190000")!
let putLow = Symbol("AAPL  261218P00180000")!

/// A put credit spread: sell the 190 put, buy the 180 put, for a net credit of 1.25 a spread.
func creditSpread(_ qty: Int = 2, id: String = "spread-1", net: String = "-1.25", ratio: Int = 1) -> SubmitOrder {
    SubmitOrder(
        account: paper, clientOrderID: ClientOrderID(id)!, symbol: putHigh, side: .sellToOpen, qty: Quantity(qty),
        type: .limit, limitPrice: Price(net)!,
        legs: [OrderLeg(symbol: putHigh, side: .sellToOpen), OrderLeg(symbol: putLow, side: .buyToOpen, ratio: ratio)])
}

/// Multi-leg orders through the engine: checked, risk-checked leg by leg, journaled and booked leg by
/// leg, and a spread's fill never counted twice, also across a restart.
@Suite(.timeLimit(.minutes(1)))
struct MultiLegOrderTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }

    @Test func aSpreadIsJournaledAndBookedLegByLegAndItsFillCountedOnce() async throws {
        let broker = FakeBroker()
        let account = EngineAccount(id: paper, adapter: broker, openingCash: Money(10_000))
        let first = try await EngineHarness(journalPath: journalPath, accounts: [account])
        var waiter = EventWaiter(first.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let spread = try await first.engine.submit(creditSpread()).get().order
        #expect(spread.symbol == aapl)
        #expect(spread.side == .sell)
        #expect(spread.orderClass == .mleg)
        #expect(spread.legs?.map(\.symbol) == [putHigh, putLow])
        _ = await waiter.order(spread.orderID.rawValue, status: "acknowledged")
        #expect(await broker.submitted.first?.legs == spread.legs)

        let fill = BrokerFill(
            orderID: spread.orderID, fillID: FillID("spread-x1")!, qty: Quantity(2), price: Price("-1.25")!,
            commission: Money("2.6")!, ts: first.clock.now(),
            legs: [
                BrokerLegFill(symbol: putLow, price: Price("0.75")!),
                BrokerLegFill(symbol: putHigh, price: Price("2")!),
            ])
        await broker.emit(.fill(fill))
        await broker.emit(.fill(fill))  // the same fill reported twice
        let filled = try #require(await waiter.order(spread.orderID.rawValue, status: "filled"))
        let order = try #require(filled["order"] as? [String: Any])
        #expect(order["avg_fill_price"] as? String == "-1.25")
        #expect(order["filled_qty"] as? String == "2")
        let positions = try await first.engine.positions(account: paper).get()
        #expect(positions.first { $0.symbol == putHigh }?.qty == Quantity(-2))
        #expect(positions.first { $0.symbol == putLow }?.qty == Quantity(2))
        // 2 × (2.00 − 0.75) × 100 = 250 received, less 2.60 commission.
        #expect(try await first.engine.account(paper).get().cash == Money("10247.4")!)
        let fills = try first.journal.records(matching: Self.fillQuery)
        #expect(fills.count == 2)
        let legFill = try #require(fills.first.flatMap { Self.object($0.payload)["fill"] as? [String: Any] })
        #expect(legFill["fill_id"] as? String == "spread-x1/1")
        #expect(legFill["spread_fill_id"] as? String == "spread-x1")
        #expect(legFill["symbol"] as? String == putHigh.text)
        #expect(legFill["side"] as? String == "sell_to_open")
        #expect(legFill["price"] as? String == "2")
        try await first.stop()

        // After a restart the broker repeats the fill: it is still known.
        let broker2 = FakeBroker()
        let second = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker2, openingCash: Money(10_000))]
        )
        await broker2.emit(.fill(fill))
        _ = try await second.engine.submit(creditSpread(id: "spread-2")).get()
        #expect(try second.journal.records(matching: Self.fillQuery).count == 2)
        #expect(
            try await second.engine.positions(account: paper).get().first { $0.symbol == putHigh }?.qty == Quantity(-2))
        try await second.stop()
    }

    @Test func aMalformedSpreadIsRefusedNamingTheProblem() async throws {
        let harness = try await EngineHarness(
            journalPath: journalPath,
            accounts: [EngineAccount(id: paper, adapter: FakeBroker(), openingCash: Money(10_000))])
        func refusal(_ edit: (inout SubmitOrder) -> Void) async -> String? {
            var request = creditSpread(id: "bad-\(UUID().uuidString.prefix(8))")
            edit(&request)
            return await harness.engine.submit(request).failure.map { "\($0.field ?? "-"): \($0.message)" }
        }
        #expect(await refusal { $0.legs = [OrderLeg(symbol: putHigh, side: .sellToOpen)] }?.hasPrefix("legs:") == true)
        #expect(await refusal { $0.legs![1] = OrderLeg(symbol: aapl, side: .buy) }?.contains("not an option") == true)
        #expect(
            await refusal { $0.legs![1] = OrderLeg(symbol: Symbol("MSFT  261218P00180000")!, side: .buyToOpen) }?
                .contains("one underlying") == true)
        #expect(
            await refusal { $0.legs![1] = OrderLeg(symbol: putHigh, side: .buyToOpen) }?.contains("different") == true)
        #expect(await refusal { $0.legs![1].ratio = 0 }?.contains("ratio") == true)
        #expect(
            await refusal {
                $0.type = .stop; $0.stopPrice = Price(1)
            }?.hasPrefix("type:") == true)
        #expect(await refusal { $0.limitPrice = nil }?.hasPrefix("limit_price:") == true)
        #expect(await refusal { $0.takeProfit = Price(1) }?.hasPrefix("order_class:") == true)
        #expect(await refusal { $0.qty = Quantity("1.5")! }?.hasPrefix("qty:") == true)
        try await harness.stop()
    }

    @Test func eachLegFacesTheLimitsAndTheSpreadIsValuedAtItsNetPrice() async throws {
        let limits = RiskLimits(
            maxOrderNotional: Money(300), allowedSymbols: [putHigh, aapl], maxOptionContracts: Quantity(5))
        let harness = try await EngineHarness(
            journalPath: journalPath,
            accounts: [EngineAccount(id: paper, adapter: FakeBroker(), openingCash: Money(10_000), limits: limits)])
        // 3 spreads, the 180 put at ratio 2: 6 contracts of it; valued 1.25 × 3 × 100 = 375.
        let refused = await harness.engine.submit(creditSpread(3, ratio: 2)).failure
        #expect(refused?.code == .riskRejected)
        #expect(
            Set(refused?.checks?.map(\.check) ?? [])
                == ["restricted_symbol", "max_option_contracts", "max_order_notional"])
        #expect(refused?.checks?.first { $0.check == "max_order_notional" }?.value == "375")
        #expect(refused?.checks?.first { $0.check == "restricted_symbol" }?.value == putLow.text)
        try await harness.stop()
    }

    static var fillQuery: JournalQuery {
        var query = JournalQuery()
        query.kinds = ["fill"]
        return query
    }

    static func object(_ line: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
    }
}

/// Brackets, OTOs and OCOs placed with `submit`, worked by the paper broker.
@Suite(.timeLimit(.minutes(1)))
struct LinkedOrderTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }

    func quote(_ harness: EngineHarness, _ bid: String, _ ask: String) async throws {
        _ = try await harness.engine.quote(
            Quote(symbol: aapl, bid: Price(bid), ask: Price(ask), ts: harness.clock.now())
        ).get()
    }

    @Test func aBracketPlacedWithSubmitEntersThenExitsOnce() async throws {
        let harness = try await EngineHarness(
            journalPath: journalPath,
            accounts: [
                EngineAccount(id: paper, adapter: PaperBroker(clock: ManualWallClock()), openingCash: Money(100_000))
            ])
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        try await quote(harness, "101", "101.1")
        var request = buy(10, limit: "100", id: "br-1")
        request.takeProfit = Price(110)
        request.stopLoss = .init(stopPrice: Price(95))
        let outcome = try await harness.engine.submit(request).get()
        #expect(outcome.order.orderClass == .bracket)
        let stop = try #require(outcome.linked.first { $0.type == .stop })
        let target = try #require(outcome.linked.first { $0.type == .limit })
        #expect(stop.clientOrderID.rawValue == "br-1-stop")
        #expect(stop.side == .sell && target.side == .sell)
        #expect(stop.parentOrderID == outcome.order.orderID)
        #expect(stop.tif == .day)
        try await quote(harness, "99.9", "100")
        _ = await waiter.order(outcome.order.orderID.rawValue, status: "filled")
        try await quote(harness, "110.5", "110.6")
        _ = await waiter.order(target.orderID.rawValue, status: "filled")
        _ = await waiter.order(stop.orderID.rawValue, status: "canceled")
        #expect(try await harness.engine.positions(account: paper).get().first?.qty.isZero != false)
        // The same client_order_id again: the same three orders, nothing new.
        let again = try await harness.engine.submit(request).get()
        #expect(again.duplicate)
        #expect(Set(again.linked.map(\.orderID)) == [stop.orderID, target.orderID])
        try await harness.stop()
    }

    @Test func anOCOProtectsAPositionAndOnlyOneSideFills() async throws {
        let harness = try await EngineHarness(
            journalPath: journalPath,
            accounts: [
                EngineAccount(id: paper, adapter: PaperBroker(clock: ManualWallClock()), openingCash: Money(100_000))
            ])
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        try await quote(harness, "100", "100.1")
        let entry = try await harness.engine.submit(buy(10, id: "long")).get().order
        _ = await waiter.order(entry.orderID.rawValue, status: "filled")
        var oco = SubmitOrder(
            account: paper, clientOrderID: ClientOrderID("oco-1")!, symbol: aapl, side: .sell, qty: Quantity(10),
            type: .limit, limitPrice: Price(110), tif: .gtc, orderClass: .oco, stopLoss: .init(stopPrice: Price(90)))
        let placed = try await harness.engine.submit(oco).get()
        #expect(placed.order.orderClass == .oco)
        let stop = try #require(placed.linked.first)
        #expect(stop.side == .sell)
        #expect(stop.orderClass == .oco)
        #expect(stop.tif == .gtc)
        _ = await waiter.order(stop.orderID.rawValue, status: "acknowledged")
        // Both sides touched in one quote is impossible here; the stop's side touches.
        try await quote(harness, "89", "89.1")
        _ = await waiter.order(stop.orderID.rawValue, status: "filled")
        _ = await waiter.order(placed.order.orderID.rawValue, status: "canceled")
        #expect(try await harness.engine.positions(account: paper).get().first?.qty.isZero != false)

        oco.clientOrderID = ClientOrderID("oco-2")!
        oco.stopLoss = .init(stopPrice: Price(120))
        #expect(await harness.engine.submit(oco).failure?.field == "stop_loss")
        oco.takeProfit = Price(111)
        #expect(await harness.engine.submit(oco).failure?.field == "stop_loss")
        try await harness.stop()
    }

    @Test func aBrokerThatCannotHoldLinkedOrdersGetsNothing() async throws {
        let broker = FakeBroker()
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(100_000))]
        )
        var request = buy(10, limit: "100", id: "oto-1")
        request.stopLoss = .init(stopPrice: Price(95))
        let refused = await harness.engine.submit(request).failure
        #expect(refused?.code == .notSupported)
        #expect(refused?.message.contains("oto") == true)
        #expect(await broker.submitted.isEmpty)
        try await harness.stop()
    }
}

extension MultiLegOrderTests {
    @Test func aSpreadIsNotReplacedButCanBeCanceled() async throws {
        let broker = FakeBroker()
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(10_000))])
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let spread = try await harness.engine.submit(creditSpread()).get().order
        _ = await waiter.order(spread.orderID.rawValue, status: "acknowledged")
        let replace = ReplaceOrder(account: paper, reference: .orderID(spread.orderID), limitPrice: Price("-1.3")!)
        #expect(await harness.engine.replace(replace).failure?.code == .notSupported)
        _ = try await harness.engine.cancel(account: paper, .orderID(spread.orderID)).get()
        #expect(await waiter.order(spread.orderID.rawValue, status: "canceled") != nil)
        #expect(await broker.replaced.isEmpty)
        try await harness.stop()
    }
}

/// Spreads at the paper broker: all legs or none, each at its touch, when the net reaches the limit.
@Suite(.timeLimit(.minutes(1)))
struct PaperSpreadTests {
    let folder = EngineHarness.temporaryFolder()

    func quote(_ symbol: Symbol, bid: String, ask: String, _ clock: ManualWallClock) -> Quote {
        Quote(symbol: symbol, bid: Price(bid), ask: Price(ask), ts: clock.now())
    }

    @Test func aCreditSpreadFillsWholeAtTheLegsTouchesOnceTheNetReachesItsLimit() async throws {
        let clock = ManualWallClock()
        let costs = CostModel(commission: .perContract(rate: Price("0.65")!, capPerLeg: nil, freeClosing: false))
        let account = EngineAccount(
            id: paper, adapter: PaperBroker(clock: clock, ledgerPath: folder + "/paper.jsonl", costs: costs),
            openingCash: Money(10_000))
        let harness = try await EngineHarness(
            journalPath: folder + "/journal.sqlite", accounts: [account], clock: clock)
        let engine = harness.engine
        var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let spread = try await engine.submit(creditSpread()).get().order
        _ = await waiter.order(spread.orderID.rawValue, status: "acknowledged")

        // One leg quoted: nothing fills. Both quoted with a credit of only 1.00 (2.00 bid − 1.00 ask): nothing.
        _ = try await engine.quote(quote(putHigh, bid: "2", ask: "2.1", clock)).get()
        _ = try await engine.quote(quote(putLow, bid: "0.9", ask: "1", clock)).get()
        #expect(try await engine.orders(OrderFilter()).get().first?.status == .acknowledged)
        // The long put's ask falls to 0.70: a credit of 1.30, past the 1.25 asked.
        _ = try await engine.quote(quote(putLow, bid: "0.6", ask: "0.7", clock)).get()
        let filled = try #require(await waiter.order(spread.orderID.rawValue, status: "filled"))
        #expect((filled["order"] as? [String: Any])?["avg_fill_price"] as? String == "-1.3")
        let positions = try await engine.positions(account: paper).get()
        #expect(positions.first { $0.symbol == putHigh }?.qty == Quantity(-2))
        #expect(positions.first { $0.symbol == putLow }?.qty == Quantity(2))
        // 2 × 1.30 × 100 = 260 received; 4 contracts × 0.65 = 2.60 commission.
        #expect(try await engine.account(paper).get().cash == Money("10257.4")!)
        let legFills = try harness.journal.records(matching: JournalQuery(kinds: ["fill"]))
        #expect(legFills.count == 2)
        #expect(legFills.allSatisfy { $0.payload.contains(#""spread_fill_id":"\#(spread.orderID.rawValue)-f1""#) })
        try await harness.stop()
    }

    @Test func aSpreadOnlyAsMarketOrLimitAndAnIOCThatCannotFillIsCanceled() async throws {
        let clock = ManualWallClock()
        let broker = PaperBroker(clock: clock)
        var stop = creditSpread()
        stop.type = .stopLimit
        let probe = Order(
            orderID: OrderID("probe")!, clientOrderID: ClientOrderID("probe")!, account: paper, symbol: aapl,
            side: .sell, qty: Quantity(1), type: .stopLimit, tif: .day, createdAt: clock.now())
        var spreadProbe = probe
        spreadProbe.legs = stop.legs
        #expect(broker.unsupportedReason(for: spreadProbe)?.contains("market or limit") == true)

        let harness = try await EngineHarness(
            journalPath: folder + "/ioc.sqlite",
            accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(10_000))], clock: clock)
        _ = try await harness.engine.quote(quote(putHigh, bid: "2", ask: "2.1", clock)).get()
        var ioc = creditSpread(id: "ioc-1")
        ioc.tif = .ioc
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let order = try await harness.engine.submit(ioc).get().order
        let canceled = try #require(await waiter.order(order.orderID.rawValue, status: "canceled"))
        #expect((canceled["reason"] as? String)?.contains("could not fill at once") == true, "\(canceled)")
        try await harness.stop()
    }
}
