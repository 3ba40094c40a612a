import BrokerAPI
import Execution
import Foundation
import GatewayCore
import GatewayTesting
import Testing

@Suite(.timeLimit(.minutes(1)))
struct EngineTradingStateTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }

    func harness(_ broker: FakeBroker = FakeBroker()) async throws -> EngineHarness {
        try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(10_000))])
    }

    @Test func haltCancelsOpenOrdersRefusesNewOnesAndSurvivesARestart() async throws {
        let broker = FakeBroker()
        let first = try await harness(broker)
        var waiter = EventWaiter(first.engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let resting = try await first.engine.submit(buy(5, limit: "10")).get().order
        _ = await waiter.order(resting.orderID.rawValue, status: "acknowledged")
        let halted = try await first.engine.halt(account: nil, reason: "test", cancelOpen: true).get()
        #expect(halted.state == .halted && halted.scope == "gateway")
        #expect(halted.canceled == [resting.orderID])
        #expect(await waiter.order(resting.orderID.rawValue, status: "canceled") != nil)
        let refused = await first.engine.submit(buy(1, limit: "10"))
        #expect(refused.failure?.code == .halted)
        try await first.stop()

        let second = try await harness()
        #expect(await second.engine.submit(buy(1, limit: "10")).failure?.code == .halted)
        #expect(try await second.engine.status().get().accounts.first?.tradingState == "halted")
        _ = try await second.engine.resume(account: nil, state: .active, reason: "done").get()
        #expect(await second.engine.submit(buy(1, limit: "10")).failure == nil)
        try await second.stop()
    }

    @Test func reducingLetsAPositionShrinkButNotGrow() async throws {
        let clock = ManualWallClock()
        let broker = FakeBroker()
        let engineHarness = try await EngineHarness(
            journalPath: journalPath, accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(10_000))],
            clock: clock)
        let engine = engineHarness.engine
        try await filledBuy(10, at: 10, engine: engine, broker: broker, clock: clock)
        _ = try await engine.resume(account: paper, state: .reducing, reason: "wind down").get()
        #expect(await engine.submit(buy(1, limit: "10")).failure?.code == .halted)
        #expect(await engine.submit(sell(11)).failure?.code == .halted)
        #expect(await engine.submit(sell(10)).failure == nil)
        #expect(try await engine.account(paper).get().tradingState == "reducing")
        try await engineHarness.stop()
    }

    @Test func resumeCannotHaltAndUnknownAccountsAreNamed() async throws {
        let engineHarness = try await harness()
        #expect(await engineHarness.engine.resume(account: nil, state: .halted, reason: nil).failure?.field == "state")
        #expect(
            await engineHarness.engine.halt(account: AccountID("ghost")!, reason: nil, cancelOpen: false).failure?.code
                == .unknownAccount)
        try await engineHarness.stop()
    }
}

@Suite(.timeLimit(.minutes(1)))
struct LossLimitTests {
    @Test func aDailyLossBreachHaltsTheAccountOnItsOwn() async throws {
        let folder = EngineHarness.temporaryFolder()
        let clock = ManualWallClock()
        let broker = FakeBroker()
        var limits = RiskLimits(maxDailyLoss: Money(50))
        limits.onLossBreach = .reducing
        let harness = try await EngineHarness(
            journalPath: folder + "/journal.sqlite",
            accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(10_000), limits: limits)],
            clock: clock)
        let engine = harness.engine
        var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order", "trading_state"]))
        let order = try await engine.submit(buy(10, limit: "100")).get().order
        _ = await waiter.order(order.orderID.rawValue, status: "acknowledged")
        await broker.emit(
            .fill(
                BrokerFill(
                    orderID: order.orderID, fillID: FillID("f")!, qty: Quantity(10), price: Price(100), ts: clock.now())
            ))
        _ = await waiter.order(order.orderID.rawValue, status: "filled")
        // A loss of 49.90 is under the limit; 50 reaches it.
        _ = try await engine.quote(Quote(symbol: aapl, last: Price("95.01"), ts: clock.now())).get()
        #expect(try await engine.account(paper).get().tradingState == "active")
        _ = try await engine.quote(Quote(symbol: aapl, last: Price("95"), ts: clock.now())).get()
        let change = try #require(await waiter.next { $0["event"] as? String == "trading_state" })
        #expect(change["state"] as? String == "reducing")
        #expect((change["reason"] as? String)?.contains("daily loss 50") == true)
        #expect(await engine.submit(buy(1, limit: "95")).failure?.code == .halted)
        #expect(await engine.submit(sell(10)).failure == nil)
        try await harness.stop()
    }
}

