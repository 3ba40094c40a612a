import BrokerAPI
import BrokerPaper
import Foundation
import GatewayCore
import GatewayTesting
import Journal
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Execution

/// The paper broker, with what the engine's calls on it found: whether each ran on an event loop's thread
/// (the engine's: the harness has no other) and what the journal held of the order then.
final class WatchedDirectBroker: DirectBroker, QuoteConsumer {
    let paper: PaperBroker
    struct Call: Sendable {
        var onEngineThread: Bool
        var journaled: [String]
    }
    private let state = Mutex<(journal: EventJournal?, calls: [Call])>((nil, []))
    /// What happened on the engine's thread, in order: each submit's call is logged as `call`, and a test
    /// adds its own.
    let log = Mutex<[String]>([])

    init(_ paper: PaperBroker) { self.paper = paper }

    func watch(_ journal: EventJournal) { state.withLock { $0.journal = journal } }
    var calls: [Call] { state.withLock { $0.calls } }

    var brokerName: String { paper.brokerName }
    var events: AsyncStream<BrokerEvent> { paper.events }
    func connect() async throws(BrokerError) { try await paper.connect() }
    func disconnect() async { await paper.disconnect() }
    func unsupportedReason(for order: Order) -> String? { paper.unsupportedReason(for: order) }
    func submit(_ order: Order) async throws(BrokerError) { Issue.record("called through a task") }
    func cancel(_ order: Order) async throws(BrokerError) { Issue.record("called through a task") }
    func replace(_ order: Order, with replacement: Order) async throws(BrokerError) {
        Issue.record("called through a task")
    }
    func orderReport(for orderID: OrderID) async throws(BrokerError) -> BrokerOrderReport? {
        try await paper.orderReport(for: orderID)
    }
    func openOrders() async throws(BrokerError) -> [BrokerOrderReport] { try await paper.openOrders() }
    func positions() async throws(BrokerError) -> [BrokerPositionReport] { try await paper.positions() }
    func accountReport() async throws(BrokerError) -> BrokerAccountReport { try await paper.accountReport() }
    func reconcile(tag: UInt64, since: Timestamp?) async throws(BrokerError) {
        try await paper.reconcile(tag: tag, since: since)
    }
    func receive(_ quote: Quote) async { Issue.record("called through a task") }
    func deliverEvents(to sink: @escaping @Sendable (BrokerEvent) -> Void) { paper.deliverEvents(to: sink) }

    func callNow(_ call: BrokerCall, deliver: (Result<BrokerOrderReport?, BrokerError>, [BrokerEvent]) -> Void) {
        if case .submit(let order) = call {
            let journal = state.withLock { $0.journal }
            let records = (try? journal?.records(matching: JournalQuery(orderID: order.orderID.rawValue))) ?? []
            let call = Call(
                onEngineThread: MultiThreadedEventLoopGroup.currentEventLoop != nil,
                journaled: records.map { CommitLingerTests.change(of: $0) })
            state.withLock { $0.calls.append(call) }
            log.withLock { $0.append("call") }
        }
        paper.callNow(call, deliver: deliver)
    }
}

/// A broker that works in memory (`DirectBroker`, the paper broker) is called on the engine's thread once
/// the request is committed, and what it reports is handled in the order reported, after the call's result.
@Suite(.timeLimit(.minutes(1)))
struct DirectBrokerTests {
    let folder = EngineHarness.temporaryFolder()

