import BrokerAPI
import BrokerPaper
import Foundation
import GatewayCore
import Synchronization
import Testing

/// A clock the test moves.
final class SettableClock: WallClock {
    private let current: Mutex<Timestamp>
    init(_ text: String) { current = Mutex(Timestamp(rfc3339: text)!) }
    func now() -> Timestamp { current.withLock { $0 } }
    func set(_ text: String) { current.withLock { $0 = Timestamp(rfc3339: text)! } }
    func advance(milliseconds: Int64) {
        current.withLock { $0 = Timestamp(nanosecondsSinceEpoch: $0.nanosecondsSinceEpoch + milliseconds * 1_000_000) }
    }
}

/// Scripted sessions against the paper broker's market: its hours, queue, participation and latency.
struct PaperScript {
    let clock: SettableClock
    let broker: PaperBroker
    var iterator: AsyncStream<BrokerEvent>.Iterator

    static let newYork = MarketCalendar(name: "America/New_York") { ts in
        Int64(
            TimeZone(identifier: "America/New_York")!.secondsFromGMT(
                for: Date(timeIntervalSince1970: TimeInterval(ts.nanosecondsSinceEpoch / 1_000_000_000))))
    }

    init(at start: String, rules: PaperRules = PaperRules(), calendar: MarketCalendar? = PaperScript.newYork)
        async throws
    {
        clock = SettableClock(start)
        broker = PaperBroker(clock: clock, rules: rules, calendar: calendar)
        iterator = broker.events.makeAsyncIterator()
        try await broker.connect()
    }

    func order(
        _ id: String, _ side: OrderSide, _ qty: Int, type: OrderType = .market, limit: String? = nil,
        stop: String? = nil, tif: TimeInForce = .day, extendedHours: Bool = false
    ) -> Order {
        var order = Order(
            orderID: OrderID(id)!, clientOrderID: ClientOrderID("c-\(id)")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: side, qty: Quantity(qty), type: type, limitPrice: limit.flatMap(Price.init),
            stopPrice: stop.flatMap(Price.init), tif: tif, createdAt: clock.now())
        order.extendedHours = extendedHours ? true : nil
        return order
    }

    func quote(bid: String, ask: String, volume: String? = nil) async {
        await broker.receive(
            Quote(
                symbol: Symbol("AAPL")!, bid: Price(bid), ask: Price(ask), last: nil, ts: clock.now(),
                volume: volume.flatMap(Quantity.init)))
    }

    /// The next `count` events, described: `ack 1`, `fill 1 10@100`, `canceled 1`, `expired 1`.
    mutating func next(_ count: Int) async -> [String] {
        var out: [String] = []
        while out.count < count, let event = await iterator.next() {
            switch event {
            case .acknowledged(let id, _, _): out.append("ack \(id)")
            case .fill(let fill): out.append("fill \(fill.orderID) \(fill.qty)@\(fill.price)")
            case .canceled(let id, _, _): out.append("canceled \(id)")
            case .expired(let id, _): out.append("expired \(id)")
            default: out.append("\(event)")
            }
        }
        return out
    }

    func status(_ id: String) async throws -> OrderStatus? { try await broker.orderReport(for: OrderID(id)!)?.status }

