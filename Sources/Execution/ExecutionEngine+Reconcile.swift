import BrokerAPI
import GatewayCore
import HashTreeCollections
import Journal
import Logging

/// What started a reconciliation.
enum ReconcileTrigger: String, Sendable {
    case start, reconnect, periodic
    case byOperator = "operator"

    /// Whether the account takes no new order until this reconciliation ends.
    var blocksOrders: Bool { self == .start || self == .reconnect }
}

/// Told the outcome of a reconciliation, after the batch that compared it is committed.
typealias ReconcileAnswer = (Result<Reconciliation, EngineError>) -> Void

/// A reconciliation asked of an adapter and not yet answered.
struct PendingReconciliation {
    var trigger: ReconcileTrigger
    var answers: [ReconcileAnswer] = []
    /// When it was asked for: an order accepted later may reach the broker only after the snapshot.
    var askedAt: Timestamp
}

/// Reconciliation (DESIGN.md, issue "the journal and the broker agree"): the broker is the truth about
/// what was filled and what works; the journal is the truth about what the gateway intended. At start
/// (before READY and before any order is taken), after every reconnect (before the account's orders are
/// taken again), periodically and on demand, the adapter reports the fills it finds it missed, then a
/// snapshot of the broker's working orders and positions, in order on its event stream — so the
/// snapshot is compared with a journal that already holds everything reported before it. Each difference
/// is journaled (`reconciliation`) with both sides' values and what was done: an external order adopted
/// (or alerted on, or the account halted), a position mismatch halted on (or alerted on, or adopted as an
/// external fill), a journal-open order the broker no longer works settled by asking the broker.
extension ExecutionEngine {
    /// How old a fill found by reconciliation must be to count as missed rather than late (5 s).
    static var lateFrameGrace: Int64 { 5_000_000_000 }

    /// Asks the account's adapter for a snapshot; `reply` is answered when it has been compared.
    func startReconciliation(_ account: AccountID, _ trigger: ReconcileTrigger, answer: ReconcileAnswer? = nil) {
        let tag = nextReconcileTag
        nextReconcileTag += 1
        pendingReconciliations[account, default: [:]][tag] = PendingReconciliation(
            trigger: trigger, answers: answer.map { [$0] } ?? [], askedAt: clock.now())
        if trigger.blocksOrders { reconciling.insert(account) }
        // At start the adapter knows nothing of earlier runs: fills after the newest journaled are missed.
        var since: Timestamp?
        if trigger == .start {
            since = (try? journal.latestFillTimestamp(account: account.rawValue))
                .flatMap { $0 }.map(Timestamp.init(nanosecondsSinceEpoch:))
        }
        send(.reconcile(tag: tag, since: since), to: account)
    }

    /// `reconcile`: one account, or every account whose broker is connected.
    func handleReconcile(_ account: AccountID?, _ continuation: Reply<[Reconciliation]>) {
        if let account, accounts[account] == nil {
            return reply(continuation, .failure(EngineError(.unknownAccount, "no account named '\(account)'")))
        }
        let targets = account.map { [$0] } ?? accountOrder
        let unavailable = targets.filter { connections[$0] != .connected }
        if !unavailable.isEmpty {
            let names = unavailable.map(\.rawValue).joined(separator: ", ")
            return reply(
                continuation, .failure(EngineError(.brokerUnavailable, "not connected to the broker of \(names)")))
        }
        // Each account's answer arrives on its own; the answer is sent when all have.
        let collector = ReconciliationCollector(accounts: targets, continuation: continuation)
        for target in targets {
            startReconciliation(target, .byOperator) { collector.take($0, for: target) }
        }
    }

    /// Tells whoever asked, once this batch is committed.
    func answer(_ answers: [ReconcileAnswer], _ result: Result<Reconciliation, EngineError>) {
        for answer in answers {
            afterCommit({ answer(result) }, onFailure: { answer(.failure($0)) })
        }
    }

    /// A tick of an account's reconciliation timer: a periodic comparison, or a retry after a failure.
    func handleReconcileTick(_ account: AccountID, _ trigger: ReconcileTrigger) {
        guard connections[account] == .connected, startReconciling == nil else { return }
        let pending = pendingReconciliations[account] ?? [:]
        if trigger == .periodic, !pending.isEmpty { return }
        if trigger.blocksOrders, pending.values.contains(where: { $0.trigger.blocksOrders }) { return }
        startReconciliation(account, trigger)
    }

