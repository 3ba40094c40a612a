import BrokerAPI
import BrokerPaper
import Foundation
import GatewayCore
import GatewayTesting
import Testing

@testable import Execution
@testable import Journal

/// What `CommandBacklog` makes of a burst: the engine's own commands in slices, in their order, and
/// requests never behind more than one slice.
@Suite struct CommandBacklogTests {
    /// An engine's own command (the end of an adapter's events) named `name`.
    static func own(_ name: String) -> Command { .brokerEventsEnded(AccountID(name)!) }
    /// A request named `name`.
    static func request(_ name: String) -> Command {
        .cancelAll(AccountID(name)!, nil, slice: { _ in }, .callback { _ in })
    }

    static func names(_ commands: [Command]) -> [String] {
        commands.map { command in
            switch command {
            case .brokerEventsEnded(let name), .cancelAll(let name?, _, _, _): name.rawValue
            default: "?"
            }
        }
    }

    @Test func aBatchWithinTheSliceIsTakenAsItCame() {
        var backlog = CommandBacklog()
        let arrived = [Self.request("r1"), Self.own("e1"), Self.request("r2"), Self.own("e2")]
        #expect(Self.names(backlog.batch(from: arrived, slice: 2)) == ["r1", "e1", "r2", "e2"])
        #expect(backlog.isEmpty)
    }

    @Test func aBurstIsTakenSliceBySliceWithEveryWaitingRequestAfterEachSlice() {
        var backlog = CommandBacklog()
        let arrived =
            [Self.request("r1")] + (1...5).map { Self.own("e\($0)") } + [Self.request("r2")]
            + (6...8).map { Self.own("e\($0)") } + [Self.request("r3")]
        // The first slice as it came, then the requests that came after it.
        #expect(Self.names(backlog.batch(from: arrived, slice: 3)) == ["r1", "e1", "e2", "e3", "r2", "r3"])
        #expect(backlog.count == 5)
        // What arrives meanwhile: its own commands wait behind the backlog, its requests come after the slice.
        #expect(
            Self.names(backlog.batch(from: [Self.own("e9"), Self.request("r4")], slice: 3)) == [
                "e4", "e5", "e6", "r4",
            ])
        // Between two slices, requests alone.
        #expect(
            Self.names(backlog.batch(from: [Self.request("r5"), Self.own("e10")], slice: 3, takeSlice: false)) == ["r5"]
        )
        #expect(Self.names(backlog.batch(from: [], slice: 3, takeSlice: false)).isEmpty)
        #expect(Self.names(backlog.batch(from: [], slice: 3)) == ["e7", "e8", "e9"])
        #expect(Self.names(backlog.batch(from: [], slice: 3)) == ["e10"])
        #expect(backlog.isEmpty)
        // Once the backlog is empty, batches pass as they came again.
        #expect(Self.names(backlog.batch(from: [Self.own("e11"), Self.request("r6")], slice: 3)) == ["e11", "r6"])
    }

    @Test func takeAllEmptiesTheBacklogOldestFirst() {
        var backlog = CommandBacklog()
        _ = backlog.batch(from: (1...6).map { Self.own("e\($0)") }, slice: 2)
        _ = backlog.batch(from: [], slice: 2)
        #expect(Self.names(backlog.takeAll()) == ["e5", "e6"])
        #expect(backlog.isEmpty)
    }

    /// Over many slices the taken part is freed, and the order holds.
    @Test func aLongBurstKeepsItsOrder() {
        var backlog = CommandBacklog()
        var taken = backlog.batch(from: (1...20_000).map { Self.own("e\($0)") }, slice: 1_000)
        while !backlog.isEmpty { taken += backlog.batch(from: [], slice: 1_000) }
        #expect(Self.names(taken) == (1...20_000).map { "e\($0)" })
    }
}