    func refusal(_ order: Order) async -> String? {
        do {
            try await broker.submit(order)
            return nil
        } catch {
            return error.message
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct PaperHoursTests {
    @Test func aDayOrderExpiresAtTheCloseAndNothingFillsAfter() async throws {
        var script = try await PaperScript(at: "2026-12-02T15:00:00Z")  // 10:00 New York, a Wednesday
        try await script.broker.submit(script.order("1", .buy, 10, type: .limit, limit: "99"))
        await script.quote(bid: "99.5", ask: "99.6")
        script.clock.set("2026-12-02T20:59:59Z")
        await script.broker.advance()
        #expect(try await script.status("1") == .acknowledged)
        script.clock.set("2026-12-02T21:00:00Z")  // 16:00: the close
        await script.broker.advance()
        #expect(await script.next(2) == ["ack 1", "expired 1"])
        await script.quote(bid: "98", ask: "98.1")
        #expect(try await script.status("1") == .expired)
    }

    @Test func afterTheCloseAnOrderWaitsForTheOpenAndImmediateOrdersAreRefused() async throws {
        var script = try await PaperScript(at: "2026-12-04T22:00:00Z")  // Friday 17:00 New York
        await script.quote(bid: "100", ask: "100.1")
        try await script.broker.submit(script.order("1", .buy, 10))
        #expect(
            await script.refusal(script.order("2", .buy, 10, tif: .ioc))
                == "market closed: ioc orders are taken only in the session (09:30–16:00 America/New_York)")
        script.clock.set("2026-12-05T15:00:00Z")  // Saturday
        await script.quote(bid: "100", ask: "100.2")
        #expect(try await script.status("1") == .acknowledged)
        script.clock.set("2026-12-07T14:30:00Z")  // Monday 09:30
        await script.quote(bid: "101", ask: "101.1")
        #expect(await script.next(2) == ["ack 1", "fill 1 10@101.1"])
        // It belonged to Monday's session: it filled before Monday's close, not expired at Friday's.
        #expect(try await script.status("1") == .filled)
    }

    @Test func extendedHoursOrdersTradeBeforeTheOpenOthersWait() async throws {
        var script = try await PaperScript(at: "2026-12-03T13:00:00Z")  // 08:00 New York
        await script.quote(bid: "100", ask: "100.1")
        try await script.broker.submit(script.order("ext", .buy, 5, type: .limit, limit: "101", extendedHours: true))
        try await script.broker.submit(script.order("reg", .buy, 5, type: .limit, limit: "101"))
        #expect(await script.next(3) == ["ack ext", "fill ext 5@100.1", "ack reg"])
        script.clock.set("2026-12-03T14:30:00Z")
        await script.quote(bid: "100.2", ask: "100.3")
        // It rested until the open, then the market was through its limit: it fills at the limit.
        #expect(await script.next(1) == ["fill reg 5@101"])
    }

    @Test func anOpeningOrderFillsAtTheSessionsFirstQuoteAndAClosingOrderAtTheClose() async throws {
        var script = try await PaperScript(at: "2026-12-03T14:00:00Z")  // 09:00 New York
        await script.quote(bid: "99", ask: "100")
        try await script.broker.submit(script.order("open", .buy, 10, tif: .opg))
        await script.quote(bid: "99.5", ask: "100.5")  // still before the open
        #expect(try await script.status("open") == .acknowledged)
        script.clock.set("2026-12-03T14:29:00Z")
        #expect(
            await script.refusal(script.order("late", .buy, 1, tif: .opg))
                == "market closed for opg: opening orders are taken until 09:28 for the next open")
        script.clock.set("2026-12-03T14:30:00Z")
        await script.quote(bid: "100.4", ask: "100.6")
        #expect(await script.next(2) == ["ack open", "fill open 10@100.6"])

        script.clock.set("2026-12-03T15:00:00Z")
        try await script.broker.submit(script.order("close", .sell, 4, tif: .cls))
        try await script.broker.submit(script.order("lmt", .sell, 6, type: .limit, limit: "105", tif: .cls))
        await script.quote(bid: "101", ask: "101.2")  // a closing order does not trade in the session
        #expect(await script.next(2) == ["ack close", "ack lmt"])
        script.clock.set("2026-12-03T20:55:00Z")
        #expect(
            await script.refusal(script.order("too-late", .sell, 1, tif: .cls))
                == "market closed for cls: closing orders are taken until 15:50")
        await script.quote(bid: "102", ask: "102.1")
        script.clock.set("2026-12-03T21:00:00Z")
        await script.broker.advance()
        // The market order takes the last bid; the limit above it is canceled, as an unfilled closing order is.
        #expect(await script.next(2) == ["fill close 4@102", "canceled lmt"])
    }

    @Test func withoutACalendarTheMarketNeverClosesAndHasNoAuctions() async throws {
        var script = try await PaperScript(at: "2026-12-05T15:00:00Z", calendar: nil)  // a Saturday
        await script.quote(bid: "100", ask: "100.1")
        try await script.broker.submit(script.order("1", .buy, 1, tif: .ioc))
        #expect(await script.next(2) == ["ack 1", "fill 1 1@100.1"])
        #expect(script.broker.unsupportedReason(for: script.order("2", .buy, 1, tif: .opg)) != nil)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct PaperQueueTests {
    /// How many quotes at its limit a resting buy waits before it fills, for each seed.
    func waits(seeds: ClosedRange<UInt64>, chance: String) async throws -> [Int] {
        var waits: [Int] = []
        for seed in seeds {
            var script = try await PaperScript(
                at: "2026-12-03T15:00:00Z", rules: PaperRules(queueFillProbability: Price(chance)!, seed: seed))
            await script.quote(bid: "99.9", ask: "100.1")
            try await script.broker.submit(script.order("1", .buy, 1, type: .limit, limit: "100"))
            var quotes = 0
            while try await script.status("1") != .filled, quotes < 100 {
                await script.quote(bid: "99.9", ask: "100")  // the touch is the limit: the queue decides
                quotes += 1
            }
            #expect(await script.next(2) == ["ack 1", "fill 1 1@100"])
            waits.append(quotes)
        }
        return waits
    }

    @Test func atTheTouchARestingLimitFillsByItsSeededQueueChance() async throws {
        let first = try await waits(seeds: 1...12, chance: "0.3")
        #expect(try await waits(seeds: 1...12, chance: "0.3") == first)  // the same seeds, the same session
        #expect(Set(first).count > 1)  // and the chance differs by seed
        #expect(first.allSatisfy { (1...100).contains($0) })
        #expect(try await waits(seeds: 1...3, chance: "1") == [1, 1, 1])
    }

    @Test func withNoChanceAtTheTouchOnlyTradingThroughFillsIt() async throws {
        var script = try await PaperScript(at: "2026-12-03T15:00:00Z", rules: PaperRules(queueFillProbability: .zero))
        await script.quote(bid: "99.9", ask: "100.1")
        try await script.broker.submit(script.order("1", .buy, 3, type: .limit, limit: "100"))
        for _ in 0..<20 { await script.quote(bid: "99.9", ask: "100") }
        #expect(try await script.status("1") == .acknowledged)
        await script.quote(bid: "99.8", ask: "99.95")
        #expect(await script.next(2) == ["ack 1", "fill 1 3@100"])
    }

    @Test func fillsTakeAtMostTheParticipationRateOfVolume() async throws {
        var script = try await PaperScript(
            at: "2026-12-03T15:00:00Z", rules: PaperRules(participation: Price("0.1")!))
        await script.quote(bid: "100", ask: "100.1", volume: "1000")
        try await script.broker.submit(script.order("1", .buy, 250))
        // 10 % of 1,000 traded: 100 now; a quote without volume adds nothing; 10 % of 1,505 (150) then.
        await script.quote(bid: "100", ask: "100.2")
        await script.quote(bid: "100", ask: "100.3", volume: "1505")
        await script.quote(bid: "100", ask: "100.4", volume: "9000")
        #expect(
            await script.next(3) == ["ack 1", "fill 1 100@100.1", "fill 1 150@100.3"])
        #expect(try await script.status("1") == .filled)
    }

