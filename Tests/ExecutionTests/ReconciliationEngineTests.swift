import BrokerAPI
import Execution
import Foundation
import GatewayCore
import GatewayTesting
import Journal
import Testing

func q(_ text: String) -> Quantity { Quantity(text)! }

/// The engine's side of reconciliation against a scripted broker: each policy, a journal-open order the
/// broker no longer works, failures, and orders refused while a reconnect is being reconciled.
@Suite(.timeLimit(.minutes(1)))
struct ReconciliationEngineTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }

    func harness(_ broker: FakeBroker, positions: ReconcileAction = .halt, orders: ReconcileAction = .adopt)
        async throws -> EngineHarness
    {
        var account = EngineAccount(id: paper, adapter: broker, openingCash: Money(100_000))
        account.reconcile = ReconcilePolicy(externalOrders: orders, positionMismatch: positions, every: nil)
        let harness = try await EngineHarness(journalPath: journalPath, accounts: [account])
        // Answered once the start's reconciliation is done: what a test sets up next applies after it.
        _ = await harness.engine.status()
        return harness
    }

    func journaledDifferences(_ harness: EngineHarness) throws -> [ReconciliationDifference] {
        var found: [ReconciliationDifference] = []
        try harness.journal.forEachRecord { record in
            guard record.kind == "reconciliation" else { return }
            found.append(try JSONDecoder().decode(ReconciliationDifference.self, from: Data(record.payload.utf8)))
        }
        return found
    }

    func tradingState(_ harness: EngineHarness) async throws -> String? {
        try await harness.engine.status().get().accounts.first?.tradingState
    }

    @Test func aPositionMismatchUnderAlertIsJournaledOnceAndTradingGoesOn() async throws {
        let broker = FakeBroker()
        await broker.configure {
            $0.snapshotPositions = [BrokerPositionReport(symbol: aapl, qty: q("10"), avgPrice: Price("100"))]
        }
        let harness = try await harness(broker, positions: .alert)
        let first = try await harness.engine.reconcile(account: paper).get()
        let difference = try #require(first.first?.differences.first)
        #expect(difference.difference == .positionMismatch && difference.action == .alerted)
        #expect(difference.journal == "0" && difference.broker == "10" && difference.symbol == aapl)
        #expect(first.first?.positionsCompared == true)
        // The start's reconciliation found it first; neither the operator's nor this one journals it again.
        let second = try await harness.engine.reconcile(account: paper).get()
        #expect(second.first?.differences.count == 1)
        #expect(try journaledDifferences(harness).count == 1)
        #expect(try await tradingState(harness) == "active")
        #expect(await harness.engine.submit(buy(1, limit: "10")).failure == nil)
        try await harness.stop()
    }

    @Test func aPositionMismatchUnderHaltHaltsTheAccountAtStart() async throws {
        let broker = FakeBroker()
        await broker.configure {
            $0.snapshotPositions = [BrokerPositionReport(symbol: aapl, qty: q("-3"), avgPrice: Price("100"))]
        }
        let harness = try await harness(broker)
        // Requests wait for the start's reconciliation: the first answer already sees the halt.
        #expect(try await tradingState(harness) == "halted")
        let refused = await harness.engine.submit(buy(1, limit: "10"))
        #expect(refused.failure?.code == .halted)
        let journaled = try journaledDifferences(harness)
        #expect(journaled.map(\.trigger) == ["start"] && journaled.first?.action == .halted)
        try await harness.stop()
    }

    @Test func aPositionMismatchUnderAdoptIsBookedAsAnExternalFill() async throws {
        let broker = FakeBroker()
        await broker.configure {
            $0.snapshotPositions = [BrokerPositionReport(symbol: aapl, qty: q("10"), avgPrice: Price("101"))]
        }
        let harness = try await harness(broker, positions: .adopt)
        let positions = try await harness.engine.positions(account: paper).get()
        #expect(positions.map(\.qty) == [q("10")] && positions.first?.avgPrice == Price("101"))
        let orders = try await harness.engine.orders(OrderFilter(openOnly: false)).get()
        #expect(orders.first?.tags == ["external", "position_adjustment"] && orders.first?.status == .filled)
        #expect(try await harness.engine.reconcile(account: paper).get().first?.differences.isEmpty == true)
        #expect(try await tradingState(harness) == "active")
        try await harness.stop()

        // The adjustment is in the journal: a restart replays the same position.
        let again = try await self.harness(FakeBroker(), positions: .adopt)
        #expect(try await again.engine.positions(account: paper).get().map(\.qty) == [q("10")])
        try await again.stop()
    }

    @Test func anExternalOrderIsAdoptedThenSettledWithItsFills() async throws {
        let broker = FakeBroker()
        let external = OrderID("by-hand-7")!
        let terms = BrokerOrderTerms(
            clientOrderID: "by-hand-7", symbol: aapl, side: .buy, qty: q("5"), type: .limit, limitPrice: Price("99"),
            tif: .gtc)
        let fill = BrokerFill(
            orderID: external, fillID: FillID("hand-fill-1")!, qty: q("2"), price: Price("98.5")!,
            ts: Timestamp(nanosecondsSinceEpoch: 0))
        await broker.configure {
            $0.snapshotOrders = [
                BrokerOrderReport(
                    orderID: external, brokerOrderID: "B-7", status: .partiallyFilled, filledQty: q("2"), fills: [],
                    terms: terms)
            ]
            $0.report = { id in
                .success(
                    BrokerOrderReport(
                        orderID: id, brokerOrderID: "B-7", status: .partiallyFilled, filledQty: q("2"), fills: [fill]))
            }
        }
        let harness = try await harness(broker)
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        _ = await waiter.order("by-hand-7", status: "partially_filled")
        let order = try #require(try await harness.engine.orders(OrderFilter()).get().first)
        #expect(order.orderID == external && order.clientOrderID.rawValue == "by-hand-7")
        #expect(order.tags == ["external"] && order.tif == .gtc && order.limitPrice == Price("99"))
        #expect(order.filledQty == q("2") && order.brokerOrderID == "B-7")
        // Adopted, its position is the broker's: nothing differs now.
        await broker.configure {
            $0.snapshotPositions = [BrokerPositionReport(symbol: aapl, qty: q("2"), avgPrice: Price("98.5"))]
        }
        #expect(try await harness.engine.reconcile(account: paper).get().first?.differences.isEmpty == true)
        let kinds = try journaledDifferences(harness).map(\.difference)
        #expect(kinds == [.externalOrder, .fillMissing], "\(kinds)")
        try await harness.stop()
    }

    @Test func anOrderTheBrokerNoLongerWorksIsSettled() async throws {
        let broker = FakeBroker()
        let harness = try await harness(broker)
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let order = try await harness.engine.submit(buy(3, limit: "10", id: "gone")).get().order
        _ = await waiter.order(order.orderID.rawValue, status: "acknowledged")
        // The broker canceled it and the event was lost: its open orders do not list it.
        await broker.configure {
            $0.report = { id in
                .success(
                    BrokerOrderReport(
                        orderID: id, brokerOrderID: "B-\(id)", status: .canceled, filledQty: .zero, fills: []))
            }
        }
        harness.clock.advance(seconds: 1)
        let found = try await harness.engine.reconcile(account: paper).get().first?.differences ?? []
        #expect(found.map(\.difference) == [.orderStatus] && found.first?.action == .settled)
        #expect(found.first?.journal == "acknowledged" && found.first?.broker == "not working")
        _ = await waiter.order(order.orderID.rawValue, status: "canceled")
        try await harness.stop()
    }

    @Test func aReconnectRefusesOrdersUntilTheBrokerIsReconciled() async throws {
        let broker = FakeBroker()
        let harness = try await harness(broker)
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        await broker.configure {
            $0.reconcileGate = {
                for await _ in gate { break }
            }
        }
        var calls = broker.callLog.makeAsyncIterator()
        await broker.emit(.connection(.disconnected, detail: "stream dropped"))
        await broker.emit(.connection(.connected, detail: nil))
        // The start's reconciliation was the first; the reconnect's is the second.
        var reconciles = 0
        while reconciles < 2, let call = await calls.next() {
            if call == "reconcile" { reconciles += 1 }
        }
        let refused = await harness.engine.submit(buy(1, limit: "10"))
        #expect(refused.failure?.code == .brokerUnavailable)
        #expect(refused.failure?.message.contains("reconciling") == true, "\(String(describing: refused.failure))")
        await broker.configure { $0.reconcileGate = nil }
        open.yield()
        // The operator's reconciliation queues behind the reconnect's: once it answers, both are done.
        _ = try await harness.engine.reconcile(account: paper).get()
        #expect(await harness.engine.submit(buy(1, limit: "10")).failure == nil)
        #expect(try journaledDifferences(harness).isEmpty)
        try await harness.stop()
    }

    @Test func aFailedReconciliationIsAnsweredAndAReconnectsKeepsTheAccountClosed() async throws {
        let broker = FakeBroker()
        let harness = try await harness(broker)
        await broker.configure { $0.reconcileError = BrokerError(.retryable, code: "http_503", message: "down") }
        // An operator's (or a periodic) reconciliation that fails is reported; trading goes on.
        let failed = await harness.engine.reconcile(account: paper)
        #expect(failed.failure?.code == .brokerUnavailable)
        #expect(await harness.engine.submit(buy(1, limit: "10")).failure == nil)
        // After a reconnect, a failure keeps new orders out until a reconciliation succeeds.
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["broker"]))
        await broker.emit(.connection(.disconnected, detail: nil))
        await broker.emit(.connection(.connected, detail: nil))
        _ = await waiter.next { $0["state"] as? String == "disconnected" }
        _ = await waiter.next { $0["state"] as? String == "connected" }
        _ = await harness.engine.reconcile(account: paper)  // answered after the reconnect's has failed
        let refused = await harness.engine.submit(buy(1, limit: "10"))
        #expect(refused.failure?.message.contains("failed") == true, "\(String(describing: refused.failure))")
        try await harness.stop()
    }

    @Test func unknownAccountsAndDisconnectedBrokersAreRefusedByName() async throws {
        let broker = FakeBroker()
        let harness = try await harness(broker)
        let unknown = await harness.engine.reconcile(account: AccountID("nope")!)
        #expect(unknown.failure?.code == .unknownAccount)
        await broker.emit(.connection(.disconnected, detail: nil))
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["broker"]))
        _ = await waiter.next { $0["state"] as? String == "disconnected" }
        let down = await harness.engine.reconcile(account: nil)
        #expect(down.failure?.code == .brokerUnavailable && down.failure?.message.contains("paper") == true)
        try await harness.stop()
    }
}

