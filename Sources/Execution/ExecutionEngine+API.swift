import Foundation
import Synchronization
import BrokerAPI
import Logging
public import GatewayCore
public import Journal

extension ExecutionEngine {
    /// Accepts a new order: journaled before the answer and before the broker hears of it. A known
    /// `client_order_id` returns the existing order with `duplicate: true` and sends nothing.
    public nonisolated func submit(_ request: SubmitOrder) async -> Result<SubmitOutcome, EngineError> {
        await withCheckedContinuation { enqueue(.submit(request, Reply($0))) }
    }

    /// Sizes a signal with the account's policy and submits the entry; the same `signal_id` twice never
    /// makes a second order.
    public nonisolated func signal(_ signal: SubmitSignal) async -> Result<SignalOutcome, EngineError> {
        await withCheckedContinuation { enqueue(.signal(signal, Reply($0))) }
    }

    /// Asks the broker to cancel an open order; the answer is the order in `pending_cancel`.
    public nonisolated func cancel(account: AccountID, _ reference: OrderReference) async -> Result<Order, EngineError>
    {
        await withCheckedContinuation { enqueue(.cancel(account, reference, Reply($0))) }
    }

    /// Asks the broker to replace an order; the answer is the new order, in `accepted` until the broker
    /// confirms. The client_order_id moves to the new order.
    public nonisolated func replace(_ request: ReplaceOrder) async -> Result<Order, EngineError> {
        await withCheckedContinuation { enqueue(.replace(request, Reply($0))) }
    }

    /// Asks to cancel every open order, optionally of one account or symbol; the answer is the orders
    /// whose cancel was sent, in `pending_cancel`.
    public nonisolated func cancelAll(account: AccountID?, symbol: Symbol?) async -> Result<[Order], EngineError> {
        let sent = Mutex<[Order]>([])
        let done = await withCheckedContinuation { continuation in
            cancelAll(
                account: account, symbol: symbol, slice: { orders in sent.withLock { $0 += orders } },
                reply: { continuation.resume(returning: $0) })
        }
        return done.map { _ in sent.withLock { $0 } }
    }

    /// Records a market price: the paper simulator fills against it and positions are marked at it.
    public nonisolated func quote(_ quote: Quote) async -> Result<Quote, EngineError> {
        await withCheckedContinuation { enqueue(.quote(quote, Reply($0))) }
    }

    /// The kill switch: halts one account, or the whole gateway when `account` is `nil`; with
    /// `cancelOpen`, also asks the brokers to cancel every open order in that scope.
    public nonisolated func halt(account: AccountID?, reason: String?, cancelOpen: Bool) async -> Result<
        TradingStateChange, EngineError
    > {
        await withCheckedContinuation { enqueue(.halt(account, reason: reason, cancelOpen: cancelOpen, Reply($0))) }
    }

    /// Returns an account, or the whole gateway, to `active` or `reducing`.
    public nonisolated func resume(account: AccountID?, state: TradingState, reason: String?) async
        -> Result<TradingStateChange, EngineError>
    {
        await withCheckedContinuation { enqueue(.resume(account, state, reason: reason, Reply($0))) }
    }

    /// Compares one account's journal with its broker (or every account's): open orders, fills and
    /// positions; each difference is journaled and acted on by the account's policy, and answered.
    public nonisolated func reconcile(account: AccountID?) async -> Result<[Reconciliation], EngineError> {
        await withCheckedContinuation { enqueue(.reconcile(account, Reply($0))) }
    }

    /// Order-path requests for callers that take their answer as a callback (the control server): the
    /// answer is delivered on the engine's executor once the batch is committed, with no task between.
    public nonisolated func submit(
        _ request: SubmitOrder, reply: @escaping @Sendable (Result<SubmitOutcome, EngineError>) -> Void
    ) {
        enqueue(.submit(request, .callback(reply)))
    }

    public nonisolated func signal(
        _ signal: SubmitSignal, reply: @escaping @Sendable (Result<SignalOutcome, EngineError>) -> Void
    ) {
        enqueue(.signal(signal, .callback(reply)))
    }

    public nonisolated func cancel(
        account: AccountID, _ reference: OrderReference,
        reply: @escaping @Sendable (Result<Order, EngineError>) -> Void
    ) {
        enqueue(.cancel(account, reference, .callback(reply)))
    }

    public nonisolated func replace(
        _ request: ReplaceOrder, reply: @escaping @Sendable (Result<Order, EngineError>) -> Void
    ) {
        enqueue(.replace(request, .callback(reply)))
    }