@Suite(.timeLimit(.minutes(1)))
struct RiskAcrossRestartTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }

    func harness(_ broker: FakeBroker, _ limits: RiskLimits, _ clock: ManualWallClock) async throws -> EngineHarness {
        try await EngineHarness(
            journalPath: journalPath,
            accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(10_000), limits: limits)],
            clock: clock)
    }

    @Test func theEquityPeakOfTheDrawdownLimitSurvivesARestart() async throws {
        let clock = ManualWallClock()
        let broker = FakeBroker()
        let limits = RiskLimits(maxDrawdown: Money(100))
        let first = try await harness(broker, limits, clock)
        try await filledBuy(10, at: 100, engine: first.engine, broker: broker, clock: clock)
        // Equity peaks at 10 200 (the position worth 1 200), then the gateway restarts.
        _ = try await first.engine.quote(Quote(symbol: aapl, last: Price(120), ts: clock.now())).get()
        try await first.stop()

        let second = try await harness(FakeBroker(), limits, clock)
        var states = EventWaiter(second.engine.subscribe(afterSeq: 0, kinds: ["trading_state"]))
        // 95 below the peak kept from before the restart: still active; 100 below it: halted.
        _ = try await second.engine.quote(Quote(symbol: aapl, last: Price("110.5"), ts: clock.now())).get()
        #expect(try await second.engine.account(paper).get().tradingState == "active")
        _ = try await second.engine.quote(Quote(symbol: aapl, last: Price(110), ts: clock.now())).get()
        let change = try #require(await states.next { $0["event"] as? String == "trading_state" })
        #expect(change["state"] as? String == "halted")
        #expect((change["reason"] as? String)?.contains("equity peak 10200") == true)
        try await second.stop()
    }

    /// The day's figures turn over at the account's session start, not at UTC midnight.
    @Test func theDaysOrderCountStartsAgainAtTheSessionStart() async throws {
        let clock = ManualWallClock()  // 09:46:40 UTC
        var account = EngineAccount(
            id: paper, adapter: FakeBroker(), openingCash: Money(10_000), limits: RiskLimits(maxOrdersPerDay: 2))
        account.session = TradingSession(name: "10:00 UTC", startMinutes: 600) { _ in 0 }
        let harness = try await EngineHarness(journalPath: journalPath, accounts: [account], clock: clock)
        #expect(await harness.engine.submit(buy(1, limit: "10")).failure == nil)
        #expect(await harness.engine.submit(buy(1, limit: "10")).failure == nil)
        #expect(await harness.engine.submit(buy(1, limit: "10")).failure?.checks?.first?.value == "3/day")
        clock.advance(seconds: 15 * 60)  // 10:01:40: the next session day
        #expect(await harness.engine.submit(buy(1, limit: "10")).failure == nil)
        try await harness.stop()
    }

    @Test func theDaysOrderCountSurvivesARestart() async throws {
        let clock = ManualWallClock()
        let limits = RiskLimits(maxOrdersPerDay: 2)
        let first = try await harness(FakeBroker(), limits, clock)
        #expect(await first.engine.submit(buy(1, limit: "10")).failure == nil)
        #expect(await first.engine.submit(buy(1, limit: "10")).failure == nil)
        try await first.stop()

        let second = try await harness(FakeBroker(), limits, clock)
        let refused = await second.engine.submit(buy(1, limit: "10"))
        #expect(refused.failure?.checks?.map(\.check) == ["order_rate"])
        #expect(refused.failure?.checks?.first?.value == "3/day")
        try await second.stop()
    }
}
