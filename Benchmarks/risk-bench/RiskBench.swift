import ArgumentParser
import BenchSupport
import Foundation
import GatewayCore
import Glibc
import Histogram
import MallocInterposerSwift

/// The full pre-trade check as the engine runs it for one new order — the idempotency lookup of its
/// `client_order_id`, the trading day, the context read off the account's `RiskBook`, and every rule of
/// `PreTradeRisk` — against an account holding 1 000 positions and 10 000 working orders, with every limit
/// set (issue: pre-trade risk, "Measure").
///
/// Each check is timed on its own with the monotonic clock; the clock's own cost is measured in the same
/// run and printed beside it (and subtracted in the "net" column). Heap allocations inside the measured
/// loop are counted by the malloc interposer: the benchmark re-executes itself with the interposer
/// preloaded when it was not. For comparison it also times the context built the way a naive engine
/// would, by walking every position and working order.
@main
struct RiskBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "risk-bench", abstract: "Measure the pre-trade check against a large account.")

    @Option(help: "Positions in the account.") var positions = 1_000
    @Option(help: "Working orders in the account.") var orders = 10_000
    @Option(help: "Checks per run.") var checks = 200_000
    @Option(help: "Runs; medians across runs are printed last.") var runs = 5

    func run() throws {
        try InterposerPreload.reexecIfNeeded()
        let fixture = Fixture(positions: positions, orders: orders)
        print(
            "risk-bench: \(positions) positions, \(orders) working orders, \(checks) checks a run, \(runs) runs; "
                + "every limit set")
        var medians: [String: [Double]] = [:]
        for run in 1...runs {
            let timer = Self.measure(checks) { _ in 0 }
            var state = fixture.state
            let full = Self.measure(checks) { i in fixture.check(i, state: &state) }
            let rejected = Self.measure(checks / 10) { i in fixture.check(i, state: &state, failing: true) }
            let walk = Self.measure(max(100, checks / 1_000)) { i in fixture.walkContext(i) }
            for (name, result) in [
                ("clock_gettime alone", timer), ("full check (passes)", full), ("full check (rejected)", rejected),
                ("naive context walk", walk),
            ] {
                print(
                    "run \(run)  \(name.padding(toLength: 22, withPad: " ", startingAt: 0))"
                        + "  p50 \(result.p50) ns  p99 \(result.p99) ns  net p50 \(max(0, result.p50 - timer.p50)) ns"
                        + "  allocations/check \(String(format: "%.3f", result.allocationsPerCall))")
                medians["\(name) p50", default: []].append(Double(result.p50))
                medians["\(name) p99", default: []].append(Double(result.p99))
                medians["\(name) allocations/check", default: []].append(result.allocationsPerCall)
            }
        }
        print("\nmedians of \(runs) runs:")
        for key in medians.keys.sorted() {
            let values = medians[key]!.sorted()
            print("  \(key.padding(toLength: 42, withPad: " ", startingAt: 0)) \(values[values.count / 2])")
        }
    }

    struct Result {
        var p50: Int
        var p99: Int
        var allocationsPerCall: Double
    }

    /// Times `count` calls of `body` one by one and counts the allocations they made.
    static func measure(_ count: Int, _ body: (Int) -> Int) -> Result {
        var samples = [UInt64](repeating: 0, count: count)
        var sink = 0
        for i in 0..<min(count, 1_000) { sink &+= body(i) }  // warm caches and branch predictors
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        var time = timespec()
        for i in 0..<count {
            clock_gettime(CLOCK_MONOTONIC, &time)
            let start = UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
            sink &+= body(i)
            clock_gettime(CLOCK_MONOTONIC, &time)
            samples[i] = UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec) &- start
        }
        MallocInterposerSwift.unhook()
        let allocations = MallocInterposerSwift.getStatistics().mallocCount
        if sink == Int.min { print(sink) }
        var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        for sample in samples { _ = histogram.record(max(1, sample)) }
        return Result(
            p50: Int(histogram.valueAtPercentile(50)), p99: Int(histogram.valueAtPercentile(99)),
            allocationsPerCall: Double(allocations) / Double(count))
    }
}

/// An account with many positions and working orders, every limit set, and the orders to check.
struct Fixture {
    struct State {
        var book: RiskBook
        var days = SessionDayCache()
    }

