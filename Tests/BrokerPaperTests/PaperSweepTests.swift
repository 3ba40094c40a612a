import BrokerAPI
import BrokerPaper
import Foundation
import GatewayCore
import Synchronization
import Testing

/// A quote through more resting orders than one step matches (`PaperBroker.sweepStep`): called on the
/// engine's thread (`callNow`), it matches a step of them and leaves the rest for `continueNow`, and
/// whatever else the broker is asked first finishes the pass. The fills, their order and their prices are
/// those of the whole pass made at once (`receive`), whenever the steps run.
@Suite(.timeLimit(.minutes(1)))
struct PaperSweepTests {
    struct FixedClock: WallClock {
        func now() -> Timestamp { Timestamp(nanosecondsSinceEpoch: 1_795_600_000_000_000_000) }
    }

    static let resting = 35
    static let step = 10

    func buy(_ n: Int) -> Order {
        Order(
            orderID: OrderID("o-\(n)")!, clientOrderID: ClientOrderID("c-\(n)")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: .buy, qty: Quantity(1), type: .limit, limitPrice: Price(10),
            tif: .day, createdAt: FixedClock().now())
    }

    /// Offers `size` shares at 9.50, under every resting limit.
    func quote(size: Int) -> Quote {
        Quote(
            symbol: Symbol("AAPL")!, bid: Price(9), ask: Price("9.5")!, ts: FixedClock().now(),
            askSize: Quantity(size))
    }

    /// A connected broker with `resting` limit buys working, each acknowledged, and its reports taken
    /// from now on by `reported`.
    func broker(step: Int = Self.step) async throws -> (PaperBroker, Reported) {
        let broker = PaperBroker(clock: FixedClock())
        broker.setSweepStep(step)
        let reported = Reported()
        broker.deliverEvents { reported.add($0) }
        try await broker.connect()
        for n in 1...Self.resting { try await broker.submit(buy(n)) }
        _ = reported.take()
        return (broker, reported)
    }

    final class Reported: Sendable {
        private let events = Mutex<[BrokerEvent]>([])
        func add(_ event: BrokerEvent) { events.withLock { $0.append(event) } }
        func take() -> [BrokerEvent] {
            events.withLock { events in
                defer { events = [] }; return events
            }
        }
    }

    /// "order qty@price" for each fill; the other events by name.
    static func describe(_ events: [BrokerEvent]) -> [String] {
        events.map { event in
            switch event {
            case .fill(let fill): "\(fill.orderID) \(fill.qty)@\(fill.price)"
            case .cancelRejected(let id, _, _): "cancel rejected \(id)"
            case .canceled(let id, _, _): "canceled \(id)"
            default: "\(event)"
            }
        }
    }

    /// `call` on the broker's caller's thread: what it delivered.
    static func callNow(_ broker: PaperBroker, _ call: BrokerCall) -> [BrokerEvent] {
        var delivered: [BrokerEvent] = []
        broker.callNow(call) { _, events in delivered = events }
        return delivered
    }

    static func continueNow(_ broker: PaperBroker) -> [BrokerEvent] {
        var delivered: [BrokerEvent] = []
        broker.continueNow { delivered = $0 }
        return delivered
    }

    /// What the whole pass reports for `quotes` made at once, then `then`.
    func whole(_ quotes: [Quote], then call: BrokerCall? = nil) async throws -> [String] {
        let (broker, _) = try await broker(step: Int.max)
        var events = quotes.flatMap { Self.callNow(broker, .quote($0)) }
        if let call { events += Self.callNow(broker, call) }
        return Self.describe(events)
    }

    @Test func aQuoteThroughMoreOrdersThanAStepFillsThemStepByStepAsOnePassWould() async throws {
        let (broker, _) = try await broker()
        var steps = [Self.describe(Self.callNow(broker, .quote(quote(size: 25))))]
        while broker.hasUnfinishedWork {
            steps.append(Self.describe(Self.continueNow(broker)))
            try #require(steps.count <= Self.resting)
        }
        // 35 orders, ten a step; the quote's 25 shares go to the oldest 25.
        #expect(steps.map(\.count) == [10, 10, 5, 0])
        #expect(steps.flatMap { $0 } == (1...25).map { "o-\($0) 1@10" })
        #expect(steps.flatMap { $0 } == (try await whole([quote(size: 25)])))
        #expect(!Self.continueNow(broker).contains { if case .fill = $0 { true } else { false } })
    }

    /// A cancel of an order the pass has yet to reach finds it filled, as it would after the whole pass.
    @Test func aCallMidPassFinishesThePassFirst() async throws {
        let (broker, _) = try await broker()
        let first = Self.describe(Self.callNow(broker, .quote(quote(size: 25))))
        #expect(first.count == Self.step)
        let rest = Self.describe(Self.callNow(broker, .cancel(buy(20))))
        #expect(first + rest == (try await whole([quote(size: 25)], then: .cancel(buy(20)))))
        #expect(rest.last == "cancel rejected o-20")
        #expect(!broker.hasUnfinishedWork)
        // An order the pass did not fill is still working, and cancels.
        #expect(Self.describe(Self.callNow(broker, .cancel(buy(30)))) == ["canceled o-30"])
    }

    /// A second quote first lets the pass of the one before it finish against its own size.
    @Test func aLaterQuoteWaitsForThePassBeforeIt() async throws {
        let (broker, reported) = try await broker()
        var events = Self.callNow(broker, .quote(quote(size: 25)))
        events += Self.callNow(broker, .quote(quote(size: 6)))
        while broker.hasUnfinishedWork { events += Self.continueNow(broker) }
        events += reported.take()
        let expected = try await whole([quote(size: 25), quote(size: 6)])
        #expect(Self.describe(events) == expected)
        #expect(expected == (1...31).map { "o-\($0) 1@10" })
    }

    /// The broker's own timer takes a step of a pass the engine left, and nothing else until it is done.
    @Test func theTimerTakesOneStepOfAnUnfinishedPass() async throws {
        let (broker, reported) = try await broker()
        #expect(Self.callNow(broker, .quote(quote(size: 25))).count == Self.step)
        await broker.advance()
        #expect(reported.take().count == Self.step)
        #expect(broker.hasUnfinishedWork)
        await broker.advance()
        await broker.advance()
        #expect(reported.take().count == 5)
        #expect(!broker.hasUnfinishedWork)
    }

    /// Reads made through the broker's own calls see the whole pass.
    @Test func aReadFinishesThePass() async throws {
        let (broker, reported) = try await broker()
        _ = Self.callNow(broker, .quote(quote(size: 25)))
        #expect(try await broker.openOrders().count == Self.resting - 25)
        #expect(reported.take().count == 15)
        #expect(!broker.hasUnfinishedWork)
    }
}