/// A quote through many resting paper orders brings their fills at once: the engine takes them a slice
/// at a time (`burstSlice`), lets its thread read the sockets between two slices (`later`, which the test
/// holds), and answers requests meanwhile. Every fill is journaled once, in the order the broker made them.
@Suite(.timeLimit(.minutes(1)))
struct BurstTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }
    static let orders = 40

    /// An engine over the paper broker with `orders` resting buys, slices of `burstSlice`, the broker's
    /// steps of `sweepStep` orders, taken while at most `stepTablesBacklog` events wait for the journal's
    /// tables, and a held timer.
    func restingBuys(
        burstSlice: Int = 8, sweepStep: Int = PaperBroker.sweepStep, stepTablesBacklog: Int = 8_192,
        checkpointEvery: Int = 10_000
    ) async throws -> (
        EngineHarness, ManualTimer, [OrderID]
    ) {
        let timer = ManualTimer()
        let clock = ManualWallClock()
        let broker = PaperBroker(clock: clock)
        broker.setSweepStep(sweepStep)
        let harness = try await EngineHarness(
            journalPath: journalPath,
            accounts: [EngineAccount(id: paper, adapter: broker, openingCash: Money(1_000_000))],
            clock: clock, checkpointEvery: checkpointEvery, burstSlice: burstSlice,
            stepTablesBacklog: stepTablesBacklog, later: timer.later)
        let engine = harness.engine
        #expect(await engine.ping())
        var ids: [OrderID] = []
        for index in 1...Self.orders {
            ids.append(try await engine.submit(buy(1, limit: "10", id: "rest-\(index)")).get().order.orderID)
        }
        // Each submit's broker answer was handled by the batch after it; a request commits the last one.
        #expect(await engine.ping())
        timer.hold()
        return (harness, timer, ids)
    }

    func openOrders(_ engine: ExecutionEngine) async throws -> Int {
        try #require(try await engine.status().get().accounts.first).openOrders
    }

    /// Quotes under every resting limit, and waits until the engine has set the timer for what the quote
    /// left: the burst's next slice, or the broker's next step.
    func quoteUnderEveryLimit(_ harness: EngineHarness, _ timer: ManualTimer) async throws {
        var armed = timer.armsFromNow().makeAsyncIterator()
        _ = try await harness.engine.quote(
            Quote(symbol: aapl, bid: Price(9), ask: Price("9.5")!, ts: harness.clock.now())
        ).get()
        await armed.next()
    }

    /// The orders whose fills the journal holds, in the journal's order.
    static func filled(in journal: EventJournal) throws -> [String] {
        try journal.records(matching: JournalQuery(kinds: ["fill"])).map { $0.orderID ?? "?" }
    }

    @Test func requestsAreAnsweredBetweenSlicesAndEveryFillIsJournaledOnceInOrder() async throws {
        let (harness, timer, ids) = try await restingBuys()
        let engine = harness.engine
        // The quote's fills came at once: the first slice is committed, and the rest waits for the timer.
        try await quoteUnderEveryLimit(harness, timer)
        let waiting = try await openOrders(engine)
        #expect(waiting > 0 && waiting < Self.orders)
        // Requests between two slices are taken alone: the next slice waits for the timer.
        #expect(try await openOrders(engine) == waiting)
        var slices = 0
        while try await openOrders(engine) > 0 {
            try await timer.fire()
            slices += 1
            try #require(slices < Self.orders)
        }
        #expect(try Self.filled(in: harness.journal) == ids.map(\.rawValue))
        try await harness.stop()
    }

    /// A quote through more resting orders than the paper broker matches in one step: the engine has it
    /// take the next step only once its event loop has read the sockets (the timer, held here), answers
    /// requests between two steps, and journals every fill once, in the broker's order.
    @Test func aQuoteIsMatchedStepByStepWithRequestsAnsweredBetween() async throws {
        let (harness, timer, ids) = try await restingBuys(burstSlice: 1_024, sweepStep: 8)
        let engine = harness.engine
        try await quoteUnderEveryLimit(harness, timer)
        #expect(try await openOrders(engine) == Self.orders - 8)
        #expect(try Self.filled(in: harness.journal) == ids.prefix(8).map(\.rawValue))
        var steps = 1
        while try await openOrders(engine) > 0 {
            try await timer.fire()
            steps += 1
            try #require(steps <= Self.orders / 8)
        }
        #expect(steps == Self.orders / 8)
        #expect(try Self.filled(in: harness.journal) == ids.map(\.rawValue))
        try await harness.stop()
    }

    /// While more than `stepTablesBacklog` journaled events wait to be copied into the journal's tables,
    /// the paper broker's next step waits (the timer fires, nothing more is filled); once the tables have
    /// caught up, the steps go on, and every fill is journaled once, in order.
    @Test func brokerStepsWaitForTheJournalsTables() async throws {
        let (harness, timer, ids) = try await restingBuys(burstSlice: 1_024, sweepStep: 8, stepTablesBacklog: 4)
        let engine = harness.engine
        // A read waits for the tables to hold every event so far; then nothing more is copied.
        #expect(try Self.filled(in: harness.journal).isEmpty)
        harness.journal.pauseIndexing()
        try await quoteUnderEveryLimit(harness, timer)
        #expect(try await openOrders(engine) == Self.orders - 8)
        #expect(harness.journal.tablesBacklog().events > 4)
        for _ in 0..<3 {
            try await timer.fire()
            #expect(try await openOrders(engine) == Self.orders - 8)
        }
        harness.journal.resumeIndexing()
        let steps = try await takeEachStepOfEight(engine, timer) { steps throws in
            // The tables catch up (a read waits for them), then the next step is taken.
            #expect(try Self.filled(in: harness.journal) == ids.prefix(8 * steps).map(\.rawValue))
        }
        #expect(steps == Self.orders / 8)
        #expect(try Self.filled(in: harness.journal) == ids.map(\.rawValue))
        try await harness.stop()
    }

    /// While the journal's tables refuse events, the paper broker's steps do not wait for them: the pass
    /// goes on a step at a time (else it stopped until the next request to the broker), its events stay
    /// in the journal's log, and once the tables take events again they hold every fill once, in order.
    @Test func brokerStepsGoOnWhileTheTablesFail() async throws {
        let (harness, timer, ids) = try await restingBuys(burstSlice: 1_024, sweepStep: 8, stepTablesBacklog: 4)
        let engine = harness.engine
        #expect(try Self.filled(in: harness.journal).isEmpty)
        harness.journal.injectTableFailure("disk I/O error")
        try await quoteUnderEveryLimit(harness, timer)
        #expect(await Self.nextCopy(of: harness.journal)?.contains("disk I/O error") == true)
        #expect(harness.journal.tablesBacklog().events > 4)
        let steps = try await takeEachStepOfEight(engine, timer)
        #expect(steps == Self.orders / 8)
        harness.journal.injectTableFailure(nil)
        var problem = await Self.nextCopy(of: harness.journal)
        for _ in 0..<600 where problem != nil { problem = await Self.nextCopy(of: harness.journal) }
        #expect(problem == nil)
        #expect(try Self.filled(in: harness.journal) == ids.map(\.rawValue))
        try await harness.stop()
    }

    /// Fires the timer for each of the paper broker's steps of 8 fills left after the first, until no
    /// order is open, checking after each that 8 more were filled; `beforeStep` runs before each, given
    /// the steps taken so far. Returns the steps taken, the first included.
    func takeEachStepOfEight(
        _ engine: ExecutionEngine, _ timer: ManualTimer, beforeStep: (Int) throws -> Void = { _ in }
    ) async throws -> Int {
        var steps = 1
        while try await openOrders(engine) > 0 {
            try beforeStep(steps)
            try await timer.fire()
            steps += 1
            #expect(try await openOrders(engine) == max(0, Self.orders - 8 * steps))
            try #require(steps <= Self.orders / 8)
        }
        return steps
    }

    /// What the journal's next look at its tables says: `nil` once they hold every event, else the reason
    /// they do not.
    static func nextCopy(of journal: EventJournal) async -> String? {
        await withCheckedContinuation { continuation in
            journal.whenIndexed { error in continuation.resume(returning: error.map { "\($0)" }) }
        }
    }

    /// A checkpoint that falls due between two of the paper broker's steps waits for the pass to end (a copy
    /// of the state held meanwhile would keep a second version of all the pass changes), and is taken by
    /// the first batch after it.
    @Test func aCheckpointWaitsForThePassToEnd() async throws {
        let (harness, timer, _) = try await restingBuys(burstSlice: 1_024, sweepStep: 8, checkpointEvery: 10)
        let engine = harness.engine
        // The resting orders' checkpoints are written; the next falls due after as many events as orders open.
        await engine.checkpointWriting?.value
        #expect(await engine.ping())
        let before = await engine.lastCheckpointSeq
        try await quoteUnderEveryLimit(harness, timer)
        var steps = 1
        while try await openOrders(engine) > 0 {
            #expect(await engine.lastCheckpointSeq == before)
            try await timer.fire()
            steps += 1
            try #require(steps <= Self.orders / 8)
        }
        // More events than orders were open have passed: the checkpoint was due during the pass.
        #expect(try harness.journal.lastSequence() - before >= Int64(Self.orders))
        #expect(await engine.ping())
        #expect(await engine.lastCheckpointSeq > before)
        try await harness.stop()
    }

    /// A stop with a burst waiting (slices of 8), or between two of the paper broker's steps (steps of 8):
    /// the broker finishes its pass as it disconnects, and the engine journals all of it before it ends.
    @Test(arguments: [(8, PaperBroker.sweepStep), (1_024, 8)])
    func aStopJournalsWhatWaits(burstSlice: Int, sweepStep: Int) async throws {
        let (harness, timer, ids) = try await restingBuys(burstSlice: burstSlice, sweepStep: sweepStep)
        try await quoteUnderEveryLimit(harness, timer)
        try await harness.stop()
        let journal = try EventJournal(path: journalPath)
        defer { try? journal.close() }
        #expect(try Self.filled(in: journal) == ids.map(\.rawValue))
    }
}
