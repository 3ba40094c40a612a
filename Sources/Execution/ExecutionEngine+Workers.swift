import Journal
import Logging
import BrokerAPI
import GatewayCore

extension ExecutionEngine {
    /// Starts, per account, the queue that calls the adapter and the reader of the adapter's events.
    func startWorkers() {
        for id in accountOrder {
            let adapter = accounts[id]!.adapter
            let (jobs, continuation) = AsyncStream.makeStream(of: BrokerJob.self)
            senders[id] = continuation
            // Both run off the engine's thread: a broker call and the wait for the adapter's next event
            // would otherwise bring each job and event back to that thread before it reaches the inbox
            // (`enqueue` takes any thread's commands, and wakes the engine once for a burst of them).
            senderTasks.append(
                Task.detached { [self] in
                    for await job in jobs {
                        if let result = await Self.perform(job, on: adapter) {
                            enqueue(.brokerResult(id, result))
                        }
                    }
                })
            listenerTasks.append(
                Task.detached { [self] in
                    for await event in adapter.events { enqueue(.brokerEvent(id, event)) }
                    enqueue(.brokerEventsEnded(id))
                })
        }
    }

    /// Makes one broker call and says what came of it; `nil` when there is nothing to journal.
    static func perform(_ job: BrokerJob, on adapter: any BrokerAdapter) async -> BrokerJobResult? {
        switch job {
        case .submit(let order):
            do {
                try await adapter.submit(order)
                return .submitted(order.orderID)
            } catch {
                return .submitFailed(order.orderID, error)
            }
        case .cancel(let order):
            do {
                try await adapter.cancel(order)
                return nil
            } catch {
                return .cancelFailed(order.orderID, error)
            }
        case .replace(let order, let replacement):
            do {
                try await adapter.replace(order, with: replacement)
                return nil
            } catch {
                return .replaceFailed(old: order.orderID, new: replacement.orderID, error)
            }
        case .quote(let quote):
            await (adapter as? any QuoteConsumer)?.receive(quote)
            return nil
        case .submitBracket(let entry, let stop, let target):
            let ids = [entry.orderID] + [stop, target].compactMap { $0?.orderID }
            guard let bracketing = adapter as? any BracketCapable else {
                return .bracketFailed(
                    ids, BrokerError(.nonRetryable, code: "not_supported", message: "no bracket orders"))
            }
            do {
                try await bracketing.submitBracket(entry: entry, stop: stop, target: target)
                return .bracketSubmitted(ids)
            } catch {
                return .bracketFailed(ids, error)
            }
        case .reconcile(let tag, let since):
            do {
                try await adapter.reconcile(tag: tag, since: since)
                return nil
            } catch {
                return .reconcileFailed(tag: tag, error)
            }
        case .settle(let id, let known):
            if let known, let aware = adapter as? any JournaledTotalsAware { await aware.know(known) }
            do {
                return .settled(id, try await adapter.orderReport(for: id))
            } catch {
                return .settleFailed(id, error)
            }
        }
    }
}