    let account = AccountID("bench")!
    let symbols: [Symbol]
    let marks: [Symbol: Price]
    let clientIndex: [ClientOrderID: OrderID]
    let candidates: [(ClientOrderID, RiskOrder)]
    let failing: [(ClientOrderID, RiskOrder)]
    let limits: RiskLimits
    let session: TradingSession
    let state: State
    let accountBook: AccountBook
    let working: [Order]
    let now = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)

    init(positions: Int, orders: Int) {
        let symbols = (0..<positions).map { Symbol("S\($0)")! }
        self.symbols = symbols
        var marks: [Symbol: Price] = [:]
        var book = AccountBook(account: account, openingCash: Money(100_000_000))
        var risk = RiskBook(openingCash: Money(100_000_000), rateWindow: 1_000)
        for (i, symbol) in symbols.enumerated() {
            let price = Price(50 + i % 200)
            marks[symbol] = price
            let fill = Fill(
                fillID: FillID("f\(i)")!, orderID: OrderID("seed-\(i)")!, clientOrderID: ClientOrderID("seed-\(i)")!,
                account: account, symbol: symbol, side: i % 3 == 0 ? .sellShort : .buy, qty: Quantity(10 + i % 50),
                price: price, commission: .zero, ts: now)
            book.apply(fill)
            risk.update(from: book, symbol: symbol)
            risk.mark(symbol, at: price)
        }
        var index: [ClientOrderID: OrderID] = [:]
        var working: [Order] = []
        for i in 0..<orders {
            let symbol = symbols[i % positions]
            var order = Order(
                orderID: OrderID("bench-\(i)")!, clientOrderID: ClientOrderID("client-\(i)")!, account: account,
                symbol: symbol, side: i % 2 == 0 ? .buy : .sell, qty: Quantity(5), type: .limit,
                limitPrice: marks[symbol]!, tif: .day, createdAt: now)
            order.status = .acknowledged
            risk.track(order, previous: nil)
            index[order.clientOrderID] = order.orderID
            working.append(order)
        }
        for i in 0..<500 {
            risk.recordAccepted(at: now, sessionDate: CalendarDate(daysSinceEpoch: 20_775 + Int64(i % 1)))
        }
        self.marks = marks
        let account = self.account
        _ = account
        self.clientIndex = index
        self.working = working
        accountBook = book
        candidates = (0..<4_096).map { i in
            let symbol = symbols[(i * 7) % positions]
            return (
                ClientOrderID("new-\(i)")!,
                RiskOrder(
                    symbol: symbol, side: .buy, qty: Quantity(10), type: .limit,
                    limitPrice: marks[symbol]! + Price("0.10")!)
            )
        }
        failing = (0..<4_096).map { i in
            let symbol = symbols[(i * 7) % positions]
            return (
                ClientOrderID("bad-\(i)")!,
                RiskOrder(symbol: symbol, side: .buy, qty: Quantity(100_000), type: .stop, stopPrice: Price(1))
            )
        }
        limits = RiskLimits(
            maxOrderQty: Quantity(10_000), maxOrderNotional: Money(5_000_000), maxPositionQty: Quantity(100_000),
            maxPositionNotional: Money(10_000_000), maxGrossExposure: Money(1_000_000_000),
            maxNetExposure: Money(500_000_000), maxOpenOrders: 50_000, maxOrdersPerSecond: 1_000,
            maxOrdersPerDay: 1_000_000, maxDailyLoss: Money(1_000_000), maxDrawdown: Money(5_000_000),
            priceCollarPct: Price(10), requireReferencePrice: true, restrictedSymbols: [Symbol("GME")!],
            allowedSymbols: Set(symbols), allowedOrderTypes: [.market, .limit, .stopLimit],
            maxOptionContracts: Quantity(50), allowShort: true, buyingPowerMultiplier: Price(4))
        let zone = TimeZone(identifier: "America/New_York")!
        session = TradingSession(name: "America/New_York 09:30", startMinutes: 570) { ts in
            Int64(
                zone.secondsFromGMT(
                    for: Date(timeIntervalSince1970: TimeInterval(ts.nanosecondsSinceEpoch / 1_000_000_000))))
        }
        state = State(book: risk)
    }

    /// One new order through the whole check: the number of failed checks.
    func check(_ i: Int, state: inout State, failing: Bool = false) -> Int {
        let (clientID, order) = (failing ? self.failing : candidates)[i & 4_095]
        if clientIndex[clientID] != nil { return -1 }  // a duplicate answers the existing order
        let now = Timestamp(nanosecondsSinceEpoch: self.now.nanosecondsSinceEpoch + Int64(i))
        let today = state.days.date(of: now, in: session)
        let context = state.book.context(for: order.symbol, now: now, today: today)
        return PreTradeRisk.evaluate(order, limits: limits, context: context).count
    }

    /// The context the way a naive engine builds it: a walk over every working order and position.
    func walkContext(_ i: Int) -> Int {
        let order = candidates[i & 4_095].1
        var context = RiskContext(referencePrice: marks[order.symbol])
        for open in working {
            context.openOrders += 1
            guard open.symbol == order.symbol else { continue }
            if open.side.isBuy { context.openBuyQty += open.leavesQty } else { context.openSellQty += open.leavesQty }
        }
        for position in accountBook.positions.values where !position.isFlat {
            let value = position.marketValue(at: marks[position.symbol])
            context.grossExposure += value.magnitude
            context.netExposure += value
        }
        return PreTradeRisk.evaluate(order, limits: limits, context: context).count
    }
}
