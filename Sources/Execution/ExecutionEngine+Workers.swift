import Journal
import Logging
import BrokerAPI
import GatewayCore

extension ExecutionEngine {
    /// Starts, per account, the queue that calls the adapter and the reader of the adapter's events. An
    /// adapter that works in memory (`DirectBroker`) has no queue: it is called on the engine's thread
    /// once the batch is committed, and its reports join the inbox as it makes them.
    func startWorkers() {
        for id in accountOrder {
            let adapter = accounts[id]!.adapter
            // Off the engine's thread, as the sender below: the wait for the adapter's next event would
            // otherwise bring each event back to that thread before it reaches the inbox (`enqueue` takes
            // any thread's commands, and wakes the engine once for a burst of them). A direct adapter's
            // stream carries only its end (and anything it reported before `deliverEvents`).
            listenerTasks.append(
                Task.detached { [self] in
                    for await event in adapter.events { enqueue(.brokerEvent(id, event)) }
                    enqueue(.brokerEventsEnded(id))
                })
            // (One that reports from running totals must be told the journal's first: through a task.)
            if let direct = adapter as? any DirectBroker, !(adapter is any JournaledTotalsAware) {
                directBrokers[id] = direct
                direct.deliverEvents { [self] event in enqueue(.brokerEvent(id, event)) }
                continue
            }
            let (jobs, continuation) = AsyncStream.makeStream(of: BrokerJob.self)
            senders[id] = continuation
            senderTasks.append(
                Task.detached { [self] in
                    for await job in jobs {
                        if let result = await Self.perform(job, on: adapter) {
                            enqueue(.brokerResult(id, result))
                        }
                    }
                })
        }
    }

    /// Makes one call on a `DirectBroker` here and now; its result, then what the broker reported during
    /// it, join the inbox in that order (the order a broker's answer and its stream arrive in), ahead of
    /// anything the broker reports later. The drain under way takes them next.
    func performNow(_ job: BrokerJob, on broker: any DirectBroker, account: AccountID) {
        broker.callNow(job.call) { outcome, events in
            var commands: [Command] = []
            commands.reserveCapacity(events.count + 1)
            if let result = Self.result(of: job, outcome) { commands.append(.brokerResult(account, result)) }
            for event in events { commands.append(.brokerEvent(account, event)) }
            enqueueHere(commands)
        }
        if broker.hasUnfinishedWork { brokerStepsDue.insert(account) }
    }

    /// Has each direct broker that left work unfinished (a quote through many resting paper orders) do
    /// its next step once the event loop has read its sockets, as a burst's next slice is taken
    /// (`scheduleBacklogDrain`): requests read meanwhile are handled between two steps. Called last in a
    /// drain, so that the timer is not yet due when the drain returns (a timer found due runs before the
    /// sockets are read).
    func scheduleBrokerSteps() {
        guard !brokerStepsDue.isEmpty || !cancelPasses.isEmpty, !brokerStepScheduled else { return }
        brokerStepScheduled = true
        let step: @Sendable () -> Void = { [self] in
            self.assumeIsolated { engine in
                engine.brokerStepScheduled = false
                engine.takeBrokerSteps()
            }
        }
        let pause = brokerStepsWaitForTables ? Self.tablesPause : Self.backlogPause
        if let later = thread.later { later(pause, step) } else { thread.schedule(step) }
    }

    /// The next step of each direct broker's unfinished work, then a drain that journals what they
    /// reported. While a burst waits to be journaled, or more than `stepTablesBacklog` journaled events
    /// wait to be copied into the journal's tables, the steps wait too, so that what the brokers reported
    /// before is not outrun and held in memory. Not while the tables refuse events: waiting would not
    /// bring them back, and the pass would stop until the next request to the broker finished it. The
    /// steps go on as every request does, and the journal's own backlog limit holds back every append
    /// alike.
    func takeBrokerSteps() {
        // A stopped engine's brokers are disconnected; after a journal failure nothing more is done.
        guard running, journalFailure == nil else { return }
        let tables = journal.tablesBacklog()
        brokerStepsWaitForTables = tables.problem == nil && tables.events > stepTablesBacklog
        if backlog.count <= burstSlice, !brokerStepsWaitForTables {
            // A cancel pass's slice first, journaled (and its broker calls made) before the brokers' steps.
            if takeCancelSlice() {
                lingering = false
                do { try commit() } catch { failStop(error) }
            }
            for account in accountOrder where brokerStepsDue.contains(account) {
                brokerStepsDue.remove(account)
                guard let broker = directBrokers[account] else { continue }
                broker.continueNow { events in
                    enqueueHere(events.map { .brokerEvent(account, $0) })
                }
                if broker.hasUnfinishedWork { brokerStepsDue.insert(account) }
            }
        }
        drain()
    }

