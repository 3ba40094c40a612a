import BrokerAPI
import BrokerPaper
import Execution
import Foundation
import GatewayCore
import GatewayTesting
import Journal
import Testing

let paper = AccountID("paper")!
let aapl = Symbol("AAPL")!

func buy(_ qty: Int, limit: String? = nil, id: String? = nil, symbol: Symbol = aapl) -> SubmitOrder {
    SubmitOrder(
        account: paper, clientOrderID: id.flatMap(ClientOrderID.init), symbol: symbol, side: .buy, qty: Quantity(qty),
        type: limit == nil ? .market : .limit, limitPrice: limit.flatMap(Price.init))
}

func sell(_ qty: Int, id: String? = nil) -> SubmitOrder {
    SubmitOrder(
        account: paper, clientOrderID: id.flatMap(ClientOrderID.init), symbol: aapl, side: .sell, qty: Quantity(qty),
        type: .market)
}

/// Buys `qty` AAPL at `price` through the fake broker and waits until the order is filled.
@discardableResult
func filledBuy(
    _ qty: Int, at price: Int, engine: ExecutionEngine, broker: FakeBroker, clock: ManualWallClock,
    fillID: String = "f"
) async throws -> Order {
    var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order"]))
    let order = try await engine.submit(buy(qty, limit: "\(price)")).get().order
    _ = await waiter.order(order.orderID.rawValue, status: "acknowledged")
    await broker.emit(
        .fill(
            BrokerFill(
                orderID: order.orderID, fillID: FillID(fillID)!, qty: Quantity(qty), price: Price(price),
                ts: clock.now())))
    _ = await waiter.order(order.orderID.rawValue, status: "filled")
    return order
}