    func reconcileFailed(_ account: AccountID, tag: UInt64, error: BrokerError) {
        guard let pending = pendingReconciliations[account]?.removeValue(forKey: tag) else { return }
        logger.error(
            "reconciliation failed: the broker could not be read",
            metadata: ["account": "\(account)", "trigger": "\(pending.trigger.rawValue)", "error": "\(error)"])
        let failure = EngineError(.brokerUnavailable, "reconciliation of \(account) failed: \(error)")
        answer(pending.answers, .failure(failure))
        if pending.trigger.blocksOrders {
            // The account stays closed to new orders; it is tried again shortly, or at the next reconnect.
            reconcileFailures[account] = error.description
            scheduleRetry(account)
        }
        finishStartReconciliation(account)
    }

    /// Compares a broker's snapshot with the journal and acts on each difference.
    func handleSnapshot(_ account: AccountID, _ snapshot: BrokerSnapshot) {
        guard let pending = pendingReconciliations[account]?.removeValue(forKey: snapshot.tag) else {
            stageUnmatched(account, "a reconciliation snapshot nobody asked for (tag \(snapshot.tag))")
            return
        }
        let policy = accounts[account]?.reconcile ?? ReconcilePolicy()
        var found = ReconciliationFindings(account: account, trigger: pending.trigger.rawValue)
        let now = clock.now().nanosecondsSinceEpoch
        for fill in snapshot.missedFills {
            // A fill of the last few seconds is a stream frame still on its way, not a missing one: it is
            // journaled like any fill (once, by its id), without a difference.
            guard now - fill.ts.nanosecondsSinceEpoch >= Self.lateFrameGrace else {
                continue
            }
            let order = orders[fill.orderID]
            found.add(
                .fillMissing, symbol: order?.symbol, orderID: fill.orderID, journal: nil,
                broker: "\(fill.qty) at \(fill.price) (\(fill.fillID))", action: .journaled,
                detail: "a fill the gateway had not been told of; journaled from the broker's report")
        }
        var touched: Set<Symbol> = []
        for report in snapshot.openOrders {
            if let order = orders[report.orderID] {
                guard order.account == account else { continue }
                if !order.status.isOpen {
                    found.add(
                        .orderStatus, symbol: order.symbol, orderID: order.orderID, journal: order.status.rawValue,
                        broker: report.status.rawValue, action: .alerted,
                        detail: "the broker still works an order the journal holds as ended")
                }
                continue
            }
            if let symbol = external(report, account: account, policy: policy.externalOrders, into: &found) {
                touched.insert(symbol)
            }
        }
        let working = Set(snapshot.openOrders.map(\.orderID))
        for id in orders.openIDs(in: account, where: { _ in true }) where !working.contains(id) {
            // Not yet sent, already being settled, a bracket's exit the broker lists under its entry, or
            // accepted after the snapshot was asked for (its submit may have come after the broker's read).
            guard let order = orders[id], ![.accepted, .unknown].contains(order.status), order.parentOrderID == nil,
                order.createdAt < pending.askedAt
            else { continue }
            found.add(
                .orderStatus, symbol: order.symbol, orderID: id, journal: order.status.rawValue, broker: "not working",
                action: .settled, detail: "the broker no longer works this order; asking it what became of it")
            send(.settle(id, known: order), to: account)
        }
        var compared = false
        if let positions = snapshot.positions, snapshot.consistent {
            compared = true
            comparePositions(positions, account: account, policy: policy.positionMismatch, skip: touched, into: &found)
        }
        let result = found.result(
            positionsCompared: compared, brokerOpenOrders: snapshot.openOrders.count,
            brokerPositions: snapshot.positions?.count)
        journal(found, account: account)
        answer(pending.answers, .success(result))
        if pending.trigger.blocksOrders {
            reconcileFailures[account] = nil
            if !(pendingReconciliations[account] ?? [:]).values.contains(where: { $0.trigger.blocksOrders }) {
                reconciling.remove(account)
            }
        }
        finishStartReconciliation(account)
    }