    /// Makes one broker call and says what came of it; `nil` when there is nothing to journal.
    static func perform(_ job: BrokerJob, on adapter: any BrokerAdapter) async -> BrokerJobResult? {
        result(of: job, await outcome(of: job, on: adapter))
    }

    /// What the adapter returned for `job`: an order report for a settle, else `nil`.
    static func outcome(of job: BrokerJob, on adapter: any BrokerAdapter) async -> Result<
        BrokerOrderReport?, BrokerError
    > {
        do throws(BrokerError) {
            switch job {
            case .submit(let order):
                try await adapter.submit(order)
            case .cancel(let order):
                try await adapter.cancel(order)
            case .replace(let order, let replacement):
                try await adapter.replace(order, with: replacement)
            case .quote(let quote):
                await (adapter as? any QuoteConsumer)?.receive(quote)
            case .submitBracket(let entry, let stop, let target):
                guard let bracketing = adapter as? any BracketCapable else {
                    throw BrokerError(.nonRetryable, code: "not_supported", message: "no bracket orders")
                }
                try await bracketing.submitBracket(entry: entry, stop: stop, target: target)
            case .reconcile(let tag, let since):
                try await adapter.reconcile(tag: tag, since: since)
            case .settle(let id, let known):
                if let known, let aware = adapter as? any JournaledTotalsAware { await aware.know(known) }
                return .success(try await adapter.orderReport(for: id))
            }
            return .success(nil)
        } catch {
            return .failure(error)
        }
    }

    /// What the engine journals of a call's outcome; `nil` when there is nothing to journal.
    static func result(of job: BrokerJob, _ outcome: Result<BrokerOrderReport?, BrokerError>) -> BrokerJobResult? {
        switch (job, outcome) {
        case (.submit(let order), .success):
            return .submitted(order.orderID)
        case (.submit(let order), .failure(let error)):
            return .submitFailed(order.orderID, error)
        case (.cancel(let order), .failure(let error)):
            return .cancelFailed(order.orderID, error)
        case (.replace(let order, let replacement), .failure(let error)):
            return .replaceFailed(old: order.orderID, new: replacement.orderID, error)
        case (.submitBracket(let entry, let stop, let target), let outcome):
            let ids = [entry.orderID] + [stop, target].compactMap { $0?.orderID }
            if case .failure(let error) = outcome { return .bracketFailed(ids, error) }
            return .bracketSubmitted(ids)
        case (.reconcile(let tag, _), .failure(let error)):
            return .reconcileFailed(tag: tag, error)
        case (.settle(let id, _), .success(let report)):
            return .settled(id, report)
        case (.settle(let id, _), .failure(let error)):
            return .settleFailed(id, error)
        case (.cancel, .success), (.replace, .success), (.quote, _), (.reconcile, .success):
            return nil
        }
    }
}

extension BrokerJob {
    /// The job as a direct call (a settle asks for the order's report).
    var call: BrokerCall {
        switch self {
        case .submit(let order): .submit(order)
        case .cancel(let order): .cancel(order)
        case .replace(let order, let replacement): .replace(order, with: replacement)
        case .quote(let quote): .quote(quote)
        case .settle(let id, _): .orderReport(id)
        case .submitBracket(let entry, let stop, let target): .submitBracket(entry: entry, stop: stop, target: target)
        case .reconcile(let tag, let since): .reconcile(tag: tag, since: since)
        }
    }
}