@Suite(.timeLimit(.minutes(1)))
struct ExecutionEngineTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }

    @Test func journalsTheAcceptedOrderBeforeTheBrokerHearsOfIt() async throws {
        let broker = FakeBroker()
        let journalPath = self.journalPath
        let seenInJournal = JournalProbe()
        let journal = Mutex<EventJournal?>(nil)
        await broker.configure {
            $0.onSubmit = { order in
                // The journal's reads see what was appended (committed), not what is staged.
                let reader = journal.withLock { $0 }
                let records = (try? reader?.records(matching: JournalQuery(orderID: order.orderID.rawValue))) ?? []
                seenInJournal.set(records.map(\.kind))
            }
        }
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1000))])
        journal.withLock { $0 = harness.journal }
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let outcome = try await harness.engine.submit(buy(1, limit: "10")).get()
        #expect(outcome.order.status == .accepted)
        #expect(await waiter.order(outcome.order.orderID.rawValue, status: "acknowledged") != nil)
        #expect(seenInJournal.get() == ["order"])
        try await harness.stop()
    }

    @Test func aRepeatedClientOrderIDReturnsTheFirstOrderAndSendsNothing() async throws {
        let broker = FakeBroker()
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1000))])
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let first = try await harness.engine.submit(buy(5, limit: "10", id: "strat-1")).get()
        let second = try await harness.engine.submit(buy(7, limit: "11", id: "strat-1")).get()
        #expect(!first.duplicate)
        #expect(second.duplicate)
        #expect(second.order.orderID == first.order.orderID)
        #expect(second.order.qty == Quantity(5))
        _ = await waiter.order(first.order.orderID.rawValue, status: "acknowledged")
        try await harness.stop()
        #expect(await broker.submitted.count == 1)
    }

    /// Finished orders are read from the journal, off the engine's thread, once the engine has answered
    /// the request: every earlier request, pipelined or not, is in the journal by then, in its newest state.
    @Test func theListOfEveryOrderSeesEveryEarlierRequestInItsNewestState() async throws {
        let broker = FakeBroker()
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(100_000))]
        )
        let engine = harness.engine
        var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let msft = Symbol("MSFT")!
        var first = buy(1, limit: "10", id: "a-1")
        first.strategy = "s1"
        let canceled = try await engine.submit(first).get().order
        _ = await waiter.order(canceled.orderID.rawValue, status: "acknowledged")
        _ = try await engine.cancel(account: paper, .orderID(canceled.orderID)).get()
        #expect(await waiter.order(canceled.orderID.rawValue, status: "canceled") != nil)
        // Two submits and the listing sent together, without waiting for the answers.
        for (id, symbol) in [("a-2", aapl), ("m-1", msft)] {
            engine.submit(buy(2, limit: "10", id: id, symbol: symbol)) { _ in }
        }
        let all = try await engine.orders(OrderFilter(openOnly: false)).get()
        #expect(all.map(\.clientOrderID.rawValue) == ["a-1", "a-2", "m-1"])
        #expect(all.first?.status == .canceled)
        let aaplOnly = try await engine.orders(OrderFilter(openOnly: false, symbol: aapl)).get()
        #expect(aaplOnly.map(\.clientOrderID.rawValue) == ["a-1", "a-2"])
        let strategy = try await engine.orders(OrderFilter(openOnly: false, strategy: "s1")).get()
        #expect(strategy.map(\.clientOrderID.rawValue) == ["a-1"])
        let open = try await engine.orders(OrderFilter()).get()
        #expect(open.map(\.clientOrderID.rawValue) == ["a-2", "m-1"])
        await #expect(throws: EngineError.self) {
            try await engine.orders(OrderFilter(account: AccountID("nobody")!, openOnly: false)).get()
        }
        try await harness.stop()
    }

    @Test func concurrentDuplicatesInOneBatchMakeOneOrder() async throws {
        let broker = FakeBroker()
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1000))])
        let engine = harness.engine
        let outcomes = await withTaskGroup(of: SubmitOutcome?.self) { group in
            for _ in 0..<20 { group.addTask { try? await engine.submit(buy(1, limit: "10", id: "same")).get() } }
            return await group.reduce(into: [SubmitOutcome]()) { if let outcome = $1 { $0.append(outcome) } }
        }
        #expect(outcomes.count == 20)
        #expect(Set(outcomes.map(\.order.orderID)).count == 1)
        #expect(outcomes.filter { !$0.duplicate }.count == 1)
        try await harness.stop()
        #expect(await broker.submitted.count == 1)
    }

    @Test func badOrdersAreRefusedWithTheFieldAndNothingIsJournaled() async throws {
        let harness = try await EngineHarness(
            journalPath: journalPath,
            accounts: [EngineAccount(id: paper, adapter: FakeBroker(), openingCash: Money(1000))])
        let before = try await harness.engine.status().get().seq
        var noLimit = buy(1)
        noLimit.type = .limit
        #expect(await harness.engine.submit(noLimit).failure?.field == "limit_price")
        #expect(await harness.engine.submit(buy(0)).failure?.field == "qty")
        var optionSide = buy(1)
        optionSide.side = .buyToOpen
        #expect(await harness.engine.submit(optionSide).failure?.field == "side")
        // Values the books cannot carry are typos: refused, never overflowed.
        #expect(await harness.engine.submit(buy(2_000_000_000, limit: "1")).failure?.field == "qty")
        #expect(await harness.engine.submit(buy(100_000_000, limit: "100000")).failure?.field == "qty")
        var unknown = buy(1)
        unknown.account = AccountID("nope")!
        #expect(await harness.engine.submit(unknown).failure?.code == .unknownAccount)
        #expect(try harness.journal.lastSequence() == before)
        try await harness.stop()
    }

    @Test func refusesWhenTheBrokerIsNotConnected() async throws {
        let broker = FakeBroker()
        await broker.configure { $0.connectError = BrokerError(.retryable, code: "down", message: "no route") }
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1000))])
        #expect(await harness.engine.submit(buy(1)).failure?.code == .brokerUnavailable)
        try await harness.stop()
        #expect(await broker.submitted.isEmpty)
    }

    @Test func aBrokerRejectionIsJournaledWithItsReason() async throws {
        let broker = FakeBroker()
        await broker.configure {
            $0.onSubmit = { _ throws(BrokerError) in
                throw BrokerError(.nonRetryable, code: "insufficient_funds", message: "no")
            }
        }
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1000))])
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let order = try await harness.engine.submit(buy(1)).get().order
        let rejected = try #require(await waiter.order(order.orderID.rawValue, status: "rejected"))
        let reasons = (rejected["order"] as? [String: Any])?["reject_reasons"] as? [String]
        #expect(reasons?.first?.contains("insufficient_funds") == true)
        try await harness.stop()
    }

    /// A fill refused for its numbers is journaled as unmatched and not taken as seen: the broker's
    /// corrected report under the same fill id is booked, once.
    @Test func aFillRefusedForItsPriceIsBookedWhenTheBrokerCorrectsIt() async throws {
        let broker = FakeBroker()
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1000))])
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order", "broker_unmatched"]))
        let first = try await harness.engine.submit(buy(2, limit: "10")).get().order
        let second = try await harness.engine.submit(buy(1, limit: "10")).get().order
        _ = await waiter.order(first.orderID.rawValue, status: "acknowledged")
        _ = await waiter.order(second.orderID.rawValue, status: "acknowledged")
        func fill(_ order: Order, _ id: String, _ qty: Int, at price: String) -> BrokerEvent {
            .fill(
                BrokerFill(
                    orderID: order.orderID, fillID: FillID(id)!, qty: Quantity(qty), price: Price(price)!,
                    ts: harness.clock.now()))
        }
        await broker.emit(fill(first, "a-1", 2, at: "0"))
        #expect(await waiter.next { $0["event"] as? String == "broker_unmatched" } != nil)
        await broker.emit(fill(first, "a-1", 2, at: "9.5"))
        await broker.emit(fill(first, "a-1", 2, at: "9.5"))  // repeated: booked once
        await broker.emit(fill(second, "b-1", 1, at: "9.5"))
        _ = await waiter.order(second.orderID.rawValue, status: "filled")
        let fills = try harness.journal.records(matching: JournalQuery(orderID: first.orderID.rawValue))
            .filter { $0.kind == "fill" }
        #expect(fills.count == 1)
        #expect(try await harness.engine.positions(account: paper).get().first?.qty == Quantity(3))
        try await harness.stop()
    }

    @Test func aTimeoutIsAnUnknownOutcomeSettledByAskingTheBroker() async throws {
        let broker = FakeBroker()
        await broker.configure { broker in
            broker.acknowledges = false
            broker.onSubmit = { _ throws(BrokerError) in
                throw BrokerError(.unknownOutcome, code: "timeout", message: "no answer")
            }
        }
        let clock = ManualWallClock()
        // The broker's answer is set before the order exists: the engine may ask at once.
        await broker.configure { broker in
            broker.report = { orderID in
                .success(
                    BrokerOrderReport(
                        orderID: orderID, brokerOrderID: "B-1", status: .partiallyFilled, filledQty: Quantity(1),
                        fills: [
                            BrokerFill(
                                orderID: orderID, fillID: FillID("x1")!, qty: Quantity(1), price: Price("9.5")!,
                                ts: clock.now())
                        ]))
            }
        }
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1000))],
            clock: clock)
        let id = try await harness.engine.submit(buy(2, limit: "10")).get().order.orderID
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        #expect(await waiter.order(id.rawValue, status: "unknown") != nil)
        let settled = try #require(await waiter.order(id.rawValue, status: "partially_filled"))
        #expect((settled["order"] as? [String: Any])?["broker_order_id"] as? String == "B-1")
        let positions = try await harness.engine.positions(account: paper).get()
        #expect(positions.first?.qty == Quantity(1))
        try await harness.stop()
        #expect(await broker.submitted.count == 1)
    }
}

/// A value a broker callback sets and the test reads.
final class JournalProbe: Sendable {
    private let value = Mutex<[String]?>(nil)
    func set(_ kinds: [String]) { value.withLock { $0 = kinds } }
    func get() -> [String]? { value.withLock { $0 } }
}

import Synchronization

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