extension ReconciliationEngineTests {
    /// A fill the adapter reports as missed is journaled once either way; it is a difference only when it
    /// is older than a stream frame could still be on its way.
    @Test func aMissedFillIsADifferenceOnlyWhenItIsNotAFrameStillOnItsWay() async throws {
        let broker = FakeBroker()
        let harness = try await harness(broker)
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let order = try await harness.engine.submit(buy(3, limit: "10", id: "racing")).get().order
        _ = await waiter.order(order.orderID.rawValue, status: "acknowledged")
        let now = harness.clock.now().nanosecondsSinceEpoch
        func fill(_ id: String, secondsAgo: Int64) -> BrokerFill {
            BrokerFill(
                orderID: order.orderID, fillID: FillID(id)!, qty: q("1"), price: Price("10")!,
                ts: Timestamp(nanosecondsSinceEpoch: now - secondsAgo * 1_000_000_000))
        }
        let working = BrokerOrderReport(
            orderID: order.orderID, brokerOrderID: "B-racing", status: .partiallyFilled, filledQty: q("1"), fills: [])
        let (justNow, longAgo) = (fill("just-now", secondsAgo: 1), fill("long-ago", secondsAgo: 30))
        await broker.configure {
            $0.snapshotOrders = [working]
            $0.snapshotMissedFills = [justNow]
        }
        #expect(try await harness.engine.reconcile(account: paper).get().first?.differences.isEmpty == true)
        await broker.configure {
            $0.snapshotMissedFills = [longAgo, justNow]
        }
        let found = try await harness.engine.reconcile(account: paper).get().first?.differences ?? []
        #expect(found.map(\.difference) == [.fillMissing] && found.first?.broker == "1 at 10 (long-ago)", "\(found)")
        let filled = try await harness.engine.orders(OrderFilter()).get().first
        #expect(filled?.filledQty == q("2"), "each fill journaled once")
        try await harness.stop()
    }
}

