public import BrokerAPI
public import GatewayCore
public import Journal
public import Logging
public import ServiceLifecycle
import Foundation
import HashTreeCollections
import Synchronization

/// One account as the engine runs it: its broker adapter and, for a new journal, its opening cash.
public struct EngineAccount: Sendable {
    public var id: AccountID
    public var adapter: any BrokerAdapter
    public var openingCash: Money
    public var currency: String
    public var limits: RiskLimits {
        didSet { effectiveStrategyLimits = strategyLimits.mapValues { limits.overridden(by: $0) } }
    }
    /// How signals are sized; `nil` means a signal must carry its own `qty`.
    public var sizing: SizingPolicy?
    /// Per strategy, limits that override the account's for that strategy's orders
    /// (`RiskLimits.overridden(by:)`: looser or tighter for one order, never looser for the account).
    public var strategyLimits: [String: RiskLimits] = [:] {
        didSet { effectiveStrategyLimits = strategyLimits.mapValues { limits.overridden(by: $0) } }
    }
    /// Sizing policies by strategy, used instead of the account's for that strategy's signals.
    public var strategySizing: [String: SizingPolicy] = [:]
    /// When the account's trading day starts; daily figures reset then.
    public var session: TradingSession = .utcMidnight
    /// What reconciliation does about differences with the broker, and how often it runs (never by
    /// default here; the daemon's configuration defaults to every 60 s).
    public var reconcile = ReconcilePolicy(every: nil)
    private var effectiveStrategyLimits: [String: RiskLimits] = [:]

    /// The limits an order of `strategy` faces.
    func limits(for strategy: String?) -> RiskLimits {
        guard let strategy, let merged = effectiveStrategyLimits[strategy] else { return limits }
        return merged
    }

    /// Every failed check of the limits that apply to the order.
    func riskFailures(of order: Order, context: RiskContext) -> [RiskFailure] {
        PreTradeRisk.evaluate(RiskOrder(order), limits: limits(for: order.strategy), context: context)
    }

    /// How many recent acceptances the order-rate check must remember.
    var rateWindow: Int {
        ([limits] + effectiveStrategyLimits.values).compactMap(\.maxOrdersPerSecond).max() ?? 0
    }

    public init(
        id: AccountID, adapter: any BrokerAdapter, openingCash: Money, currency: String = "USD",
        limits: RiskLimits = .none, sizing: SizingPolicy? = nil
    ) {
        self.sizing = sizing
        self.id = id
        self.adapter = adapter
        self.openingCash = openingCash
        self.currency = currency
        self.limits = limits
    }
}

