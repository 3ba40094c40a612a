import BrokerAPI
import BrokerPaper
import Execution
import GatewayCore
import GatewayTesting
import Journal
import Testing

/// Options held to their expiry at the paper broker: at the close of the expiry day those out of the money
/// expire worthless, those in it are exercised (long) or assigned (short) into the underlying at the
/// strike, and the journal books all of it.
@Suite(.timeLimit(.minutes(1)))
struct OptionExpiryTests {
    let paper = AccountID("paper")!
    let aapl = Symbol("AAPL")!
    let call190 = Symbol("AAPL  261218C00190000")!
    let call200 = Symbol("AAPL  261218C00200000")!
    let put180 = Symbol("AAPL  261218P00180000")!

    func quote(_ symbol: Symbol, _ bid: String, _ ask: String, _ clock: ManualWallClock) -> Quote {
        Quote(symbol: symbol, bid: Price(bid), ask: Price(ask), ts: clock.now())
    }

    @Test func aCallSpreadToExpiryIsExercisedOnOneLegAndExpiresOnTheOther() async throws {
        let folder = EngineHarness.temporaryFolder()
        // Friday 2026-12-18, the contracts' expiry, 10:00 New York (five hours behind UTC in December).
        let clock = ManualWallClock(Timestamp(rfc3339: "2026-12-18T15:00:00Z")!)
        let calendar = MarketCalendar(name: "America/New_York") { _ in -5 * 3600 }
        let broker = PaperBroker(
            clock: clock, ledgerPath: folder + "/paper.jsonl", cash: Money(100_000), calendar: calendar)
        let harness = try await EngineHarness(
            journalPath: folder + "/journal.sqlite",
            accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(100_000))], clock: clock)
        let engine = harness.engine
        var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order"]))
        for (symbol, bid, ask) in [
            (call190, "5", "5.2"), (call200, "1", "1.1"), (put180, "0.3", "0.4"), (aapl, "194.9", "195"),
        ] {
            _ = try await engine.quote(quote(symbol, bid, ask, clock)).get()
        }
        // A debit call spread, 2 × (190 call bought at 5.20, 200 call sold at 1.00) = 4.20 a spread, and a
        // short put.
        let spread = try await engine.submit(
            SubmitOrder(
                account: paper, symbol: call190, side: .buyToOpen, qty: Quantity(2), type: .market,
                legs: [OrderLeg(symbol: call190, side: .buyToOpen), OrderLeg(symbol: call200, side: .sellToOpen)])
        ).get().order
        _ = await waiter.order(spread.orderID.rawValue, status: "filled")
        let put = try await engine.submit(
            SubmitOrder(account: paper, symbol: put180, side: .sellToOpen, qty: Quantity(1), type: .market)
        ).get().order
        _ = await waiter.order(put.orderID.rawValue, status: "filled")

        // AAPL ends the day at 195: the 190 call is 5 in the money, the 200 call and the 180 put are out.
        clock.advance(seconds: 5 * 3600 + 59 * 60)  // 15:59 New York
        _ = try await engine.quote(quote(aapl, "195", "195.02", clock)).get()
        clock.advance(seconds: 60)  // 16:00: the close
        await broker.advance()
        var booked: [String] = []
        while booked.count < 4,
            let event = await waiter.next(where: { event in
                ((event["order"] as? [String: Any])?["tags"] as? [String])?.contains("option_expiry") == true
                    && (event["order"] as? [String: Any])?["status"] as? String == "filled"
            })
        {
            let order = event["order"] as! [String: Any]
            booked.append(
                "\(order["symbol"]!) \(order["side"]!) \(order["qty"]!)@\(order["avg_fill_price"]!) \(order["tags"]!)")
        }
        #expect(
            booked.sorted() == [
                "AAPL  261218C00190000 sell_to_close 2@0 [\"option_expiry\", \"exercised\"]",
                "AAPL  261218C00200000 buy_to_close 2@0 [\"option_expiry\", \"expired\"]",
                "AAPL  261218P00180000 buy_to_close 1@0 [\"option_expiry\", \"expired\"]",
                "AAPL buy 200@190 [\"option_expiry\", \"exercised\"]",
            ])
        let positions = try await engine.positions(account: paper).get()
        #expect(positions.filter { !$0.qty.isZero }.map { "\($0.symbol) \($0.qty)" } == ["AAPL 200"])
        // Cash: −2 × 4.20 × 100 = −840 for the spread, +0.30 × 100 = +30 for the put, −200 × 190 = −38,000.
        #expect(try await engine.account(paper).get().cash == Money(100_000 - 840 + 30 - 38_000))
        // The broker booked the same: its ledger's positions agree with the journal.
        #expect(try await broker.positions().map { "\($0.symbol) \($0.qty)" } == ["AAPL 200"])
        try await harness.stop()
    }
}
