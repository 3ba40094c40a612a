import BrokerAPI
import BrokerPaper
import GatewayCore
import Testing

@Suite(.timeLimit(.minutes(1)))
struct PaperOptionExpiryTests {
    let paper = AccountID("paper")!
    let aapl = Symbol("AAPL")!
    let put180 = Symbol("AAPL  261218P00180000")!

    @Test func aShortPutInTheMoneyIsAssignedTheShares() async throws {
        var script = try await PaperScript(at: "2026-12-18T15:00:00Z")
        try await script.broker.submit(
            Order(
                orderID: OrderID("p")!, clientOrderID: ClientOrderID("p")!, account: paper, symbol: put180,
                side: .sellToOpen, qty: Quantity(3), type: .market, tif: .day, createdAt: script.clock.now()))
        await script.broker.receive(Quote(symbol: put180, bid: Price(2), ask: Price("2.1"), ts: script.clock.now()))
        await script.broker.receive(
            Quote(symbol: aapl, bid: Price("177.5"), ask: Price("177.6"), ts: script.clock.now()))
        _ = await script.next(2)
        script.clock.set("2026-12-18T21:00:00Z")
        await script.broker.advance()
        #expect(
            await script.next(1) == [
                "settlement(BrokerAPI.BrokerSettlement(id: \"AAPL261218P00180000-2026-12-18\", kind: BrokerAPI.BrokerSettlement.Kind.assigned, option: AAPL  261218P00180000, contracts: -3, underlying: Optional(AAPL), shares: 300, strike: 180, ts: 2026-12-18T21:00:00.000000000Z))"
            ])
        #expect(
            try await script.broker.positions().map { "\($0.symbol) \($0.qty) \($0.avgPrice!)" } == ["AAPL 300 180"])
    }
}
