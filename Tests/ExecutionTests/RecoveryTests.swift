import BrokerAPI
import BrokerPaper
import Execution
import Foundation
import GatewayCore
import GatewayTesting
import Journal
import Testing

@Suite(.timeLimit(.minutes(1)))
struct RecoveryTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }

    func paperAccount(_ clock: ManualWallClock, ledger: Bool = true) -> EngineAccount {
        EngineAccount(
            id: paper, adapter: PaperBroker(clock: clock, ledgerPath: ledger ? folder + "/paper.jsonl" : nil),
            openingCash: Money(100_000))
    }

    @Test func aRestartRebuildsOrdersPositionsAndCashFromTheJournal() async throws {
        let clock = ManualWallClock()
        let first = try await EngineHarness(journalPath: journalPath, accounts: [paperAccount(clock)], clock: clock)
        var waiter = EventWaiter(first.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        _ = try await first.engine.quote(Quote(symbol: aapl, bid: Price("190"), ask: Price("190.05"), ts: clock.now()))
            .get()
        let bought = try await first.engine.submit(buy(100, id: "b1")).get().order
        _ = await waiter.order(bought.orderID.rawValue, status: "filled")
        let sold = try await first.engine.submit(sell(40, id: "s1")).get().order
        _ = await waiter.order(sold.orderID.rawValue, status: "filled")
        let resting = try await first.engine.submit(buy(10, limit: "150", id: "r1")).get().order
        _ = await waiter.order(resting.orderID.rawValue, status: "acknowledged")
        let accountBefore = try await first.engine.account(paper).get()
        let positionsBefore = try await first.engine.positions(account: paper).get()
        let ordersBefore = try await first.engine.orders(OrderFilter(openOnly: false)).get()
        try await first.stop()

        let second = try await EngineHarness(journalPath: journalPath, accounts: [paperAccount(clock)], clock: clock)
        #expect(try await second.engine.account(paper).get() == accountBefore)
        #expect(try await second.engine.positions(account: paper).get() == positionsBefore)
        #expect(try await second.engine.orders(OrderFilter(openOnly: false)).get() == ordersBefore)
        #expect(accountBefore.cash.description == "88595")
        #expect(positionsBefore.first?.qty == Quantity(60))
        // The same client_order_id is still known after the restart.
        let again = try await second.engine.submit(buy(100, id: "b1")).get()
        #expect(again.duplicate)
        // The resting order still works at the paper broker, which kept its own ledger.
        var after = EventWaiter(second.engine.subscribe(afterSeq: nil, kinds: ["order"]))
        _ = try await second.engine.quote(Quote(symbol: aapl, bid: Price("149"), ask: Price("149.5"), ts: clock.now()))
            .get()
        #expect(await after.order(resting.orderID.rawValue, status: "filled") != nil)
        try await second.stop()
    }

    @Test func anOrderLeftUnknownIsRejectedWhenTheBrokerNeverGotIt() async throws {
        let broker = FakeBroker()
        await broker.configure { broker in
            broker.acknowledges = false
            broker.onSubmit = { _ throws(BrokerError) in
                throw BrokerError(.unknownOutcome, code: "timeout", message: "lost")
            }
            // The first run cannot reach the broker's records either: the order stays unknown.
            broker.report = { _ in .failure(BrokerError(.retryable, code: "down", message: "down")) }
        }
        let first = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1000))])
        var waiter = EventWaiter(first.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let order = try await first.engine.submit(buy(1, limit: "5")).get().order
        _ = await waiter.order(order.orderID.rawValue, status: "unknown")
        try await first.stop()

        let second = FakeBroker()
        let restarted = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: second, openingCash: Money(1000))])
        var again = EventWaiter(restarted.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let rejected = try #require(await again.order(order.orderID.rawValue, status: "rejected"))
        let reasons = (rejected["order"] as? [String: Any])?["reject_reasons"] as? [String] ?? []
        #expect(reasons.contains { $0.contains("no record") })
        try await restarted.stop()
        #expect(await second.submitted.isEmpty)
        #expect(await second.asked == [order.orderID])
    }

    @Test func aFillTheBrokerMadeWhileTheGatewayWasDownIsRecordedAtStart() async throws {
        let first = try await EngineHarness(
            journalPath: journalPath,
            accounts: [EngineAccount(id: paper, adapter: FakeBroker(), openingCash: Money(1000))])
        var waiter = EventWaiter(first.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let order = try await first.engine.submit(buy(3, limit: "10")).get().order
        _ = await waiter.order(order.orderID.rawValue, status: "acknowledged")
        try await first.stop()

        let broker = FakeBroker()
        let clock = ManualWallClock()
        let id = order.orderID
        await broker.configure { broker in
            broker.report = { asked in
                guard asked == id else { return .success(nil) }
                return .success(
                    BrokerOrderReport(
                        orderID: id, brokerOrderID: "B-\(id)", status: .filled, filledQty: Quantity(3),
                        fills: [
                            BrokerFill(
                                orderID: id, fillID: FillID("late")!, qty: Quantity(3), price: Price("9.9")!,
                                ts: clock.now())
                        ]))
            }
        }
        let second = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1000))],
            clock: clock)
        var again = EventWaiter(second.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        #expect(await again.order(id.rawValue, status: "filled") != nil)
        #expect(try await second.engine.positions(account: paper).get().first?.qty == Quantity(3))
        #expect(try await second.engine.account(paper).get().cash.description == "970.3")
        try await second.stop()
        #expect(await broker.submitted.isEmpty)
    }

    @Test func aRestartedSimulatorIsGivenTheLastJournaledPrices() async throws {
        let first = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: FakeBroker(), openingCash: Money(1))]
        )
        _ = try await first.engine.quote(
            Quote(symbol: aapl, bid: Price("10"), ask: Price("10.5"), ts: first.clock.now())
        ).get()
        _ = try await first.engine.quote(Quote(symbol: aapl, last: Price("10.25"), ts: first.clock.now())).get()
        try await first.stop()
        let broker = FakeBroker()
        let second = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1))])
        var calls = broker.callLog.makeAsyncIterator()
        #expect(await calls.next() == "quote AAPL")
        let quote = try #require(await broker.quotes.first)
        #expect(quote.bid == Price("10") && quote.ask == Price("10.5") && quote.last == Price("10.25"))
        try await second.stop()
    }

    @Test func subscribeAfterSeqReplaysExactlyTheMissedEventsThenLiveOnes() async throws {
        let clock = ManualWallClock()
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [paperAccount(clock, ledger: false)], clock: clock)
        for price in ["10", "11", "12"] {
            _ = try await harness.engine.quote(Quote(symbol: aapl, last: Price(price), ts: clock.now())).get()
        }
        let seq = try harness.journal.lastSequence()
        var replay = harness.engine.subscribe(afterSeq: seq - 2, kinds: nil).makeAsyncIterator()
        _ = try await harness.engine.quote(Quote(symbol: aapl, last: Price("13"), ts: clock.now())).get()
        let seqs = [await replay.next()?.seq, await replay.next()?.seq, await replay.next()?.seq]
        #expect(seqs == [seq - 1, seq, seq + 1])
        try await harness.stop()
    }
}
