import BrokerAPI
import Execution
import Foundation
import GatewayCore
import GatewayTesting
import Testing

@Suite(.timeLimit(.minutes(1)))
struct SignalTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }
    let policy = SizingPolicy(method: .fixedFractional(riskFraction: Price("0.02")!))

    func account(limits: RiskLimits = .none) -> EngineAccount {
        EngineAccount(id: paper, adapter: FakeBroker(), openingCash: Money(50_000), limits: limits, sizing: policy)
    }

    func signal(_ id: String, entry: String? = "50", stop: String? = "48", atr: String? = nil) -> SubmitSignal {
        SubmitSignal(
            account: paper, signalID: ClientOrderID(id)!, symbol: aapl, side: .buy,
            entryType: entry == nil ? .market : .limit,
            entryPrice: entry.flatMap(Price.init), stopPrice: stop.flatMap(Price.init), atr: atr.flatMap(Price.init),
            atrMultiple: atr == nil ? nil : Price(2))
    }

    @Test func aSignalIsSizedByTheAccountPolicyAndIdempotentAcrossRestarts() async throws {
        let first = try await EngineHarness(journalPath: journalPath, accounts: [account()])
        // 2% of 50 000 = 1 000 at risk, 2 a share → 500 shares.
        let outcome = try await first.engine.signal(signal("sig-1")).get()
        #expect(outcome.orders.first?.qty == Quantity(500))
        #expect(outcome.orders.first?.limitPrice == Price(50))
        #expect(outcome.sizing?.riskMoney == Money(1_000))
        #expect(outcome.bracket != nil)
        try await first.stop()
        let second = try await EngineHarness(journalPath: journalPath, accounts: [account()])
        let again = try await second.engine.signal(signal("sig-1", entry: "10", stop: "9")).get()
        #expect(again.duplicate)
        #expect(again.orders.map(\.orderID) == outcome.orders.map(\.orderID))
        try await second.stop()
    }

    @Test func anATRStopAndTheLastQuoteServeWhenNotGiven() async throws {
        let harness = try await EngineHarness(journalPath: journalPath, accounts: [account()])
        _ = try await harness.engine.quote(Quote(symbol: aapl, last: Price(40), ts: harness.clock.now())).get()
        // stop = 40 − 2 × 2.5 = 35; 1 000 ÷ 5 = 200.
        let outcome = try await harness.engine.signal(signal("sig-atr", entry: nil, stop: nil, atr: "2.5")).get()
        #expect(outcome.orders.first?.qty == Quantity(200))
        #expect(outcome.orders.first?.type == .market)
        #expect(outcome.sizing?.stopDistance == Price(5))
        try await harness.stop()
    }

    @Test func theSizeRespectsThePositionLimitAndZeroIsARefusal() async throws {
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [account(limits: RiskLimits(maxPositionQty: Quantity(120)))])
        let capped = try await harness.engine.signal(signal("sig-cap")).get()
        #expect(capped.orders.first?.qty == Quantity(120))
        #expect(capped.sizing?.caps == ["max_position: 120"])
        // The first signal's working order uses the whole room: the next sizes to zero and is refused.
        let full = await harness.engine.signal(signal("sig-zero"))
        #expect(full.failure?.code == .riskRejected)
        #expect(full.failure?.checks?.map(\.check) == ["size_zero"])
        let wrongSide = await harness.engine.signal(signal("sig-bad", entry: "50", stop: "51"))
        #expect(wrongSide.failure?.field == "stop_price")
        try await harness.stop()
    }
}

@Suite(.timeLimit(.minutes(1)))
struct StrategyOverrideTests {
    @Test func aStrategyOverridesPerOrderLimitsButNeverTheAccountsTotalsAndIsSizedByItsOwnPolicy() async throws {
        let folder = EngineHarness.temporaryFolder()
        var account = EngineAccount(
            id: paper, adapter: FakeBroker(), openingCash: Money(50_000),
            limits: RiskLimits(maxOrderQty: Quantity(1_000), maxGrossExposure: Money(20_000)),
            sizing: SizingPolicy(method: .fixedQty(Quantity(500))))
        account.strategyLimits["scalper"] = RiskLimits(maxOrderQty: Quantity(10))
        account.strategySizing["scalper"] = SizingPolicy(method: .fixedQty(Quantity(5)))
        account.strategyLimits["loose"] = RiskLimits(maxOrderQty: Quantity(5_000), maxGrossExposure: Money(900_000))
        let harness = try await EngineHarness(journalPath: folder + "/journal.sqlite", accounts: [account])
        var scalp = buy(11, limit: "10")
        scalp.strategy = "scalper"
        let refused = await harness.engine.submit(scalp)
        #expect(refused.failure?.checks?.map(\.check) == ["max_order_qty"])
        #expect(refused.failure?.checks?.first?.limit == "10")
        // Another strategy, or none, has only the account's limit.
        var other = buy(11, limit: "10")
        other.strategy = "swing"
        #expect(await harness.engine.submit(other).failure == nil)
        // A strategy's own per-order limit replaces the account's, looser or tighter...
        var loose = buy(1_001, limit: "10")
        loose.strategy = "loose"
        #expect(await harness.engine.submit(loose).failure == nil)
        // ...but the account's totals stay the ceiling: its gross exposure limit still applies.
        var tooBig = buy(2_001, limit: "10")
        tooBig.strategy = "loose"
        let refusedTotal = await harness.engine.submit(tooBig)
        #expect(refusedTotal.failure?.checks?.map(\.check) == ["max_exposure"])
        #expect(refusedTotal.failure?.checks?.first?.limit == "20000")
        // Its signals are sized by its own policy.
        let signal = SubmitSignal(
            account: paper, signalID: ClientOrderID("scalp-1")!, strategy: "scalper", symbol: aapl, side: .buy,
            entryType: .limit, entryPrice: Price(10), stopPrice: Price(9))
        #expect(try await harness.engine.signal(signal).get().orders.first?.qty == Quantity(5))
        try await harness.stop()
    }
}
