import BrokerAPI
import Execution
import Foundation
import GatewayCore
import GatewayTesting
import Journal
import Testing

@Suite(.timeLimit(.minutes(1)))
struct FailStopTests {
    @Test func aJournalThatCannotBeWrittenStopsTradingSendsNothingAndLeavesNothingHalfWritten() async throws {
        let folder = EngineHarness.temporaryFolder()
        let broker = FakeBroker()
        let account = EngineAccount(id: paper, adapter: broker, openingCash: Money(10_000))
        let harness = try await EngineHarness(journalPath: folder + "/journal.sqlite", accounts: [account])
        let engine = harness.engine
        var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order"]))
        let first = try await engine.submit(buy(1, limit: "10", id: "before")).get().order
        _ = await waiter.order(first.orderID.rawValue, status: "acknowledged")
        let seqBefore = try harness.journal.lastSequence()

        // The disk fills up: the next append fails.
        harness.journal.injectAppendFailure(after: 0)
        let refused = await engine.submit(buy(2, limit: "10", id: "during"))
        #expect(refused.failure?.code == .internal)
        #expect(refused.failure?.message.contains("trading is halted and nothing was sent") == true)
        // Nothing of the failed batch is in the journal or in memory, and nothing reached the broker.
        #expect(try harness.journal.lastSequence() == seqBefore)
        #expect(await broker.submitted.map(\.clientOrderID.rawValue) == ["before"])
        let known = try await engine.orders(OrderFilter(openOnly: false)).get()
        #expect(known.map(\.clientOrderID.rawValue) == ["before"])
        // Every later request but a read is refused; status says why.
        #expect(await engine.submit(buy(3, limit: "10")).failure?.code == .internal)
        #expect(await engine.halt(account: nil, reason: "x", cancelOpen: true).failure?.code == .internal)
        let status = try await engine.status().get()
        #expect(status.journalFailure?.contains("the journal could not be written") == true)
        #expect(status.accounts.first?.tradingState == "halted")
        try await harness.stop()

        // After a restart on a healthy disk (with a new adapter, as a restarted daemon has) the journal
        // verifies and holds exactly what was acknowledged.
        let again = try await EngineHarness(
            journalPath: folder + "/journal.sqlite",
            accounts: [EngineAccount(id: paper, adapter: FakeBroker(), openingCash: Money(10_000))])
        #expect(try again.journal.verify().verified)
        #expect(try again.journal.lastSequence() >= seqBefore)
        #expect(await again.engine.submit(buy(2, limit: "10", id: "during")).failure == nil)
        try await again.stop()
    }
}

extension FailStopTests {
    @Test func tablesThatCannotTakeEventsShowInStatusWhileTradingGoesOn() async throws {
        let folder = EngineHarness.temporaryFolder()
        let account = EngineAccount(id: paper, adapter: FakeBroker(), openingCash: Money(10_000))
        let harness = try await EngineHarness(journalPath: folder + "/journal.sqlite", accounts: [account])
        let engine = harness.engine
        #expect(try await engine.status().get().tablesProblem == nil)

        // Another process holds the database: events stay in the log, and trading goes on.
        harness.journal.injectTableFailure("database is locked")
        #expect(await engine.submit(buy(1, limit: "10", id: "during")).failure == nil)
        let failed = AsyncStream<Void>.makeStream()
        harness.journal.whenIndexed { _ in failed.continuation.yield() }
        for await _ in failed.stream { break }
        let status = try await engine.status().get()
        #expect(status.tablesProblem?.contains("database is locked") == true)
        #expect(status.tablesBacklog > 0)
        #expect(status.journalFailure == nil)
        #expect(status.accounts.first?.tradingState == "active")
        // The journal says why, so the watchdog is still fed: a restart would not help.
        #expect(await engine.ping())

        harness.journal.injectTableFailure(nil)
        let caughtUp = AsyncStream<(any Error)?>.makeStream()
        harness.journal.whenIndexed { caughtUp.continuation.yield($0) }
        for await error in caughtUp.stream {
            #expect(error == nil)
            break
        }
        let after = try await engine.status().get()
        #expect(after.tablesProblem == nil)
        #expect(after.tablesBacklog == 0)
        try await harness.stop()
    }
}
