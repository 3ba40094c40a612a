public import Execution
public import Journal
import Foundation
import Logging
public import NIOCore
import NIOPosix
import ServiceLifecycle

/// Runs a real `ExecutionEngine` on a journal in a temporary folder, inside a `ServiceGroup` as the
/// daemon does, and stops it the way SIGTERM would.
public final class EngineHarness: Sendable {
    public let engine: ExecutionEngine
    public let journal: EventJournal
    public let clock: ManualWallClock
    let group: ServiceGroup
    let running: Task<Void, any Error>
    /// The engine's own thread, as in `gatewayd`.
    let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// The loop the engine runs on: work handed to it runs on the engine's thread, between its drains.
    public var loop: any EventLoop { loops.next() }

    /// Starts an engine over the journal at `journalPath` with the given accounts.
    /// `later` and `commitLinger`: a batch of broker events alone waits for `later` to run the work it is
    /// handed (on the engine's thread) or for the next request, as in `gatewayd` with a durable journal.
    /// `burstSlice`: most broker events one batch takes; with `later`, the rest wait for the work it is
    /// handed, requests going first. `stepTablesBacklog`: most events waiting for the journal's tables when
    /// a broker's next step is taken.
    public init(
        journalPath: String, accounts: [EngineAccount], clock: ManualWallClock = ManualWallClock(),
        checkpointEvery: Int = 10_000, commitLinger: Int64 = 0, burstSlice: Int = 1_024,
        stepTablesBacklog: Int = 8_192,
        later: (@Sendable (any EventLoop, Int64, @escaping @Sendable () -> Void) -> Void)? = nil
    ) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        self.clock = clock
        journal = try EventJournal(path: journalPath)
        engine = try await ExecutionEngine(
            journal: journal, accounts: accounts, clock: clock, logger: logger,
            thread: Self.thread(on: loops.next(), later: later), checkpointEvery: checkpointEvery,
            commitLinger: commitLinger, burstSlice: burstSlice, stepTablesBacklog: stepTablesBacklog)
        group = ServiceGroup(services: [engine], logger: logger)
        let group = self.group
        running = Task { try await group.run() }
    }

    /// Stops the engine gracefully and closes the journal.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
        try journal.close()
        try await loops.shutdownGracefully()
    }

    /// An engine thread on `loop`, as `gatewayd` makes it (`later` in place of the loop's own timer).
    public static func thread(
        on loop: any EventLoop, later: (@Sendable (any EventLoop, Int64, @escaping @Sendable () -> Void) -> Void)? = nil
    ) -> EngineThread {
        guard let later else { return EngineThread(executor: loop.executor) { loop.execute($0) } }
        return EngineThread(
            executor: loop.executor, schedule: { loop.execute($0) },
            later: { delay, body in later(loop, delay, body) })
    }

    /// A fresh temporary folder for one test's files, removed when the test process exits (`TestFolders`).
    public static func temporaryFolder() -> String { TestFolders.make("gateway-test") }
}