    /// An order the broker works that the journal does not hold: adopted (journaled as the broker holds
    /// it, marked external, then settled so that its fills are journaled), alerted on, or the account
    /// halted. Returns its symbol when it was adopted (its position is compared next time, once its
    /// fills are in).
    func external(
        _ report: BrokerOrderReport, account: AccountID, policy: ReconcileAction,
        into found: inout ReconciliationFindings
    ) -> Symbol? {
        let terms = report.terms
        let broker = terms.map { "\($0.side.rawValue) \($0.qty) \($0.symbol.text) \($0.type.rawValue)" } ?? "?"
        guard policy == .adopt, let terms else {
            let action: ReconciliationDifference.Action = policy == .halt ? .halted : .alerted
            let why =
                policy == .adopt
                ? "an order placed outside the gateway whose terms cannot be read (a spread?); not adopted"
                : "an order placed outside the gateway (by hand, or by another program)"
            found.add(
                .externalOrder, symbol: terms?.symbol, orderID: report.orderID, brokerOrderID: report.brokerOrderID,
                journal: nil, broker: broker, action: action, detail: why)
            return nil
        }
        var clientID = ClientOrderID(terms.clientOrderID) ?? ClientOrderID("ext-\(report.orderID.rawValue)")!
        if clientIndex[account]?[clientID] != nil { clientID = ClientOrderID("ext-\(report.orderID.rawValue)")! }
        var order = Order(
            orderID: report.orderID, clientOrderID: clientID, account: account, symbol: terms.symbol,
            side: terms.side, qty: terms.qty, type: terms.type, limitPrice: terms.limitPrice,
            stopPrice: terms.stopPrice, tif: terms.tif, tags: ["external"], status: .acknowledged,
            createdAt: clock.now())
        order.brokerOrderID = report.brokerOrderID
        indexClientOrder(account, clientID, order.orderID)
        stageOrder(order, change: "adopted", reason: "placed at the broker outside the gateway; adopted")
        found.add(
            .externalOrder, symbol: terms.symbol, orderID: report.orderID, brokerOrderID: report.brokerOrderID,
            journal: nil, broker: broker, action: .adopted,
            detail: "an order placed outside the gateway, adopted and marked external")
        // Its fills so far, and what becomes of it, come as for any order the broker is asked about.
        send(.settle(order.orderID, known: order), to: account)
        return terms.symbol
    }

    /// Every symbol where the journal's position and the broker's differ.
    func comparePositions(
        _ positions: [BrokerPositionReport], account: AccountID, policy: ReconcileAction, skip: Set<Symbol>,
        into found: inout ReconciliationFindings
    ) {
        let held = books[account]?.positions ?? [:]
        let reported = Dictionary(positions.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        let symbols = Set(held.keys).union(reported.keys).subtracting(skip).sorted()
        for symbol in symbols {
            let journalQty = held[symbol]?.qty ?? .zero
            let brokerQty = reported[symbol]?.qty ?? .zero
            guard journalQty != brokerQty else { continue }
            var action: ReconciliationDifference.Action = policy == .halt ? .halted : .alerted
            var detail = "the broker's position differs from the journal's fills"
            if policy == .adopt {
                if let price = reported[symbol]?.avgPrice ?? quotes[symbol]?.mark {
                    adoptPosition(symbol, account: account, by: brokerQty - journalQty, at: price)
                    action = .adopted
                    detail += "; the difference is journaled as an external fill at \(price)"
                } else {
                    detail += "; not adopted: no price to book it at"
                }
            }
            found.add(
                .positionMismatch, symbol: symbol, orderID: nil, journal: "\(journalQty)", broker: "\(brokerQty)",
                action: action, detail: detail)
        }
    }

    /// Books a position difference as a filled external order, so the journal's position is the broker's.
    func adoptPosition(_ symbol: Symbol, account: AccountID, by difference: Quantity, at price: Price) {
        let id = OrderID("ext-\(journal.instanceID)-\(nextSeq)")!
        bookBrokerOrder(
            symbol, account: account, side: difference.isPositive ? .buy : .sell, qty: difference.magnitude,
            price: price, fillID: FillID("\(id.rawValue)-adjust")!, tags: ["external", "position_adjustment"],
            reason: "a position difference found by reconciliation", at: clock.now(), id: id)
    }

    /// Journals a trade the broker made on its own (a position adjustment, an option's expiry) as an order
    /// adopted already acknowledged, filled whole at `price`.
    func bookBrokerOrder(
        _ symbol: Symbol, account: AccountID, side: OrderSide, qty: Quantity, price: Price, fillID: FillID,
        tags: [String], reason: String, at ts: Timestamp, id: OrderID? = nil
    ) {
        let id = id ?? OrderID("ext-\(journal.instanceID)-\(nextSeq)")!
        let order = Order(
            orderID: id, clientOrderID: ClientOrderID(id.rawValue)!, account: account, symbol: symbol, side: side,
            qty: qty, type: .market, tif: .day, tags: tags, status: .acknowledged, createdAt: ts)
        indexClientOrder(account, order.clientOrderID, id)
        stageOrder(order, change: "adopted", reason: reason)
        record(BrokerFill(orderID: id, fillID: fillID, qty: qty, price: price, ts: ts), account: account)
    }

    /// Journals the findings (a difference already journaled by the previous reconciliation of the account,
    /// still unresolved, is not journaled again) and halts the account if a finding says so.
    func journal(_ found: ReconciliationFindings, account: AccountID) {
        let before = reportedDifferences[account] ?? []
        var now: Set<String> = []
        var halt: String?
        for difference in found.differences {
            now.insert(difference.key)
            if difference.action == .halted, halt == nil { halt = difference.detail }
            let repeated = before.contains(difference.key) && [.alerted, .halted].contains(difference.action)
            if !repeated {
                stage(.reconciliation(difference), at: clock.now())
                logger.warning(
                    "reconciliation difference",
                    metadata: [
                        "account": "\(account)", "difference": "\(difference.difference.rawValue)",
                        "symbol": "\(difference.symbol?.text ?? "-")", "journal": "\(difference.journal ?? "-")",
                        "broker": "\(difference.broker ?? "-")", "action": "\(difference.action.rawValue)",
                    ])
            }
        }
        reportedDifferences[account] = now
        if let halt, (accountStates[account] ?? .active) != .halted {
            setState(.halted, of: account, reason: "reconciliation: \(halt)", cause: "reconciliation")
        }
    }

    /// A start reconciliation ended (either way): once every account's has, the engine takes requests.
    func finishStartReconciliation(_ account: AccountID) {
        guard var waiting = startReconciling else { return }
        waiting.remove(account)
        startReconciling = waiting
        if waiting.isEmpty { openForRequests() }
    }

    /// Takes the requests held during the start reconciliation, ahead of any that arrived since, and says
    /// the engine has started once this batch is committed.
    func openForRequests() {
        startReconciling = nil
        requeueFirst(heldCommands)
        heldCommands = []
        let (signal, logger, seq) = (startedSignal, logger, nextSeq - 1)
        afterCommit {
            logger.info("engine started", metadata: ["journal.seq": "\(seq)"])
            signal.yield()
            signal.finish()
        }
    }

    /// After a failed reconciliation that keeps the account closed: tried again in five seconds.
    func scheduleRetry(_ account: AccountID) {
        reconcileTimers.append(
            Task { [weak self] in
                try? await Task.sleep(for: .seconds(5))
                await self?.enqueue(.reconcileTick(account, .reconnect))
            })
    }

    /// One timer per account with a period: a tick every period, for as long as the engine runs.
    func startReconcileTimers() {
        for id in accountOrder {
            guard let every = accounts[id]?.reconcile.every, every > .zero else { continue }
            reconcileTimers.append(
                Task { [weak self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: every)
                        guard !Task.isCancelled, let self else { return }
                        await self.enqueue(.reconcileTick(id, .periodic))
                    }
                })
        }
    }

