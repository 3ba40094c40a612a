import GatewayCore
import Testing

@Suite struct ReportTests {
    let account = AccountID("acct")!
    let aapl = Symbol("AAPL")!
    let day0 = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)

    func at(day: Int, second: Int = 0) -> Timestamp {
        Timestamp(nanosecondsSinceEpoch: day0.nanosecondsSinceEpoch + Int64(day) * 86_400_000_000_000 + Int64(second))
    }

    func fill(_ side: OrderSide, _ qty: Int, _ price: String, day: Int = 0, commission: String = "0", n: Int)
        -> Fill
    {
        Fill(
            fillID: FillID("f\(n)")!, orderID: OrderID("o\(n)")!, clientOrderID: ClientOrderID("c\(n)")!,
            account: account, symbol: aapl, side: side, qty: Quantity(qty), price: Price(price)!,
            commission: Money(commission)!, ts: at(day: day, second: n))
    }

    func builder(_ scope: ReportScope = ReportScope()) -> ReportBuilder {
        var builder = ReportBuilder(scope: scope) { $0.date }
        builder.opened(account, cash: Money(10_000), at: day0)
        return builder
    }

    @Test func fillsAreMatchedFirstInFirstOutIntoOneRoundTripFromFlatToFlat() throws {
        var report = builder()
        report.fill(fill(.buy, 100, "10", commission: "1", n: 1), strategy: "s", tags: ["breakout"])
        report.fill(fill(.buy, 100, "12", commission: "1", n: 2), strategy: "s", tags: [])
        report.fill(fill(.sell, 150, "15", commission: "1.5", n: 3), strategy: "s", tags: [])
        report.fill(fill(.sell, 50, "11", commission: "0.5", n: 4), strategy: "s", tags: [])
        let trips = report.report().roundTrips
        try #require(trips.count == 1)
        // FIFO: 100 × (15 − 10) + 50 × (15 − 12) + 50 × (11 − 12) = 600, less 4 of commissions.
        #expect(trips[0].pnl == Money(596))
        #expect(trips[0].commissions == Money(4))
        #expect(trips[0].qty == Quantity(200))
        #expect(trips[0].entryPrice == Price(11))
        #expect(trips[0].exitPrice == Price(14))
        #expect(trips[0].side == "long" && trips[0].tags == ["breakout"] && trips[0].strategy == "s")
    }

    @Test func aFlipClosesOneTripAndOpensTheNextWithTheRest() throws {
        var report = builder()
        report.fill(fill(.buy, 100, "10", n: 1), strategy: nil, tags: [])
        report.fill(fill(.sell, 300, "20", commission: "3", n: 2), strategy: nil, tags: [])
        report.fill(fill(.buy, 200, "18", commission: "2", n: 3), strategy: nil, tags: [])
        let trips = report.report().roundTrips
        try #require(trips.count == 2)
        // The flip's commission is shared by quantity: 1 to the long trip, 2 to the short one.
        #expect(trips[0].side == "long" && trips[0].pnl == Money(999))
        #expect(trips[1].side == "short" && trips[1].qty == Quantity(200) && trips[1].pnl == Money(396))
    }

    @Test func theFiguresOfKnownTrades() throws {
        var report = builder()
        // Four round trips: +100, −50, +200, −100.
        for (n, (entry, exit)) in [("10", "11"), ("10", "9.5"), ("10", "12"), ("10", "9")].enumerated() {
            report.fill(fill(.buy, 100, entry, day: n, n: 2 * n), strategy: n % 2 == 0 ? "a" : "b", tags: [])
            report.fill(fill(.sell, 100, exit, day: n, n: 2 * n + 1), strategy: n % 2 == 0 ? "a" : "b", tags: [])
        }
        let result = report.report()
        let figures = result.figures
        #expect(figures.trades == 4)
        #expect(figures.winRate == Price("0.5"))
        #expect(figures.avgWin == Money(150))
        #expect(figures.avgLoss == Money(-75))
        #expect(figures.expectancy == Money("37.5"))
        #expect(figures.profitFactor == Price(2))
        #expect(figures.netPnL == Money(150))
        // Daily closes 10 100, 10 050, 10 250, 10 150: the deepest fall is 100 from 10 250.
        #expect(result.equityCurve.map(\.equity) == [10_100, 10_050, 10_250, 10_150].map { Money($0) })
        #expect(figures.maxDrawdown == Money(100))
        #expect(result.byStrategy["a"]?.trades == 2 && result.byStrategy["a"]?.netPnL == Money(300))
        #expect(result.byStrategy["b"]?.netPnL == Money(-150))
        #expect(result.bySymbol["AAPL"]?.trades == 4)
    }

    @Test func sharpeSortinoAndDrawdownOfAKnownCurve() {
        let curve = ["100", "110", "99", "108.9"].enumerated().map {
            EquityPoint(date: CalendarDate(daysSinceEpoch: Int64($0.offset)), equity: Money($0.element)!)
        }
        let figures = PerformanceFigures(trades: [], curve: curve)
        // Daily returns +10 %, −10 %, +10 %: mean 1/30, sample deviation 0.11547, downside 0.057735.
        #expect(figures.sharpe == Price("4.58257569"))
        #expect(figures.sortino == Price("9.16515139"))
        #expect(figures.maxDrawdown == Money(11))
        #expect(figures.maxDrawdownFraction == Price("0.1"))
        #expect(figures.winRate == nil && figures.profitFactor == nil)
    }

    @Test func theScopeSelectsStrategyAndTime() {
        var report = builder(ReportScope(strategy: "a", since: at(day: 1)))
        report.fill(fill(.buy, 10, "10", day: 0, n: 1), strategy: "a", tags: [])
        report.fill(fill(.sell, 10, "11", day: 0, n: 2), strategy: "a", tags: [])
        report.fill(fill(.buy, 10, "10", day: 1, n: 3), strategy: "a", tags: [])
        report.fill(fill(.sell, 10, "12", day: 1, n: 4), strategy: "a", tags: [])
        report.fill(fill(.buy, 10, "10", day: 1, n: 5), strategy: "b", tags: [])
        report.fill(fill(.sell, 10, "20", day: 1, n: 6), strategy: "b", tags: [])
        let result = report.report()
        #expect(result.figures.trades == 1)
        #expect(result.figures.netPnL == Money(20))
        // The curve starts at `since`, carrying what the strategy made before it.
        #expect(result.equityCurve.map(\.equity) == [Money(10_030)])
    }
}
