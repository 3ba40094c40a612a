import BrokerAPI
import Foundation
import GatewayCore
import GatewayTesting
import Journal
import Synchronization
import Testing

@testable import Execution

/// A `cancel_all`, or a halt that cancels, over more open orders than one slice (`CancelPass`): the
/// cancels go out a slice at a time, each slice journaled before the next (which waits for the timer,
/// held here), requests are answered between two slices, and the answer comes once the last is
/// journaled. The resting buys of `BurstTests.restingBuys`, in slices of 8.
extension BurstTests {
    /// What one `cancel_all` handed out: the orders of each slice, and its answer once it came.
    final class CancelAllCalls: Sendable {
        private struct State {
            var slices: [[Order]] = []
            var answer: Result<[OrderID], EngineError>?
        }
        private let state = Mutex(State())

        var slices: [[Order]] { state.withLock { $0.slices } }
        var answer: Result<[OrderID], EngineError>? { state.withLock { $0.answer } }

        init(_ engine: ExecutionEngine, symbol: Symbol? = nil) {
            engine.cancelAll(
                account: paper, symbol: symbol,
                slice: { orders in self.state.withLock { $0.slices.append(orders) } },
                reply: { result in self.state.withLock { $0.answer = result } })
        }
    }

    /// The changes the journal holds for `id`, in its order (`pending_cancel`, `canceled`, …).
    static func changes(_ id: OrderID, in journal: EventJournal) throws -> [String] {
        try journal.records(matching: JournalQuery(orderID: id.rawValue)).map(CommitLingerTests.change(of:))
    }

    /// The orders whose cancel the journal records as asked for, in its order.
    static func cancelsAskedFor(in journal: EventJournal) throws -> [String] {
        try journal.records(matching: JournalQuery(kinds: ["order"])).filter {
            CommitLingerTests.change(of: $0) == "pending_cancel"
        }.map { $0.orderID ?? "?" }
    }

    /// Starts a `cancel_all` and waits for its first slice, journaled, with the next waiting for the timer.
    func cancelAllFirstSlice(_ harness: EngineHarness, _ timer: ManualTimer) async -> CancelAllCalls {
        var armed = timer.armsFromNow().makeAsyncIterator()
        let calls = CancelAllCalls(harness.engine)
        await armed.next()
        return calls
    }

    /// Fires the timer for each slice after the first until `done` says so, running `afterEach` with the
    /// slices taken so far after each; returns the slices taken, the first included.
    func takeSlices(
        _ timer: ManualTimer, until done: () async throws -> Bool, afterEach: (Int) async throws -> Void = { _ in }
    ) async throws -> Int {
        var slices = 1
        while try await !done() {
            try await timer.fire()
            slices += 1
            try await afterEach(slices)
            try #require(slices <= Self.orders / 8)
        }
        return slices
    }

    @Test func cancelAllSendsItsCancelsASliceAtATimeAndAnswersOnceAllAreJournaled() async throws {
        let (harness, timer, ids) = try await restingBuys()
        let engine = harness.engine
        let sorted = ids.sorted()
        let calls = await cancelAllFirstSlice(harness, timer)
        // The first slice is sent, journaled and canceled by the broker; the answer waits for the rest.
        #expect(calls.slices.map { $0.map(\.orderID) } == [Array(sorted.prefix(8))])
        #expect(calls.answer == nil)
        #expect(try Self.cancelsAskedFor(in: harness.journal) == sorted.prefix(8).map(\.rawValue))
        // Requests between two slices are answered, and the next slice waits for the timer.
        #expect(try await openOrders(engine) == Self.orders - 8)
        #expect(try await openOrders(engine) == Self.orders - 8)
        let slices = try await takeSlices(timer, until: { calls.answer != nil }) { slices throws in
            #expect(try await openOrders(engine) == Self.orders - 8 * slices)
        }
        #expect(slices == Self.orders / 8)
        #expect(try calls.answer?.get() == sorted)
        #expect(
            calls.slices.map { $0.map(\.orderID) }
                == stride(from: 0, to: Self.orders, by: 8).map { Array(sorted[$0..<($0 + 8)]) })
        #expect(calls.slices.joined().allSatisfy { $0.status == .pendingCancel })
        // Each order's cancel was asked for once, in order-ID order, and the broker canceled each.
        #expect(try Self.cancelsAskedFor(in: harness.journal) == sorted.map(\.rawValue))
        for id in ids {
            #expect(try Self.changes(id, in: harness.journal).suffix(2) == ["pending_cancel", "canceled"])
        }
        try await harness.stop()
    }

    /// An order canceled on its own between two slices is passed over by its slice: its cancel is asked
    /// for once, and the answer names only the orders this request sent a cancel.
    @Test func anOrderCanceledBetweenTwoSlicesIsPassedOver() async throws {
        let (harness, timer, ids) = try await restingBuys()
        let engine = harness.engine
        let sorted = ids.sorted()
        let calls = await cancelAllFirstSlice(harness, timer)
        let alone = [sorted[9], sorted[30]]
        for id in alone { _ = try await engine.cancel(account: paper, .orderID(id)).get() }
        _ = try await takeSlices(timer, until: { calls.answer != nil })
        #expect(try calls.answer?.get() == sorted.filter { !alone.contains($0) })
        #expect(try await openOrders(engine) == 0)
        #expect(try Self.cancelsAskedFor(in: harness.journal).sorted() == sorted.map(\.rawValue))
        try await harness.stop()
    }

    /// A halt that cancels sends its cancels the same way, and names every order once all are journaled.
    @Test func aHaltThatCancelsSendsItsCancelsASliceAtATime() async throws {
        let (harness, timer, ids) = try await restingBuys()
        let engine = harness.engine
        var armed = timer.armsFromNow().makeAsyncIterator()
        async let halted = engine.halt(account: paper, reason: "test", cancelOpen: true)
        await armed.next()
        #expect(try await openOrders(engine) == Self.orders - 8)
        #expect(try await takeSlices(timer, until: { try await openOrders(engine) == 0 }) == Self.orders / 8)
        let change = try await halted.get()
        #expect(change.state == .halted)
        #expect(change.canceled == ids.sorted())
        try await harness.stop()
    }

    /// A stop between two slices sends and journals every cancel left before the engine ends, and answers.
    @Test func aStopBetweenTwoSlicesSendsEveryCancelLeft() async throws {
        let (harness, timer, ids) = try await restingBuys()
        let calls = await cancelAllFirstSlice(harness, timer)
        #expect(calls.answer == nil)
        try await harness.stop()
        #expect(try calls.answer?.get() == ids.sorted())
        let journal = try EventJournal(path: journalPath)
        defer { try? journal.close() }
        #expect(try Self.cancelsAskedFor(in: journal) == ids.sorted().map(\.rawValue))
    }

    /// A journal that fails between two slices stops the pass: its answer is the failure, and nothing
    /// more is sent.
    @Test func aJournalFailureBetweenTwoSlicesAnswersTheFailure() async throws {
        let (harness, timer, ids) = try await restingBuys()
        let calls = await cancelAllFirstSlice(harness, timer)
        harness.journal.injectAppendFailure(after: 0)
        try await timer.fire()
        #expect(calls.answer?.failure?.code == .internal)
        #expect(calls.slices.count == 2)
        #expect(try Self.cancelsAskedFor(in: harness.journal) == ids.sorted().prefix(8).map(\.rawValue))
        try await harness.stop()
    }
}