    /// Why a new order for `account` cannot be taken now, or `nil`.
    func reconcilingDenial(_ account: AccountID, broker: String) -> String? {
        guard reconciling.contains(account) else { return nil }
        if let failure = reconcileFailures[account] {
            return "reconciliation with \(broker) failed (\(failure)); it is being retried; nothing was sent"
        }
        return "reconciling with \(broker) after connecting; nothing was sent"
    }
}

/// The differences one reconciliation found.
struct ReconciliationFindings {
    let account: AccountID
    let trigger: String
    var differences: [ReconciliationDifference] = []

    mutating func add(
        _ kind: ReconciliationDifference.Kind, symbol: Symbol?, orderID: OrderID?, brokerOrderID: String? = nil,
        journal: String?, broker: String?, action: ReconciliationDifference.Action, detail: String
    ) {
        differences.append(
            ReconciliationDifference(
                account: account, trigger: trigger, difference: kind, symbol: symbol, orderID: orderID,
                brokerOrderID: brokerOrderID, journal: journal, broker: broker, action: action, detail: detail))
    }

    func result(positionsCompared: Bool, brokerOpenOrders: Int, brokerPositions: Int?) -> Reconciliation {
        Reconciliation(
            account: account, trigger: trigger, differences: differences, positionsCompared: positionsCompared,
            brokerOpenOrders: brokerOpenOrders, brokerPositions: brokerPositions)
    }
}

/// Gathers one answer per account for `reconcile` and answers once all are in, or at the first failure.
/// Used only on the engine's actor (its answers run there, after a commit).
final class ReconciliationCollector {
    private let accounts: [AccountID]
    private var results: [AccountID: Reconciliation] = [:]
    private var continuation: Reply<[Reconciliation]>?

    init(accounts: [AccountID], continuation: Reply<[Reconciliation]>) {
        self.accounts = accounts
        self.continuation = continuation
    }

    func take(_ result: Result<Reconciliation, EngineError>, for account: AccountID) {
        guard let continuation else { return }
        switch result {
        case .failure(let error):
            self.continuation = nil
            continuation.resume(returning: .failure(error))
        case .success(let reconciliation):
            results[account] = reconciliation
            if results.count == accounts.count {
                self.continuation = nil
                continuation.resume(returning: .success(accounts.compactMap { results[$0] }))
            }
        }
    }
}
