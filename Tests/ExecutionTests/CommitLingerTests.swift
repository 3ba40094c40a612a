import BrokerAPI
import Foundation
import GatewayCore
import GatewayTesting
import Journal
import NIOCore
import Synchronization
import Testing

@testable import Execution

/// The engine's timer, run by the test: until `hold()`, it runs the work `later` is handed at once (on
/// the engine's thread); after, it keeps it, says when, and runs it when told.
final class ManualTimer: Sendable {
    private struct State {
        var pending: [@Sendable () -> Void] = []
        var loop: (any EventLoop)?
        var arms: AsyncStream<Void>.Continuation?
        var holding = false
    }
    private let state = Mutex(State())

    func later(_ loop: any EventLoop, _ delay: Int64, _ body: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            state.loop = loop
            guard state.holding else { return true }
            state.pending.append(body)
            state.arms?.yield()
            return false
        }
        if now { loop.execute(body) }
    }

    /// Keeps what the engine hands it from now on, until `fire()`.
    func hold() { state.withLock { $0.holding = true } }

    /// Says each time the engine hands it work from now on.
    func armsFromNow() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        state.withLock { $0.arms = continuation }
        return stream
    }

    /// Runs what is pending (or the `first` that many of it, oldest first) on the engine's thread and
    /// waits for it.
    func fire(first: Int? = nil) async throws {
        let (loop, pending) = state.withLock { state in
            let count = min(first ?? state.pending.count, state.pending.count)
            defer { state.pending.removeFirst(count) }
            return (state.loop, Array(state.pending.prefix(count)))
        }
        guard let loop else { return }
        for body in pending { try await loop.submit { body() }.get() }
    }

    /// `body` on the engine's thread, outside the inbox (so nothing is committed by asking).
    func onEngine<T: Sendable>(_ engine: ExecutionEngine, _ body: @escaping @Sendable (isolated ExecutionEngine) -> T)
        async throws -> T
    {
        let loop = try #require(state.withLock { $0.loop })
        return try await loop.submit { engine.assumeIsolated { body($0) } }.get()
    }
}

/// With a durable journal a batch of broker events alone waits (`commitLinger`) for a request to share
/// its commit; nothing of it is journaled, published or acted on before that commit.
@Suite(.timeLimit(.minutes(1)))
struct CommitLingerTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }

    func journaled(_ orderID: OrderID, in journal: EventJournal) throws -> [String] {
        // The journal's reads see what was appended (committed), not what is staged for the next batch.
        try journal.records(matching: JournalQuery(orderID: orderID.rawValue)).map(Self.change(of:))
    }

    /// An order record's change (`accepted`, `filled`), or the record's kind.
    static func change(of record: JournalRecord) -> String {
        let payload = try? JSONSerialization.jsonObject(with: Data(record.payload.utf8)) as? [String: Any]
        return (payload?["change"] as? String) ?? record.kind
    }

    /// An engine whose timer the test holds, with one limit order submitted whose broker answer
    /// (`submitted`) waits for the timer (the first it holds). The broker acknowledges when the test says.
    func submittedAndLingering() async throws -> (
        harness: EngineHarness, broker: FakeBroker, timer: ManualTimer, order: Order,
        armed: AsyncStream<Void>.Iterator, status: @Sendable () async throws -> OrderStatus?
    ) {
        let timer = ManualTimer()
        let broker = FakeBroker()
        await broker.configure { $0.acknowledges = false }
        let harness = try await EngineHarness(
            journalPath: journalPath,
            accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(100_000))],
            commitLinger: 300_000, later: timer.later)
        let engine = harness.engine
        // The start's reconciliation with the broker is a batch of broker events too, and it holds
        // requests back until it is committed: the timer runs at once until the engine answers.
        #expect(await engine.ping())
        timer.hold()
        var armed = timer.armsFromNow().makeAsyncIterator()
        // A request commits whatever waits; from here on, only the test's orders come from the broker.
        #expect(await engine.ping())

        // The submit is committed and answered at once; the broker's answer is handled, and waits.
        let order = try await engine.submit(buy(1, limit: "10", id: "l-1")).get().order
        let id = order.orderID
        let status: @Sendable () async throws -> OrderStatus? = {
            try await timer.onEngine(engine) { $0.orders.live[id]?.status }
        }
        // Each batch of broker events alone that finds none waiting sets the timer; the broker's answer
        // to the submit is one.
        repeat { await armed.next() } while try await status() != .submitted
        return (harness, broker, timer, order, armed, status)
    }

    @Test func brokerEventsWaitForTheTimerOrTheNextRequestAndAreCommittedWithIt() async throws {
        let (harness, broker, timer, order, lingering, status) = try await submittedAndLingering()
        let (engine, id) = (harness.engine, order.orderID)
        var armed = lingering
        #expect(try journaled(id, in: harness.journal) == ["accepted"])
        // The timer runs out: it is committed.
        try await timer.fire()
        #expect(try journaled(id, in: harness.journal) == ["accepted", "submitted"])

        // The acknowledgement waits in turn, and goes out with the next request's commit.
        var waiter = EventWaiter(engine.subscribe(afterSeq: nil, kinds: ["order"]))
        await broker.emit(.acknowledged(id, brokerOrderID: "B-1", ts: order.createdAt))
        repeat { await armed.next() } while try await status() != .acknowledged
        #expect(try journaled(id, in: harness.journal) == ["accepted", "submitted"])
        let open = try await engine.orders(OrderFilter()).get()
        #expect(open.map(\.status) == [.acknowledged])
        #expect(try journaled(id, in: harness.journal) == ["accepted", "submitted", "acknowledged"])
        #expect(await waiter.order(id.rawValue, status: "acknowledged") != nil)
        // The timer finds nothing left to commit.
        try await timer.fire()
        #expect(try journaled(id, in: harness.journal) == ["accepted", "submitted", "acknowledged"])
        try await harness.stop()
    }

    /// A linger that a request's batch ended leaves its timer behind: when it runs out it must not commit
    /// the next linger's batch before that one's own time.
    @Test func anEndedLingersTimerDoesNotCutTheNextOneShort() async throws {
        let (harness, broker, timer, order, lingering, status) = try await submittedAndLingering()
        let (engine, id) = (harness.engine, order.orderID)
        var armed = lingering
        // A request ends the first timer's linger and commits the broker's answer.
        _ = try await engine.orders(OrderFilter()).get()
        #expect(try journaled(id, in: harness.journal) == ["accepted", "submitted"])
        // The acknowledgement lingers in turn (the second timer).
        await broker.emit(.acknowledged(id, brokerOrderID: "B-1", ts: order.createdAt))
        repeat { await armed.next() } while try await status() != .acknowledged
        // The first timer runs out: the acknowledgement goes on waiting.
        try await timer.fire(first: 1)
        #expect(try journaled(id, in: harness.journal) == ["accepted", "submitted"])
        // Its own timer commits it.
        try await timer.fire()
        #expect(try journaled(id, in: harness.journal) == ["accepted", "submitted", "acknowledged"])
        try await harness.stop()
    }
}
