import Logging
import BrokerAPI
import GatewayCore
import Journal
import Foundation

extension ExecutionEngine {
    /// Acts on `command`; returns whether it was a broker's event or a call's result
    /// (`Command.isBrokerOutcome`).
    @discardableResult
    func handle(_ command: consuming Command) -> Bool {
        switch consume command {
        case .submit(let request, let reply): handleSubmit(request, reply)
        case .signal(let signal, let reply): self.reply(reply, accept(signal))
        case .cancel(let account, let reference, let reply): handleCancel(account, reference, reply)
        case .replace(let request, let reply): handleReplace(request, reply)
        case .cancelAll(let account, let symbol, let slice, let reply): handleCancelAll(account, symbol, slice, reply)
        case .quote(let quote, let reply): handleQuote(quote, reply)
        case .read(let body, _): body(self)
        case .brokerEvent(let account, let event):
            handleBrokerEvent(account, event)
            return true
        case .brokerResult(let account, let result):
            handleBrokerResult(account, result)
            return true
        case .halt(let account, let reason, let cancelOpen, let reply): handleHalt(account, reason, cancelOpen, reply)
        case .resume(let account, let state, let reason, let reply): handleResume(account, state, reason, reply)
        case .note(let event, let reply):
            self.reply(reply, .success(stage(event, at: clock.now())))
        case .reload(let limits, let note, let reply):
            self.reply(reply, .success(applyLimits(limits, note: note)))
        case .reconcile(let account, let reply): handleReconcile(account, reply)
        case .reconcileTick(let account, let trigger): handleReconcileTick(account, trigger)
        case .brokerEventsEnded(let account):
            // No snapshot can arrive any more: the reconciliations asked for fail.
            for tag in (pendingReconciliations[account] ?? [:]).keys.sorted() {
                reconcileFailed(
                    account, tag: tag,
                    error: BrokerError(.fatal, code: "events_ended", message: "the broker adapter stopped reporting"))
            }
        }
        return false
    }

    /// Adds an event to the batch; returns its sequence number. It reaches subscribers once committed.
    @discardableResult
    func stage(_ event: EngineEvent, at ts: Timestamp) -> Int64 {
        let seq = nextSeq
        nextSeq += 1
        var record = JournalRecord(seq: seq, ts: ts.nanosecondsSinceEpoch, kind: event.kind.rawValue, payload: "")
        let json: String
        func text(_ value: some Encodable) throws -> String {
            String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        do {
            switch event {
            case .accountOpened(let opened):
                record.account = opened.account.rawValue
                json = try text(opened)
            case .order(let change):
                record.account = change.order.account.rawValue
                record.symbol = change.order.symbol.text
                record.orderID = change.order.orderID.rawValue
                record.clientOrderID = change.order.clientOrderID.rawValue
                record.strategy = change.order.strategy
                json = change.jsonString(reusing: &payloadText)
            case .fill(let payload):
                record.account = payload.fill.account.rawValue
                record.symbol = payload.fill.symbol.text
                record.orderID = payload.fill.orderID.rawValue
                record.clientOrderID = payload.fill.clientOrderID.rawValue
                record.strategy = orders[payload.fill.orderID]?.strategy
                json = payload.jsonString(reusing: &payloadText)
            case .quote(let payload):
                record.symbol = payload.quote.symbol.text
                json = payload.jsonString(reusing: &payloadText)
            case .broker(let change):
                record.account = change.account.rawValue
                json = try text(change)
            case .brokerUnmatched(let unmatched):
                record.account = unmatched.account.rawValue
                json = try text(unmatched)
            case .reconciliation(let difference):
                record.account = difference.account.rawValue
                record.symbol = difference.symbol?.text
                record.orderID = difference.orderID?.rawValue
                json = try text(difference)
            case .tradingState(let change):
                record.account = change.account?.rawValue
                json = try text(change)
            case .alertDropped(let note):
                json = try text(note)
            case .accessDenied(let note):
                json = try text(note)
            case .configReloaded(let note):
                json = try text(note)
            }
        } catch {
            // The payload types hold only strings and integers; an encoding failure is a bug, and the
            // journal must not receive a record that replay could not read.
            preconditionFailure("cannot encode a journal event: \(error)")
        }
        record.payload = json
        staged.append(record)
        return seq
    }

    /// Stages an order's new state.
    func stageOrder(_ order: Order, change: String, reason: String? = nil) {
        if change == order.status.rawValue {
            metrics.order(order.account, reached: order.status)
            if order.status == .rejected || order.status == .unknown { logOutcome(order, reason: reason) }
        }
        // Every change of an order passes here, so the store holds the state the risk book last tracked.
        let previous = orders.replace(order)
        riskBooks.modifyValue(forKey: order.account) { $0.track(order, previous: previous) }
        if !order.status.isOpen { finished.insert(order.orderID) }
        stage(.order(OrderChanged(order: order, change: change, reason: reason)), at: order.updatedAt)
    }

    /// A rejection or an unknown outcome, logged with the fields an operator searches by (journald:
    /// `journalctl ACCOUNT=paper CLIENT_ORDER_ID=…`). Other transitions are in the journal, not the log.
    func logOutcome(_ order: Order, reason: String?) {
        let metadata: Logger.Metadata = [
            "account": "\(order.account)", "broker": "\(accounts[order.account]?.adapter.brokerName ?? "?")",
            "order.id": "\(order.orderID)", "order.client_id": "\(order.clientOrderID)",
            "symbol": "\(order.symbol.text)", "reason": "\(order.rejectReasons?.first ?? reason ?? "-")",
        ]
        if order.status == .unknown {
            logger.warning("order outcome unknown; settling with the broker", metadata: metadata)
        } else {
            logger.notice("order rejected", metadata: metadata)
        }
    }

    /// Runs `event` through the order's state machine and journals the change; `edit` may change other
    /// fields, which are journaled too. Returns the transition.
    @discardableResult
    func transition(
        _ id: OrderID, _ event: OrderEvent, reason: String? = nil, edit: (inout Order) -> Void = { _ in }
    ) -> OrderTransition {
        guard var order = orders[id] else { return .refused(reason: "unknown order") }
        let before = order
        let result = order.apply(event, at: clock.now())
        edit(&order)
        switch result {
        case .moved:
            stageOrder(order, change: order.status.rawValue, reason: reason)
        case .unchanged:
            if order != before { stageOrder(order, change: event.description, reason: reason) }
        case .refused(let why):
            logger.warning(
                "order event refused",
                metadata: [
                    "order.id": "\(id)", "order.status": "\(before.status.rawValue)", "event": "\(event)",
                    "reason": "\(why)",
                ])
            if order != before { stageOrder(order, change: event.description, reason: reason) }
        }
        return result
    }

    /// Hands a call to the account's broker queue once the batch is committed (a `DirectBroker` is called
    /// then, on this thread, once the batch's answers are written).
    func send(_ job: BrokerJob, to account: AccountID) {
        if directBrokers[account] != nil {
            directCalls.append((job, account))
            return
        }
        guard let sender = senders[account] else { return }
        afterCommit { sender.yield(job) }
    }
}
