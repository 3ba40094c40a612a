import BrokerAPI
import GatewayCore

/// Where a request's answer goes: an async caller's continuation, or a callback (the control server's,
/// which writes the answer on the connection's event loop without a task in between).
enum Reply<T: Sendable>: Sendable {
    case continuation(CheckedContinuation<Result<T, EngineError>, Never>)
    case callback(@Sendable (Result<T, EngineError>) -> Void)

    init(_ continuation: CheckedContinuation<Result<T, EngineError>, Never>) { self = .continuation(continuation) }

    func resume(returning result: Result<T, EngineError>) {
        switch self {
        case .continuation(let continuation): continuation.resume(returning: result)
        case .callback(let deliver): deliver(result)
        }
    }
}

/// What enters the engine's inbox. Any thread may enqueue one (the inbox is behind a lock); its closures
/// run only on the engine, which is why it is `@unchecked Sendable`.
enum Command: @unchecked Sendable {
    case submit(SubmitOrder, Reply<SubmitOutcome>)
    case signal(SubmitSignal, Reply<SignalOutcome>)
    case cancel(AccountID, OrderReference, Reply<Order>)
    case replace(ReplaceOrder, Reply<Order>)
    /// `slice` takes the orders whose cancel is sent, a slice at a time (`CancelPass`).
    case cancelAll(AccountID?, Symbol?, slice: ([Order]) -> Void, Reply<[OrderID]>)
    case quote(Quote, Reply<Quote>)
    case halt(AccountID?, reason: String?, cancelOpen: Bool, Reply<TradingStateChange>)
    case resume(AccountID?, TradingState, reason: String?, Reply<TradingStateChange>)
    /// A read of the state; it answers after the batch commits.
    case read((isolated ExecutionEngine) -> Void, fail: (EngineError) -> Void)
    case brokerEvent(AccountID, BrokerEvent)
    case brokerResult(AccountID, BrokerJobResult)
    /// A history-only note (an alert drop, a refused verb), journaled as it is.
    case note(EngineEvent, Reply<Int64>)
    /// New risk limits and sizing from a configuration reload, journaled with the note saying so.
    case reload([AccountID: AccountLimits], ConfigReloadNote, Reply<Int64>)
    /// An operator's reconciliation of one account or of all.
    case reconcile(AccountID?, Reply<[Reconciliation]>)
    /// A reconciliation timer fired (periodic, or a retry after a failure).
    case reconcileTick(AccountID, ReconcileTrigger)
    /// The adapter's events ended (it disconnected for good): nothing more will arrive from it.
    case brokerEventsEnded(AccountID)

    /// Reads change nothing, so they are answered even after the journal failed.
    var isRead: Bool {
        if case .read = self { return true }
        return false
    }

    /// A broker's event or a call's result: a batch of only these may linger before it commits.
    var isBrokerOutcome: Bool {
        switch self {
        case .brokerEvent, .brokerResult: true
        default: false
        }
    }

    /// Commands the engine makes itself are taken even while it shuts down.
    var isInternal: Bool {
        switch self {
        case .brokerEvent, .brokerResult, .reconcileTick, .brokerEventsEnded: true
        case .submit, .signal, .cancel, .replace, .cancelAll, .quote, .read, .halt, .resume, .note, .reload,
            .reconcile:
            false
        }
    }

    func fail(_ error: EngineError) {
        switch self {
        case .submit(_, let reply): reply.resume(returning: .failure(error))
        case .signal(_, let reply): reply.resume(returning: .failure(error))
        case .cancel(_, _, let reply), .replace(_, let reply): reply.resume(returning: .failure(error))
        case .cancelAll(_, _, _, let reply): reply.resume(returning: .failure(error))
        case .quote(_, let reply): reply.resume(returning: .failure(error))
        case .halt(_, _, _, let reply), .resume(_, _, _, let reply): reply.resume(returning: .failure(error))
        case .read(_, let fail): fail(error)
        case .note(_, let reply), .reload(_, _, let reply): reply.resume(returning: .failure(error))
        case .reconcile(_, let reply): reply.resume(returning: .failure(error))
        case .brokerEvent, .brokerResult, .reconcileTick, .brokerEventsEnded: break
        }
    }
}

/// A call the engine makes on a broker adapter, after the request is journaled.
enum BrokerJob: Sendable {
    case submit(Order)
    case cancel(Order)
    case replace(Order, with: Order)
    case quote(Quote)
    /// Ask the broker what became of an order whose outcome is unknown; `known` is the order as the
    /// journal has it (fills included), for adapters that report fills from running totals.
    case settle(OrderID, known: Order?)
    /// An entry with its stop and/or target.
    case submitBracket(Order, stop: Order?, target: Order?)
    /// Take a snapshot for reconciliation; it arrives on the adapter's events.
    case reconcile(tag: UInt64, since: Timestamp?)
}

/// What a broker call returned.
enum BrokerJobResult: Sendable {
    case submitted(OrderID)
    case bracketSubmitted([OrderID])
    case bracketFailed([OrderID], BrokerError)
    case submitFailed(OrderID, BrokerError)
    case cancelFailed(OrderID, BrokerError)
    case replaceFailed(old: OrderID, new: OrderID, BrokerError)
    case settled(OrderID, BrokerOrderReport?)
    case settleFailed(OrderID, BrokerError)
    case reconcileFailed(tag: UInt64, BrokerError)
}