    @Test func acknowledgementsAndReportsArriveAfterTheirLatency() async throws {
        var script = try await PaperScript(
            at: "2026-12-03T15:00:00Z",
            rules: PaperRules(
                latency: PaperLatency(acknowledgement: .milliseconds(50), report: .milliseconds(20))))
        await script.quote(bid: "100", ask: "100.1")
        try await script.broker.submit(script.order("1", .buy, 10))
        #expect(await script.broker.pendingCount == 1)  // on its way to the market
        await script.quote(bid: "99", ask: "99.1")  // the market moves before it arrives
        script.clock.advance(milliseconds: 49)
        await script.broker.advance()
        #expect(await script.broker.pendingCount == 1)
        script.clock.advance(milliseconds: 1)
        await script.broker.advance()
        #expect(await script.next(1) == ["ack 1"])  // it arrives, and fills at the market it finds
        #expect(await script.broker.pendingCount == 1)  // the fill's report, held 20 ms
        script.clock.advance(milliseconds: 20)
        await script.broker.advance()
        #expect(await script.next(1) == ["fill 1 10@99.1"])
        #expect(await script.broker.pendingCount == 0)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct PaperOrderTypeTests {
    @Test func aStopLimitTriggersThenRestsAsALimitThatFillsAtItsLimit() async throws {
        var script = try await PaperScript(at: "2026-12-03T15:00:00Z")
        await script.quote(bid: "100", ask: "100.1")
        // Sell 10 if the market falls to 99, not below 98.5.
        try await script.broker.submit(script.order("1", .sell, 10, type: .stopLimit, limit: "98.5", stop: "99"))
        await script.quote(bid: "99.5", ask: "99.6")  // above the stop: nothing
        await script.quote(bid: "98", ask: "98.1")  // triggered, but the bid is below the limit: it rests
        #expect(try await script.status("1") == .acknowledged)
        await script.quote(bid: "98.7", ask: "98.8")  // traded through its limit: fills at the limit
        #expect(await script.next(2) == ["ack 1", "fill 1 10@98.5"])
    }

    @Test func aStopGappedThroughFillsAtTheMarketNotAtTheStop() async throws {
        var script = try await PaperScript(at: "2026-12-03T15:00:00Z")
        await script.quote(bid: "100", ask: "100.1")
        try await script.broker.submit(script.order("1", .sell, 10, type: .stop, stop: "99"))
        await script.quote(bid: "97", ask: "97.2")
        #expect(await script.next(2) == ["ack 1", "fill 1 10@97"])
    }

    @Test func aGtcOrderOutlivesTheCloseAndFillsTheNextDay() async throws {
        var script = try await PaperScript(at: "2026-12-03T15:00:00Z")
        await script.quote(bid: "100", ask: "100.1")
        try await script.broker.submit(script.order("gtc", .buy, 5, type: .limit, limit: "99", tif: .gtc))
        try await script.broker.submit(script.order("day", .buy, 5, type: .limit, limit: "99"))
        script.clock.set("2026-12-03T21:00:00Z")
        await script.broker.advance()
        #expect(await script.next(3) == ["ack gtc", "ack day", "expired day"])
        script.clock.set("2026-12-04T14:30:00Z")
        await script.quote(bid: "98.8", ask: "98.9")
        #expect(await script.next(1) == ["fill gtc 5@99"])
    }
}