/// The one owner of all trading state (DESIGN.md "Flow of one order").
///
/// Every request, broker event and broker call result enters one inbox. The run loop takes everything
/// waiting as a batch (a burst of broker events a slice at a time, `CommandBacklog`), handles each item
/// in order against the in-memory state, journals every event the batch made in one durable transaction
/// (group commit), and only then answers, publishes to subscribers and calls brokers. Nothing a batch did
/// is visible outside until it is committed, so the journal is always ahead of what any client or broker
/// was told; reads go through the inbox too, so they never see uncommitted state. A journal failure ends
/// the run loop and so stops trading.
///
/// The engine runs on an executor of its own (in `gatewayd`, the event loop that also serves the control
/// socket): a request read on that loop enters the inbox, is handled, committed (on this thread: it is
/// not a thread of Swift's cooperative pool, so blocking it on the fsync starves nothing else) and
/// answered on the same thread, with no wake-up of another thread between the socket and the answer.
/// While a commit runs, requests queue in the sockets and the inbox and share the next commit.
public actor ExecutionEngine: Service {
    let thread: EngineThread
    public nonisolated var unownedExecutor: UnownedSerialExecutor { thread.executor.asUnownedSerialExecutor() }
    let journal: EventJournal
    let clock: any WallClock
    let logger: Logger
    let hub: EventHub
    /// The configured accounts; their limits and sizing change on a configuration reload.
    var accounts: [AccountID: EngineAccount]
    /// Each account's trading session, which a reload does not change (read outside the actor).
    let sessions: [AccountID: TradingSession]
    let accountOrder: [AccountID]

    // Trading state: changed only while handling a batch.
    var books: [AccountID: AccountBook] = [:]
    var orders: OrderStore
    /// Orders that finished in the batch under way; they leave memory once it is committed.
    var finished: Set<OrderID> = []
    var clientIndex: ClientIndex = [:]
    var seenFills: FillKeys = []
    var quotes: [Symbol: Quote] = [:]
    var connections: [AccountID: BrokerConnectionState] = [:]
    var nextSeq: Int64 = 1
    /// Per account: the running figures of the pre-trade checks, rebuilt by replay.
    var riskBooks: [AccountID: RiskBook] = [:]
    var sessionDays: [AccountID: SessionDayCache] = [:]
    /// Trading states, journaled and restored: a halted gateway stays halted across restarts.
    var accountStates: [AccountID: TradingState] = [:]
    var gatewayState = TradingState.active
    /// Set when a journal append failed: trading stops (only reads are answered) until a restart.
    var journalFailure: String?
    /// Checkpoints of the state: every `checkpointEvery` events (0: never), one written at a time.
    let checkpointEvery: Int
    var lastCheckpointSeq: Int64
    var checkpointWriting: Task<Void, Never>?
    /// The newest checkpoint written in this run, which the next may extend (`CheckpointChain`); `nil`:
    /// the next is whole.
    var checkpointChain: CheckpointChain?
    /// What the idempotency index and the fills seen gained since the last checkpoint was taken.
    var clientIndexChanges: [Checkpoint.ClientEntry] = []
    var fillsAdded: [String] = []
    /// Yields once, then ends, when the journal is recovered, the brokers were asked to connect and the
    /// startup was journaled: the engine then takes requests.
    public nonisolated let started: AsyncStream<Void>
    let startedSignal: AsyncStream<Void>.Continuation
    /// The checkpoint this engine started from, if any (else it replayed the whole journal).
    public nonisolated let restoredFromCheckpoint: Int64?

    /// Set while the run loop takes the inbox: from when `run()` has started the brokers until shutdown
    /// has handled the last broker result.
    var running = false
    /// How long a batch of broker events alone waits for requests to share its commit, in nanoseconds
    /// (0, or a thread without `later`: not at all). Nothing leaves the engine before its commit — answers, events to subscribers,
    /// calls to brokers all wait for it — so waiting only delays them; with one client and a durable
    /// journal, the next request usually arrives meanwhile and one fsync covers both.
    let commitLinger: Int64
    /// Whether a batch is waiting for `commitLinger` to pass.
    var lingering = false
    /// Names the linger under way, so that an earlier linger's timer does nothing.
    var lingerToken: UInt64 = 0
    /// Off once shutdown starts: every batch is committed at once.
    var lingerAllowed = true

    // The inbox (any thread may add to it) and the batch under way.
    struct Inbox {
        var commands: [Command] = []
        var accepting = true
    }
    let inbox = Mutex(Inbox())
    /// Run after each batch's answers are handed out (`afterAnswers`).
    let answerHooks = Mutex<[@Sendable () -> Void]>([])
    /// The inbox's other buffer: batches swap it with the inbox's, so neither is reallocated per batch.
    var spare: [Command] = []
    /// Broker events past one batch's share when they come in a burst (`CommandBacklog`).
    var backlog = CommandBacklog()
    /// Most of the engine's own commands (broker events and results) one batch takes: a slice of 1 024
    /// paper fills took 9–20 ms in `gateway-bench`'s resting mode on the 2-core test machine.
    let burstSlice: Int
    /// Most events waiting to be copied into the journal's tables when a direct broker's next step is
    /// taken (`takeBrokerSteps`): past it the steps wait for the tables. A quote through 100 000 resting
    /// paper orders could make fills faster than the tables took them: in one run the events waiting
    /// reached the indexer's limit of 100 000, and the daemon's RSS 213 MiB against about 140 before the
    /// quote (docs/performance.md). Past the limit each append waits, holding every client up.
    let stepTablesBacklog: Int
    /// Set while the drain that takes the backlog's next slice is scheduled.
    var backlogDrainScheduled = false
    /// Set when that drain runs: the next batch takes a slice. A drain that requests started between two
    /// slices takes only them, so that they are answered without waiting for one more slice.
    var sliceDue = false
    let shutdownRequested: AsyncStream<Void>
    let requestShutdown: AsyncStream<Void>.Continuation
    var staged: [JournalRecord] = []
    /// Where the staged events' payloads are written before each is copied into its record's string, kept
    /// so that each event allocates only that string.
    var payloadText = JSONText()
    var deferred: [Deferred] = []
    var metrics = EngineMetrics()
    let encoder: JSONEncoder
    let decoder = JSONDecoder()

    // Reconciliation (ExecutionEngine+Reconcile.swift).
    /// Accounts that take no new order until the reconciliation under way (at start, after a reconnect)
    /// ends; with the reason when one failed and is being retried.
    var reconciling: Set<AccountID> = []
    var reconcileFailures: [AccountID: String] = [:]
    var pendingReconciliations: [AccountID: [UInt64: PendingReconciliation]] = [:]
    var nextReconcileTag: UInt64 = 1
    /// Until every account's start reconciliation has ended: those still under way. Requests wait in
    /// `heldCommands` meanwhile.
    var startReconciling: Set<AccountID>? = []
    /// Set once `run()` has connected the brokers and asked for the start's reconciliations: a broker that
    /// connects after that (back from an outage, or a first connect that came late) is reconciled then.
    var brokersStarted = false
    var heldCommands: [Command] = []
    /// Per account, the differences the last reconciliation found, so one that persists is journaled once.
    var reportedDifferences: [AccountID: Set<String>] = [:]
    var reconcileTimers: [Task<Void, Never>] = []

    // Broker calls: one queue per account, so an adapter sees requests in journal order.
    var senders: [AccountID: AsyncStream<BrokerJob>.Continuation] = [:]
    /// Accounts whose direct broker left work unfinished, for its next step (`scheduleBrokerSteps`).
    var brokerStepsDue: Set<AccountID> = []
    /// `cancel_all`s and halts whose cancels are sent a slice at a time, oldest first (`CancelPass`).
    var cancelPasses: [CancelPass] = []
    /// Whether the timer of the brokers' next steps is set.
    var brokerStepScheduled = false
    /// Set when the last broker step was put off because the journal's tables were behind.
    var brokerStepsWaitForTables = false
    /// Accounts whose adapter is called on the engine's thread, without a queue (`performNow`).
    var directBrokers: [AccountID: any DirectBroker] = [:]
    /// Set while `drain()` runs: commands added on this thread then need no drain scheduled.
    var draining = false
    /// Calls on `directBrokers` the batch under way makes once committed, after its answers.
    var directCalls: [(BrokerJob, AccountID)] = []
    var senderTasks: [Task<Void, Never>] = []
    var listenerTasks: [Task<Void, Never>] = []

    /// Replays the journal into memory. The engine does nothing else until `run()`.
    ///
    /// With `checkpointEvery` above zero the engine's state is checkpointed into the journal every that
    /// many events and at shutdown; a start loads the newest checkpoint that matches the journal and
    /// replays only the events after it.
    public init(
        journal: EventJournal, accounts: [EngineAccount], clock: any WallClock, logger: Logger,
        thread: EngineThread, checkpointEvery: Int = 10_000, commitLinger: Int64 = 0, burstSlice: Int = 1_024,
        stepTablesBacklog: Int = 8_192, progress: RecoveryProgress? = nil
    ) async throws {
        self.thread = thread
        self.burstSlice = max(1, burstSlice)
        self.stepTablesBacklog = max(0, stepTablesBacklog)
        self.commitLinger = commitLinger
        self.checkpointEvery = checkpointEvery
        self.journal = journal
        self.clock = clock
        self.logger = logger
        self.accounts = Dictionary(uniqueKeysWithValues: accounts.map { ($0.id, $0) })
        self.accountOrder = accounts.map(\.id)
        self.sessions = Dictionary(uniqueKeysWithValues: accounts.map { ($0.id, $0.session) })
        (shutdownRequested, requestShutdown) = AsyncStream.makeStream(
            of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (started, startedSignal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let (replay, checkpoint) = try Self.restore(
            journal, accounts: self.accounts, decoder: decoder, logger: logger, progress: progress)
        restoredFromCheckpoint = checkpoint
        lastCheckpointSeq = checkpoint ?? 0
        hub = EventHub(lastSeq: replay.lastSeq)
        orders = OrderStore(journal: journal, decoder: decoder)
        load(replay)
        for account in accounts { connections[account.id] = .disconnected }
    }

    static func replay(
        _ journal: EventJournal, accounts: [AccountID: EngineAccount], decoder: JSONDecoder,
        progress: RecoveryProgress? = nil
    ) throws -> Replay {
        var replay = Replay(decoder: decoder, accounts: accounts)
        try journal.forEachRecord {
            try replay.apply($0)
            progress?.advance()
        }
        return replay
    }

    /// The state at the journal's end: from the newest checkpoint that matches the journal and the events
    /// after it, else from the first event. Returns the checkpoint's seq when one was used.
    static func restore(
        _ journal: EventJournal, accounts: [AccountID: EngineAccount], decoder: JSONDecoder, logger: Logger,
        progress: RecoveryProgress? = nil
    ) throws -> (Replay, Int64?) {
        do {
            if let (seq, state, bases) = try journal.latestCheckpoint() {
                let checkpoint = try Checkpoint.decode(state, decoder: decoder)
                guard checkpoint.seq == seq else { throw JournalError("checkpoint \(seq) says seq \(checkpoint.seq)") }
                let lists = try bases.map { try Checkpoint.Lists.decode($0, decoder: decoder) }
                var replay = Replay(checkpoint: checkpoint, bases: lists, decoder: decoder, accounts: accounts)
                try journal.forEachRecord(after: seq) {
                    try replay.apply($0)
                    progress?.advance()
                }
                return (replay, seq)
            }
        } catch {
            logger.warning(
                "cannot start from the checkpoint; replaying the whole journal", metadata: ["error": "\(error)"])
        }
        return (try replay(journal, accounts: accounts, decoder: decoder, progress: progress), nil)
    }

    /// Takes the state replay rebuilt.
    func load(_ replay: Replay) {
        books = replay.books
        orders = OrderStore(live: replay.orders, journal: journal, decoder: decoder)
        finished = []
        clientIndex = replay.clientIndex
        seenFills = replay.seenFills
        quotes = replay.quotes
        riskBooks = replay.riskBooks
        accountStates = replay.accountStates
        gatewayState = replay.gatewayState
        nextSeq = replay.lastSeq + 1
        // The first checkpoint after a (re)load is whole: the changes replay made are not kept.
        checkpointChain = nil
        clientIndexChanges = []
        fillsAdded = []
    }

    /// Points `clientOrderID` of `account` at `orderID`, remembered for the next checkpoint.
    func indexClientOrder(_ account: AccountID, _ clientOrderID: ClientOrderID, _ orderID: OrderID) {
        clientIndex[account, default: [:]][clientOrderID] = orderID
        if checkpointEvery > 0 {
            clientIndexChanges.append(
                Checkpoint.ClientEntry(account: account, clientOrderID: clientOrderID, orderID: orderID))
        }
    }

    /// A fill's key newly put in `seenFills`: remembered for the next checkpoint.
    func fillSeen(_ key: String) {
        if checkpointEvery > 0 { fillsAdded.append(key) }
    }

    /// Connects the brokers, settles orders whose outcome the last run left unknown, then handles the
    /// inbox until graceful shutdown; then lets broker calls in flight finish and journals their results.
    public func run() async throws {
        startWorkers()
        do {
            for id in accountOrder {
                let adapter = accounts[id]!.adapter
                do {
                    try await adapter.connect()
                    handleConnection(id, .connected, detail: nil)
                } catch {
                    logger.error("broker connect failed", metadata: ["account": "\(id)", "error": "\(error)"])
                    handleConnection(id, .disconnected, detail: error.description)
                }
            }
            // Startup is journaled before any request waiting in the inbox is handled; then each connected
            // broker is reconciled with the journal (after the open orders were settled: the same queue),
            // and requests are taken once every reconciliation has ended.
            handleStartup()
            let connected = accountOrder.filter { connections[$0] == .connected }
            startReconciling = Set(connected)
            for id in connected { startReconciliation(id, .start) }
            brokersStarted = true
            if connected.isEmpty { openForRequests() }
            try commit()
            startReconcileTimers()
            // From here each command that finds the inbox empty schedules a drain on the engine's thread
            // (`enqueue`); this task only waits for graceful shutdown, and a batch being committed always
            // finishes first.
            running = true
            drain()
            let requestShutdown = self.requestShutdown
            await withGracefulShutdownHandler {
                for await _ in self.shutdownRequested {}
            } onGracefulShutdown: {
                requestShutdown.finish()
            }
            try await shutDown()
        } catch {
            logger.critical("engine stopped", metadata: ["error": "\(error)"])
            failEverything(with: error)
            throw error
        }
    }

    /// Stops taking requests, waits for broker calls in flight, journals what they returned, and
    /// disconnects the brokers.
    func shutDown() async throws {
        inbox.withLock { $0.accepting = false }
        for timer in reconcileTimers { timer.cancel() }
        lingerAllowed = false
        finishCancelPasses()
        commitLingering()
        drain()
        for sender in senders.values { sender.finish() }
        for task in senderTasks { await task.value }
        drain()
        for id in accountOrder { await accounts[id]!.adapter.disconnect() }
        for task in listenerTasks { await task.value }
        drain()
        running = false
        await checkpointAtShutdown()
        await checkpointWriting?.value
        hub.close()
        logger.info("engine stopped", metadata: ["journal.seq": "\(nextSeq - 1)"])
    }

    func failEverything(with error: any Error) {
        let waiting =
            backlog.takeAll()
            + inbox.withLock { box in
                box.accepting = false
                defer { box.commands = [] }
                return box.commands
            }
        let failure = EngineError(.internal, "the journal failed, so trading stopped: \(error)")
        for item in deferred { item.onFailure(failure) }
        deferred.removeAll()
        directCalls.removeAll()
        failCancelPasses(failure)
        for command in waiting { command.fail(failure) }
        for sender in senders.values { sender.finish() }
        directBrokers.removeAll()
        hub.close()
    }

    /// Puts a command in the inbox, from any thread; refused once the engine has stopped taking requests.
    /// Schedules a drain on the engine's thread only when the inbox was empty: a non-empty inbox has a
    /// drain scheduled already, which takes everything in it. On the engine's own thread (a request read
    /// from the control socket, a broker result) scheduling wakes nothing: the drain runs once the
    /// current work is done, with everything that arrived meanwhile.
    nonisolated func enqueue(_ command: Command) {
        let outcome = inbox.withLock { box -> Bool? in
            guard box.accepting || command.isInternal else { return nil }
            box.commands.append(command)
            return box.commands.count == 1
        }
        switch outcome {
        case nil: command.fail(EngineError(.unavailable, "the gateway is shutting down"))
        case true?: scheduleDrain()
        case false?: break
        }
    }

    /// Puts commands made on the engine's thread in the inbox, behind those waiting; during a drain they
    /// are taken by its next batch, else a drain is scheduled.
    func enqueueHere(_ commands: [Command]) {
        guard !commands.isEmpty else { return }
        let wasEmpty = inbox.withLock { box in
            defer { box.commands.append(contentsOf: commands) }
            return box.commands.isEmpty
        }
        if wasEmpty, !draining { scheduleDrain() }
    }

    nonisolated func scheduleDrain() {
        thread.schedule { [self] in
            self.assumeIsolated { engine in
                if engine.running { engine.drain() }
            }
        }
    }

    /// Takes every waiting command, leaving the inbox empty (with the last batch's buffer).
    func takeInbox() -> [Command] {
        // Swapped out, not copied: emptied while `spare` still held it, the buffer was copied (an
        // allocation a batch).
        var batch: [Command] = []
        swap(&batch, &spare)
        batch.removeAll(keepingCapacity: true)
        inbox.withLock { swap(&$0.commands, &batch) }
        return batch
    }

    /// The next batch: the inbox as it is, or, while a burst of broker events waits, every request
    /// waiting after the backlog's next slice when its timer has run (or the engine is stopping), else
    /// alone (`CommandBacklog`).
    func takeBatch() -> [Command] {
        let takeSlice = sliceDue || !lingerAllowed || thread.later == nil
        sliceDue = false
        let arrived = takeInbox()
        if backlog.isEmpty, arrived.count <= burstSlice { return arrived }
        return backlog.batch(from: arrived, slice: burstSlice, takeSlice: takeSlice)
    }

    /// Takes the backlog's next slice once the event loop has read its sockets: a timer, unlike work
    /// handed to the loop at once, lets the loop poll its sockets before it runs.
    func scheduleBacklogDrain() {
        guard !backlogDrainScheduled, let later = thread.later else { return }
        backlogDrainScheduled = true
        later(Self.backlogPause) { [self] in
            self.assumeIsolated { engine in
                engine.backlogDrainScheduled = false
                engine.sliceDue = true
                if engine.running { engine.drain() }
            }
        }
    }

    /// How long the loop may wait for its sockets between two slices of a burst when none has anything
    /// to read, in nanoseconds: 200 µs, against the 9–20 ms a slice takes. A timer that is due before
    /// the loop has finished the rest of its work in hand runs before the sockets are read: a 50 µs timer,
    /// set before the slice's buffers were released, let the loop read nothing for up to 700 ms, some 70
    /// slices (`gateway-bench`'s resting mode, docs/performance.md).
    static let backlogPause: Int64 = 200_000
    /// How long a broker step waits when the journal's tables are behind (`stepTablesBacklog`): longer
    /// than `backlogPause`, so that the engine's thread, waking to look, leaves the cores to the copying.
    static let tablesPause: Int64 = 1_000_000

    /// Puts `commands` back at the head of the inbox, ahead of any that arrived since.
    func requeueFirst(_ commands: [Command]) {
        guard !commands.isEmpty else { return }
        inbox.withLock { $0.commands = commands + $0.commands }
        scheduleDrain()
    }

    /// Handles every waiting command, batch by batch, committing each batch before acting on it. A
    /// batch the journal refuses stops trading (`failStop`); the daemon stays up to say so.
    func drain() {
        draining = true
        defer { draining = false }
        while true {
            var batch = takeBatch()
            if batch.isEmpty {
                spare = batch
                break
            }
            defer { spare = batch }
            // Each command is moved out of the batch, oldest first (the batch is reversed, then taken from
            // its end): iterated in place, each was copied, its payload retained and later released twice,
            // about 2 % of the engine's thread under load (docs/performance.md).
            batch.withUnsafeMutableBufferPointer { $0.reverse() }
            var brokerEventsOnly = true
            while let command = batch.popLast() {
                // A held command is never a broker's outcome (those are the engine's own); `handle` says
                // whether its command was one, as it has the case in hand: asked here, the command was
                // copied to be looked at.
                if startReconciling != nil, !command.isInternal {
                    brokerEventsOnly = false
                    heldCommands.append(command)
                    continue
                }
                if let journalFailure, !command.isRead {
                    if !command.isBrokerOutcome { brokerEventsOnly = false }
                    if case .brokerEvent(let account, let event) = command {
                        logger.error(
                            "broker event not journaled: the journal failed",
                            metadata: ["account": "\(account)", "event": "\(event)"])
                    }
                    command.fail(EngineError(.internal, journalFailure))
                    continue
                }
                if !handle(consume command) { brokerEventsOnly = false }
            }
            let burst = !backlog.isEmpty
            if !burst, brokerEventsOnly, commitLinger > 0, lingerAllowed, let later = thread.later {
                if !lingering {
                    lingering = true
                    lingerToken &+= 1
                    let token = lingerToken
                    later(commitLinger) { [self] in self.assumeIsolated { $0.commitLingering(token: token) } }
                }
                continue
            }
            lingering = false
            do {
                try commit()
            } catch {
                failStop(error)
            }
            checkpointIfDue()
            // A burst is committed slice by slice, and the event loop reads its sockets between two
            // (`CommandBacklog`); while shutting down, everything is taken at once.
            if burst, lingerAllowed, thread.later != nil { break }
        }
        // Set last, once the batch's buffers are released: the loop must find the timer not yet due when
        // this returns, or it runs it before reading its sockets.
        if !backlog.isEmpty, lingerAllowed { scheduleBacklogDrain() }
        scheduleBrokerSteps()
    }

    /// Commits the batch that waited for `commitLinger`, unless a later batch committed it already. A
    /// timer's `token` must be the linger's still under way: the timer of a linger that a request's batch
    /// ended must not cut the next one short (it would commit that batch alone, and the request that
    /// arrives meanwhile would wait for two commits).
    func commitLingering(token: UInt64? = nil) {
        if let token, !lingering || token != lingerToken { return }
        lingering = false
        guard !staged.isEmpty || !deferred.isEmpty || !directCalls.isEmpty else { return }
        do {
            try commit()
        } catch {
            failStop(error)
        }
        checkpointIfDue()
        scheduleBrokerSteps()
    }

    /// The checkpoint at shutdown, after the one being written (if any).
    func checkpointAtShutdown() async {
        if let writing = checkpointWriting { await writing.value }
        checkpointIfDue(force: true)
    }

    /// Writes a checkpoint when `checkpointEvery` events have passed since the last (or, with `force`, when
    /// anything has). The state is copied here (cheaply: its collections are copy-on-write) and sorted and
    /// encoded on a thread of its own at a lower scheduling priority, so that the engine's thread goes on
    /// trading meanwhile (in gateway-bench, checkpoints encoded on the order path's threads cost about
    /// 15 % of the throughput and most of the p99.9). While one is still being written, a due checkpoint
    /// waits for a later batch instead of holding this one up.
    ///
    /// With more open orders than `checkpointEvery`, checkpoints come every as many events as there are
    /// open orders instead: a checkpoint costs about as much as the orders it holds, so this keeps its
    /// cost per event bounded (with 100 000 resting orders, checkpoints every 10 000 events took CPU from
    /// the order path all the time), and a restart replays at most about as many events after the
    /// checkpoint as the checkpoint itself holds orders.
    ///
    /// A due checkpoint also waits while a direct broker has steps left (`brokerStepsDue`: a quote's pass
    /// through many resting paper orders): the pass changes most of the state between two steps, and a
    /// copy held by a checkpoint under way kept a second version of everything it changed. With 100 000
    /// resting orders the daemon's peak RSS through the pass was 145–147 MiB without checkpoints and 156–163
    /// MiB with them (docs/performance.md). It is taken after the pass, with the orders it finished gone.
    func checkpointIfDue(force: Bool = false) {
        let seq = nextSeq - 1
        guard journalFailure == nil, checkpointWriting == nil,
            force || (brokerStepsDue.isEmpty && cancelPasses.isEmpty),
            Self.checkpointDue(
                seq: seq, last: lastCheckpointSeq, every: checkpointEvery, openOrders: orders.live.count, force: force)
        else { return }
        lastCheckpointSeq = seq
        let changes = checkpointChain.flatMap { chain in
            chain.extendable
                ? CheckpointChanges(base: chain.seq, clientIndex: clientIndexChanges, fills: fillsAdded) : nil
        }
        clientIndexChanges = []
        fillsAdded = []
        // Taken by the checkpoint's thread, which then drops it there (`HandOff`).
        let work = HandOff((state: stateCopy(withLists: changes == nil), changes: changes))
        let (base, journal, logger, ts) = (changes?.base, journal, logger, clock.now().nanosecondsSinceEpoch)
        checkpointWriting = Task.detached { [weak self] in
            var size: Int?
            do {
                // Encoded and written a piece at a time, so the whole state is never in memory at once.
                size = try await LowPriorityThread.run {
                    guard let (state, changes) = work.take() else { return nil }  // run once: always there
                    let writer = try journal.checkpointWriter(seq: seq, ts: ts, base: base)
                    try Checkpoint(seq: seq, state: state, changes: changes).encode(
                        pieceSize: CheckpointWriter.pieceSize
                    ) {
                        try writer.append($0)
                    }
                    try writer.finish()
                    return writer.size
                }
                logger.debug(
                    "checkpoint written",
                    metadata: ["journal.seq": "\(seq)", "base": "\(base.map { "\($0)" } ?? "none")"])
            } catch {
                logger.error("checkpoint not written", metadata: ["journal.seq": "\(seq)", "error": "\(error)"])
            }
            await self?.checkpointWritten(seq: seq, base: base, size: size)
        }
    }

    /// Whether a checkpoint is due after event `seq`, the last having been taken after `last`.
    static func checkpointDue(seq: Int64, last: Int64, every: Int, openOrders: Int, force: Bool) -> Bool {
        guard every > 0, seq > last else { return false }
        return force || seq - last >= Int64(max(every, openOrders))
    }

    /// Records the checkpoint just written (`size` bytes; `nil`: it failed, and the next is whole, since
    /// the changes it took are gone).
    private func checkpointWritten(seq: Int64, base: Int64?, size: Int?) {
        checkpointWriting = nil
        guard let size, journalFailure == nil else {
            checkpointChain = nil
            return
        }
        if base == nil {
            checkpointChain = CheckpointChain(seq: seq, rootSize: size)
        } else if var chain = checkpointChain {
            chain.extend(to: seq, size: size)
            checkpointChain = chain
        }
    }

    /// The journal refused a batch (disk full, I/O error, locked beyond the timeout): nothing of the batch
    /// is answered as done and nothing is sent to a broker; the in-memory state goes back to what the
    /// journal holds; from now on every request but a read is refused, and `status` says why.
    func failStop(_ error: any Error) {
        let reason =
            "the journal could not be written (\(error)): trading is halted and nothing was sent; "
            + "fix the journal's disk and restart gatewayd"
        logger.critical("journal append failed: trading halted", metadata: ["error": "\(error)"])
        journalFailure = reason
        let failure = EngineError(.internal, reason)
        let undone = deferred
        deferred.removeAll()
        directCalls.removeAll()
        staged.removeAll()
        for item in undone { item.onFailure(failure) }
        failCancelPasses(failure)
        do {
            load(try Self.restore(journal, accounts: accounts, decoder: decoder, logger: logger).0)
        } catch {
            logger.critical("cannot read the journal back after the failure", metadata: ["error": "\(error)"])
        }
    }

    func commit() throws {
        if !staged.isEmpty {
            let began = ContinuousClock.now
            // Committed on the engine's own thread: handing the batch to GRDB's writer queue and being
            // woken when it is done costs two thread wake-ups, most of the latency above the commit at
            // low load. Requests that arrive meanwhile wait for the next batch, which the next commit
            // covers whole (group commit).
            try journal.appendNow(staged, wakeLater: true)
            metrics.committed(in: ContinuousClock.now - began)
            hub.publish(staged)
            staged.removeAll(keepingCapacity: true)
        }
        orders.evict(finished)
        finished.removeAll(keepingCapacity: true)
        // Each list is taken by a swap and its emptied buffer given back when the list is still empty: a
        // copy taken and the list emptied "keeping its capacity" made the list a new buffer each commit,
        // as the copy still held the old one (three allocations an order).
        var actions: [Deferred] = []
        swap(&actions, &deferred)
        for action in actions { action.onCommit() }
        if !actions.isEmpty {
            for hook in answerHooks.withLock({ $0 }) { hook() }
        }
        actions.removeAll(keepingCapacity: true)
        if deferred.isEmpty { swap(&actions, &deferred) }
        // The tables' threads, left asleep by the append, are woken now that the answers are out. A failed
        // append owes no wake-up: handing the events over is its last step.
        journal.wakeTables()
        // The answers are on their way before a direct broker call takes this thread.
        guard !directCalls.isEmpty else { return }
        var calls: [(BrokerJob, AccountID)] = []
        swap(&calls, &directCalls)
        for (job, account) in calls {
            if let broker = directBrokers[account] { performNow(job, on: broker, account: account) }
        }
        calls.removeAll(keepingCapacity: true)
        if directCalls.isEmpty { swap(&calls, &directCalls) }
    }

    /// Registers `hook` to run on the engine's thread each time a batch's answers have been handed out,
    /// before the batch's direct broker calls: where the control server sends the answers it holds, one
    /// `write` per connection for the whole batch rather than one per answer.
    public nonisolated func afterAnswers(_ hook: @escaping @Sendable () -> Void) {
        answerHooks.withLock { $0.append(hook) }
    }

    /// Runs `body` after this batch commits; `onFailure` instead if the commit fails.
    func afterCommit(_ body: @escaping () -> Void, onFailure: @escaping (EngineError) -> Void = { _ in }) {
        deferred.append(Deferred(onCommit: body, onFailure: onFailure))
    }

    /// Answers a request after the batch commits.
    func reply<T: Sendable>(_ continuation: Reply<T>, _ result: Result<T, EngineError>) {
        afterCommit(
            { continuation.resume(returning: result) }, onFailure: { continuation.resume(returning: .failure($0)) })
    }
}

struct Deferred {
    let onCommit: () -> Void
    let onFailure: (EngineError) -> Void
}