    /// `cancel_all` for a caller that writes its answer as the cancels are sent: `slice` takes each
    /// slice's orders, on the engine's thread, before the slice is journaled; `reply` says which orders
    /// were sent a cancel once every slice is (and only then may the answer go out).
    public nonisolated func cancelAll(
        account: AccountID?, symbol: Symbol?, slice: @escaping @Sendable ([Order]) -> Void,
        reply: @escaping @Sendable (Result<[OrderID], EngineError>) -> Void
    ) {
        enqueue(.cancelAll(account, symbol, slice: slice, .callback(reply)))
    }

    public nonisolated func quote(_ quote: Quote, reply: @escaping @Sendable (Result<Quote, EngineError>) -> Void) {
        enqueue(.quote(quote, .callback(reply)))
    }

    /// Reads the state in inbox order, so a read sees every earlier request of the same client.
    public nonisolated func read<T: Sendable>(
        _ body: @escaping @Sendable (isolated ExecutionEngine) -> Result<T, EngineError>
    )
        async
        -> Result<T, EngineError>
    {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, EngineError>, Never>) in
            read(body) { continuation.resume(returning: $0) }
        }
    }

    /// `read`, answered through `reply` once the batch commits (on the engine's thread), with no task
    /// to wait for.
    public nonisolated func read<T: Sendable>(
        _ body: @escaping @Sendable (isolated ExecutionEngine) -> Result<T, EngineError>,
        reply: @escaping @Sendable (Result<T, EngineError>) -> Void
    ) {
        enqueue(.read({ engine in engine.reply(.callback(reply), body(engine)) }, fail: { reply(.failure($0)) }))
    }

    /// Orders matching `filter`, oldest first.
    ///
    /// Working orders are read from the engine's memory. Finished ones are in the journal only, and with
    /// them every order's newest state: an answer waits for its batch's commit, so once the engine has
    /// answered the read below, every earlier request of the same client is in the journal. The history
    /// is then read there, on the caller's thread, not the engine's: on a journal of a million events
    /// reading and decoding it took over four seconds, and the order path waited for it.
    public nonisolated func orders(_ filter: OrderFilter) async -> Result<[Order], EngineError> {
        let working = await read { engine -> Result<[Order], EngineError> in
            if let account = filter.account, engine.accounts[account] == nil, engine.books[account] == nil {
                return .failure(EngineError(.unknownAccount, "no account named '\(account)'"))
            }
            return .success(filter.openOnly ? engine.orders.open(in: filter.account) : [])
        }
        return working.flatMap { working in
            var all = working
            if !filter.openOnly {
                do {
                    let decoder = JSONDecoder()
                    all = try journal.latestOrderPayloads(
                        account: filter.account?.rawValue, symbol: filter.symbol?.text, strategy: filter.strategy
                    ).compactMap { try? decoder.decode(OrderChanged.self, from: Data($0.utf8)).order }
                } catch {
                    return .failure(EngineError(.internal, "cannot read the journal: \(error)"))
                }
            }
            let matching = all.filter { order in
                (filter.account.map { order.account == $0 } ?? true)
                    && (filter.symbol.map { order.symbol == $0 } ?? true)
                    && (filter.strategy.map { order.strategy == $0 } ?? true)
            }
            return .success(matching.sorted { ($0.createdAt, $0.orderID) < ($1.createdAt, $1.orderID) })
        }
    }

    /// Positions with their marks, of one account or all.
    public nonisolated func positions(account: AccountID?) async -> Result<[PositionSnapshot], EngineError> {
        await read { engine in
            if let account, engine.books[account] == nil {
                return .failure(EngineError(.unknownAccount, "no account named '\(account)'"))
            }
            let marks = engine.quotes.compactMapValues(\.mark)
            let books = engine.books.values.filter { book in account.map { book.account == $0 } ?? true }
            return .success(books.sorted { $0.account < $1.account }.flatMap { $0.positionSnapshots(marks: marks) })
        }
    }

    /// An account's figures.
    public nonisolated func account(_ id: AccountID) async -> Result<AccountSnapshot, EngineError> {
        await read { engine in
            guard let book = engine.books[id] else {
                return .failure(EngineError(.unknownAccount, "no account named '\(id)'"))
            }
            return .success(
                book.snapshot(
                    marks: engine.quotes.compactMapValues(\.mark), tradingState: engine.tradingState(of: id).rawValue,
                    broker: engine.accounts[id]?.adapter.brokerName ?? "none",
                    today: engine.sessionDate(of: id, at: engine.clock.now())))
        }
    }

    /// The journal position and each account's broker and order counts.
    public nonisolated func status() async -> Result<EngineStatus, EngineError> {
        await read { $0.currentStatus() }
    }

    /// `status()`, answered through `reply` (`read(_:reply:)`).
    public nonisolated func status(reply: @escaping @Sendable (Result<EngineStatus, EngineError>) -> Void) {
        read({ $0.currentStatus() }, reply: reply)
    }

    private func currentStatus() -> Result<EngineStatus, EngineError> {
        let accounts = accountOrder.map { id in
            let count = orders.openCount(in: id)
            return AccountStatus(
                account: id, broker: self.accounts[id]!.adapter.brokerName,
                connection: connections[id]?.rawValue ?? "disconnected", tradingState: tradingState(of: id).rawValue,
                openOrders: count.open, unknownOrders: count.unknown)
        }
        let backlog = journal.tablesBacklog()
        return .success(
            EngineStatus(
                seq: nextSeq - 1, accounts: accounts, journalFailure: journalFailure, tablesBacklog: backlog.events,
                tablesProblem: backlog.problem))
    }

    /// The configured accounts, in configuration order.
    public nonisolated var accountIDs: [AccountID] { accountOrder }

    /// Journaled events matching `query`, read from the journal (committed events only).
    public nonisolated func journalEvents(_ query: EventQuery) -> Result<[PublishedEvent], EngineError> {
        let filter = JournalQuery(
            account: query.account?.rawValue, symbol: query.symbol?.text, strategy: query.strategy,
            orderID: query.orderID?.rawValue, clientOrderID: query.clientOrderID?.rawValue, kinds: query.kinds,
            since: query.since?.nanosecondsSinceEpoch,
            until: query.until?.nanosecondsSinceEpoch, afterSeq: query.afterSeq, limit: query.limit)
        do {
            return .success(try journal.records(matching: filter).map(PublishedEvent.init(record:)))
        } catch {
            return .failure(EngineError(.internal, "cannot read the journal: \(error)"))
        }
    }

    /// Walks the journal's hash chain and sequence numbers (committed events only).
    public nonisolated func verifyJournal() -> Result<JournalVerification, EngineError> {
        do {
            return .success(try journal.verify())
        } catch {
            return .failure(EngineError(.internal, "cannot read the journal: \(error)"))
        }
    }

    /// The chain's verification and, when asked, the state compared with a fresh replay.
    public nonisolated func audit(comparingState: Bool) async -> Result<JournalAudit, EngineError> {
        switch verifyJournal() {
        case .failure(let error): return .failure(error)
        case .success(let chain):
            guard comparingState else { return .success(JournalAudit(chain: chain, state: nil)) }
            return await verifyState().map { JournalAudit(chain: chain, state: $0) }
        }
    }

    /// Compares the state the engine holds with a fresh replay of the whole journal, right after a
    /// commit: both encoded as a checkpoint, byte for byte. The engine waits for the replay, so this is
    /// an audit tool, not something to poll.
    public nonisolated func verifyState() async -> Result<StateCheck, EngineError> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<StateCheck, EngineError>, Never>) in
            enqueue(
                .read(
                    { engine in
                        engine.afterCommit(
                            { continuation.resume(returning: engine.compareWithReplay()) },
                            onFailure: { continuation.resume(returning: .failure($0)) })
                    }, fail: { continuation.resume(returning: .failure($0)) }))
        }
    }

    func compareWithReplay() -> Result<StateCheck, EngineError> {
        let seq = nextSeq - 1
        do {
            let live = try Checkpoint(seq: seq, state: stateCopy).encoded()
            var replay = Replay(decoder: JSONDecoder(), accounts: accounts)
            try journal.forEachRecord { record in if record.seq <= seq { try replay.apply(record) } }
            let fresh = try Checkpoint(replay).encoded()
            return .success(
                StateCheck(
                    seq: seq, matches: live == fresh, restoredFromCheckpoint: restoredFromCheckpoint,
                    liveBytes: live.count, replayBytes: fresh.count))
        } catch {
            return .failure(EngineError(.internal, "cannot compare the state with a replay: \(error)"))
        }
    }

    /// Copies the journal, consistent, to `path` (absolute, new) while trading goes on.
    public nonisolated func backupJournal(to path: String) -> Result<JournalBackup, EngineError> {
        guard path.hasPrefix("/") else { return .failure(.badRequest("path", "the backup path must be absolute")) }
        do {
            return .success(JournalBackup(path: path, events: try journal.backup(to: path)))
        } catch let error as JournalError {
            return .failure(.badRequest("path", error.description))
        } catch {
            return .failure(EngineError(.internal, "cannot back up the journal to \(path): \(error)"))
        }
    }

    /// The sequence number of the last event published to subscribers (after replay: the journal's last).
    public nonisolated var lastPublishedSeq: Int64 { hub.lastSeq }

    /// Journals that an alert destination dropped alerts; answers the event's sequence number.
    public nonisolated func journalAlertDrop(_ note: AlertDropNote) async -> Result<Int64, EngineError> {
        await withCheckedContinuation { enqueue(.note(.alertDropped(note), Reply($0))) }
    }

    /// Journals a control-socket verb refused for the peer's role; answers the event's sequence number.
    public nonisolated func journalAccessDenied(_ note: AccessDeniedNote) async -> Result<Int64, EngineError> {
        await withCheckedContinuation { enqueue(.note(.accessDenied(note), Reply($0))) }
    }

    /// Replaces the risk limits and sizing of the accounts named in `limits` (others keep theirs) and
    /// journals `note` in the same batch: the next order faces the new limits. Running figures (today's
    /// orders, losses, exposure) are kept. Answers the `config_reloaded` event's sequence number.
    public nonisolated func reloadLimits(_ limits: [AccountID: AccountLimits], note: ConfigReloadNote) async -> Result<
        Int64, EngineError
    > {
        await withCheckedContinuation { enqueue(.reload(limits, note, Reply($0))) }
    }

    /// Answers once the engine has handled everything enqueued before it and committed that batch, and
    /// the journal's tables hold it or the journal has said why they cannot: the watchdog's proof that
    /// the engine and the journal are making progress (a stuck append, a busy loop or a copy into the
    /// tables that hangs delays it). Tables that refuse events (the database locked by another process,
    /// the disk full) do not: the events are in the journal's log, trading goes on, `status` says why,
    /// and a restart would not help.
    public nonisolated func ping() async -> Bool {
        guard case .success = await read({ _ in .success(true) }) else { return false }
        let journal = self.journal
        return await withCheckedContinuation { continuation in
            journal.whenIndexed { _ in continuation.resume(returning: true) }
        }
    }

    /// Live events as they commit, filtered by kind, handed to `sink` on the engine's thread as each batch
    /// commits; `nil` when the engine has stopped. Ends (the sink's `ended`) when the engine stops or the
    /// sink refuses an event; `unsubscribe` ends it from the subscriber's side.
    public nonisolated func subscribeLive(kinds: Set<String>?, sink: EventSink) -> Int? {
        hub.subscribe(kinds: kinds, sink: sink)
    }

    /// Ends a live subscription made with `subscribeLive`.
    public nonisolated func unsubscribe(_ id: Int) {
        hub.remove(id)
    }

    /// Events journaled after `afterSeq` (none when `nil`), then live ones as they commit, filtered by
    /// kind. The stream ends when the engine stops or the subscriber falls too far behind; a client
    /// then subscribes again with the last `seq` it saw.
    public nonisolated func subscribe(afterSeq: Int64?, kinds: Set<String>?) -> AsyncStream<PublishedEvent> {
        let (lastSeq, live) = hub.subscribe(kinds: kinds)
        // Live events only: the hub's own stream, with no task relaying it.
        guard let afterSeq else { return live }
        let journal = self.journal
        return AsyncStream { continuation in
            let task = Task {
                var cursor = afterSeq
                while cursor < lastSeq, !Task.isCancelled {
                    let page = (try? journal.records(after: cursor, limit: 1_000)) ?? []
                    guard !page.isEmpty else { break }
                    for record in page where record.seq <= lastSeq {
                        if kinds?.contains(record.kind) ?? true {
                            continuation.yield(PublishedEvent(record: record))
                        }
                        cursor = record.seq
                    }
                    if page.last!.seq >= lastSeq { break }
                }
                for await event in live where event.seq > afterSeq { continuation.yield(event) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

extension PublishedEvent {
    /// Renders a record as its wire line: `{"event":…,"seq":…,"ts":…,` then the payload's fields.
    /// Built in one string of the right capacity: every event of the order path passes here, and the
    /// interpolation and concatenation it replaces grew and copied the line several times.
    init(record: JournalRecord) {
        var line = "{\"event\":\""
        line.reserveCapacity(record.payload.utf8.count + record.kind.utf8.count + 80)
        line += record.kind
        line += "\",\"seq\":"
        line += String(record.seq)
        line += ",\"ts\":\""
        line += Timestamp(nanosecondsSinceEpoch: record.ts).description
        line += "\","
        line += record.payload.dropFirst()
        self.init(seq: record.seq, kind: record.kind, line: line, strategy: record.strategy)
    }
}