    /// An engine over the watched paper broker, which has a quote for `aapl`.
    func watchedPaperEngine() async throws -> (WatchedDirectBroker, EngineHarness) {
        let clock = ManualWallClock()
        let broker = WatchedDirectBroker(PaperBroker(clock: clock))
        let harness = try await EngineHarness(
            journalPath: folder + "/journal.sqlite",
            accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(100_000))], clock: clock)
        broker.watch(harness.journal)
        _ = try await harness.engine.quote(Quote(symbol: aapl, bid: Price(99), ask: Price(100), ts: clock.now())).get()
        return (broker, harness)
    }

    @Test func theCallFollowsTheCommitOnTheEngineThreadAndTheReportsFollowTheResult() async throws {
        let (broker, harness) = try await watchedPaperEngine()
        let engine = harness.engine
        var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let order = try await engine.submit(buy(3)).get().order
        #expect(await waiter.order(order.orderID.rawValue, status: "filled") != nil)

        let calls = broker.calls
        #expect(calls.count == 1)
        #expect(calls.first?.onEngineThread == true)
        // The order was in the journal before the broker saw it.
        #expect(calls.first?.journaled == ["accepted"])
        // The broker's answer (`submitted`) before its reports, each journaled once, in the order reported.
        let records = try harness.journal.records(matching: JournalQuery(orderID: order.orderID.rawValue))
        #expect(
            records.map(CommitLingerTests.change(of:)) == ["accepted", "submitted", "acknowledged", "fill", "filled"])
        try await harness.stop()
    }

    /// A batch's answers are all handed out, then the `afterAnswers` hooks run (where the control server
    /// sends them, one write per connection), then the batch's broker calls take the thread.
    @Test func theBatchsAnswersThenTheHooksThenTheBrokerCalls() async throws {
        let (broker, harness) = try await watchedPaperEngine()
        let engine = harness.engine
        engine.afterAnswers { broker.log.withLock { $0.append("hooks") } }
        let (answered, done) = AsyncStream.makeStream(of: Void.self)
        // Enqueued together on the engine's thread: one batch, one commit.
        harness.loop.execute {
            for qty in 1...3 {
                engine.submit(buy(qty)) { result in
                    broker.log.withLock { $0.append((try? result.get()) != nil ? "answer" : "failure") }
                    if qty == 3 { done.yield() }
                }
            }
        }
        for await _ in answered { break }
        // Other batches (the quote's) may have run the hooks before; this batch's entries follow in one run.
        var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order"]))
        for _ in 1...3 { _ = await waiter.next { ($0["order"] as? [String: Any])?["status"] as? String == "filled" } }
        #expect(
            broker.log.withLock { Array($0.drop { $0 != "answer" }.prefix(7)) } == [
                "answer", "answer", "answer", "hooks", "call", "call", "call",
            ])
        try await harness.stop()
    }

    /// The journal's tables' threads, asleep with nothing to copy, are woken for a batch's events only
    /// once its answers are handed out: the wake-up is not in front of the acknowledgement.
    @Test func theTablesAreWokenAfterTheBatchsAnswers() async throws {
        let (broker, harness) = try await watchedPaperEngine()
        let engine = harness.engine
        engine.afterAnswers {
            let owed = harness.journal.tablesWakeOwed
            broker.log.withLock { $0.append(owed ? "hooks, tables asleep" : "hooks") }
        }
        // The tables hold everything so far (the quote's events): the submit's are the first to wait.
        _ = try harness.journal.records(after: 0, limit: 1)
        let order = try await engine.submit(buy(2)).get().order
        // Filled after the broker's call, which follows the hooks.
        var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order"]))
        #expect(await waiter.order(order.orderID.rawValue, status: "filled") != nil)
        #expect(broker.log.withLock { Array($0.prefix(2)) } == ["hooks, tables asleep", "call"])
        // Once the engine's thread has finished the batch that published the fill, nothing is owed.
        try await harness.loop.submit {}.get()
        #expect(!harness.journal.tablesWakeOwed)
        try await harness.stop()
    }

    @Test func reportsMadeOutsideACallReachTheEngineToo() async throws {
        let clock = ManualWallClock()
        // The order reaches the market 20 ms after the submit: `advance()` delivers its acknowledgement and
        // fill later, on the test's thread.
        let paperBroker = PaperBroker(
            clock: clock, rules: PaperRules(latency: PaperLatency(acknowledgement: .milliseconds(20))))
        let harness = try await EngineHarness(
            journalPath: folder + "/journal.sqlite",
            accounts: [EngineAccount(id: paper, adapter: paperBroker, openingCash: Money(100_000))], clock: clock)
        let engine = harness.engine
        _ = try await engine.quote(Quote(symbol: aapl, bid: Price(99), ask: Price(100), ts: clock.now())).get()
        var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let order = try await engine.submit(buy(3)).get().order
        // `submitted` is the call's result: the broker has the order on its way.
        #expect(await waiter.order(order.orderID.rawValue, status: "submitted") != nil)
        #expect(await paperBroker.pendingCount == 1)
        clock.advance(nanoseconds: 20_000_000)
        await paperBroker.advance()
        #expect(await waiter.order(order.orderID.rawValue, status: "filled") != nil)
        #expect(await paperBroker.pendingCount == 0)
        let records = try harness.journal.records(matching: JournalQuery(orderID: order.orderID.rawValue))
        #expect(
            records.map(CommitLingerTests.change(of:)) == ["accepted", "submitted", "acknowledged", "fill", "filled"])
        try await harness.stop()
    }
}