extension ReconciliationEngineTests {
    /// A broker that could not be reached at start and connects later is reconciled then, before its
    /// account takes orders.
    @Test func aBrokerThatConnectsLateIsReconciledWhenItConnects() async throws {
        let broker = FakeBroker()
        await broker.configure { $0.connectError = BrokerError(.retryable, code: "down", message: "unreachable") }
        let harness = try await harness(broker)
        #expect(await broker.reconciliations == 0)
        #expect(await harness.engine.submit(buy(1, limit: "10")).failure?.code == .brokerUnavailable)
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["broker"]))
        await broker.emit(.connection(.connected, detail: nil))
        _ = await waiter.next { $0["state"] as? String == "connected" }
        // The operator's reconciliation queues behind the one the connection started.
        _ = try await harness.engine.reconcile(account: paper).get()
        #expect(await broker.reconciliations == 2)
        #expect(await harness.engine.submit(buy(1, limit: "10")).failure == nil)
        try await harness.stop()
    }
}

extension ReconciliationEngineTests {
    /// An order accepted while a reconciliation is under way may reach the broker after the broker's open
    /// orders were read, and its acknowledgement may overtake the snapshot: it is no difference, and it is
    /// not settled.
    @Test func anOrderPlacedDuringAReconciliationIsNoDifference() async throws {
        let broker = FakeBroker()
        let harness = try await harness(broker)
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        await broker.configure { $0.snapshotDelay = { for await _ in gate { break } } }
        async let answer = harness.engine.reconcile(account: paper)
        var calls = broker.callLog.makeAsyncIterator()
        var reconciles = 0
        while reconciles < 2, let call = await calls.next() {
            if call == "reconcile" { reconciles += 1 }
        }
        // The broker was read; an order is accepted and acknowledged before the snapshot arrives.
        harness.clock.advance(seconds: 1)
        var waiter = EventWaiter(harness.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let order = try await harness.engine.submit(buy(1, limit: "10", id: "meanwhile")).get().order
        _ = await waiter.order(order.orderID.rawValue, status: "acknowledged")
        open.yield()
        let found = try await answer.get().first?.differences ?? []
        #expect(found.isEmpty, "\(found)")
        #expect(await !broker.asked.contains(order.orderID))
        try await harness.stop()
    }
}
