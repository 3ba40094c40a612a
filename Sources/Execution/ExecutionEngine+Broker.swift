import HashTreeCollections
import Journal
import Logging
import BrokerAPI
import GatewayCore

extension ExecutionEngine {
    func handleBrokerEvent(_ account: AccountID, _ event: BrokerEvent) {
        switch event {
        case .acknowledged(let id, let brokerOrderID, _):
            guard known(id, account, event) else { return }
            transition(id, .acknowledged) { $0.brokerOrderID = brokerOrderID }
        case .fill(let fill):
            guard known(fill.orderID, account, event) else { return }
            record(fill, account: account)
        case .canceled(let id, let reason, _):
            guard known(id, account, event) else { return }
            transition(id, .canceled, reason: reason)
        case .cancelRejected(let id, let reason, _):
            guard known(id, account, event) else { return }
            transition(id, .cancelRejected, reason: reason)
        case .replaced(let old, let new, let brokerOrderID, _):
            guard known(old, account, event), known(new, account, event) else { return }
            transition(old, .replaced)
            transition(new, .acknowledged) { $0.brokerOrderID = brokerOrderID }
        case .replaceRejected(let old, let new, let reason, _):
            guard known(old, account, event) else { return }
            rejectReplacement(old: old, new: new, account: account, reason: reason)
        case .expired(let id, _):
            guard known(id, account, event) else { return }
            transition(id, .expired)
        case .rejected(let id, let reason, _):
            guard known(id, account, event) else { return }
            reject(id, reason: reason)
        case .connection(let state, let detail):
            handleConnection(account, state, detail: detail)
        case .snapshot(let snapshot):
            handleSnapshot(account, snapshot)
        case .settlement(let settlement):
            settleOption(settlement, account: account)
        }
    }

    /// Books an option's end at expiry as the broker reports it: the option position closed at zero (an
    /// order tagged `option_expiry` and the settlement's kind), and for an exercise or assignment the
    /// underlying's shares bought or sold at the strike (a second such order). Booked once per settlement.
    func settleOption(_ settlement: BrokerSettlement, account: AccountID) {
        let optionFill = FillID("\(settlement.id)-option")!
        guard !seenFills.contains("\(account)/\(optionFill)"), settlement.contracts != .zero else { return }
        let reason =
            settlement.kind == .expired
            ? "expired worthless at \(settlement.option)'s expiry"
            : "\(settlement.kind.rawValue) at expiry: \(settlement.shares) \(settlement.underlying?.text ?? "?") at "
                + "\(settlement.strike)"
        let tags = ["option_expiry", settlement.kind.rawValue]
        bookBrokerOrder(
            settlement.option, account: account, side: settlement.contracts.isPositive ? .sellToClose : .buyToClose,
            qty: settlement.contracts.magnitude, price: .zero, fillID: optionFill, tags: tags, reason: reason,
            at: settlement.ts)
        if let underlying = settlement.underlying, settlement.shares != .zero {
            bookBrokerOrder(
                underlying, account: account, side: settlement.shares.isPositive ? .buy : .sell,
                qty: settlement.shares.magnitude, price: settlement.strike,
                fillID: FillID("\(settlement.id)-delivery")!, tags: tags, reason: reason, at: settlement.ts)
        }
    }

    func handleBrokerResult(_ account: AccountID, _ result: BrokerJobResult) {
        switch result {
        case .submitted(let id):
            transition(id, .sent)
        case .bracketSubmitted(let ids):
            for id in ids { transition(id, .sent) }
        case .bracketFailed(let ids, let error) where error.kind == .unknownOutcome:
            for id in ids {
                transition(id, .outcomeUnknown, reason: "broker: \(error)")
                send(.settle(id, known: orders[id]), to: account)
            }
        case .bracketFailed(let ids, let error):
            for id in ids { reject(id, reason: "broker: \(error)") }
        case .submitFailed(let id, let error) where error.kind == .unknownOutcome:
            transition(id, .outcomeUnknown, reason: "broker: \(error)")
            send(.settle(id, known: orders[id]), to: account)
        case .submitFailed(let id, let error):
            reject(id, reason: "broker: \(error)")
            if error.kind == .fatal { handleConnection(account, .disconnected, detail: error.description) }
        case .cancelFailed(let id, let error) where error.kind == .unknownOutcome:
            send(.settle(id, known: orders[id]), to: account)
        case .cancelFailed(let id, let error):
            transition(id, .cancelRejected, reason: "broker: \(error)")
        case .replaceFailed(let old, let new, let error):
            rejectReplacement(old: old, new: new, account: account, reason: "broker: \(error)")
        case .settled(let id, let report):
            settle(id, account: account, report: report)
        case .settleFailed(let id, let error):
            logger.error(
                "could not ask the broker about an order", metadata: ["order.id": "\(id)", "error": "\(error)"])
        case .reconcileFailed(let tag, let error):
            reconcileFailed(account, tag: tag, error: error)
        }
    }

    func handleConnection(_ account: AccountID, _ state: BrokerConnectionState, detail: String?) {
        guard connections[account] != state, let adapter = accounts[account]?.adapter else { return }
        connections[account] = state
        stage(
            .broker(BrokerChanged(account: account, broker: adapter.brokerName, state: state.rawValue, detail: detail)),
            at: clock.now())
        // Back after an outage (or a first connect that came late): reconciled before orders are taken.
        if state == .connected, brokersStarted {
            startReconciliation(account, .reconnect)
        }
    }

    /// Opens new accounts in the journal and settles what the last run left open: an order accepted but
    /// not known to have reached the broker becomes `unknown`, and the broker is asked about every open
    /// order before anything else is sent for it; its fills and status are brought up to date.
    func handleStartup() {
        let now = clock.now()
        for id in accountOrder where books[id] == nil {
            let account = accounts[id]!
            books[id] = AccountBook(account: id, currency: account.currency, openingCash: account.openingCash)
            riskBooks[id] = RiskBook(openingCash: account.openingCash, rateWindow: account.rateWindow)
            stage(
                .accountOpened(
                    AccountOpened(
                        account: id, broker: account.adapter.brokerName, currency: account.currency,
                        cash: account.openingCash)),
                at: now)
        }
        // Every order still open is asked about: the broker may have filled or cancelled it while the
        // gateway was down, or in the instant before it stopped, with the report never journaled.
        let open = orders.values.filter(\.status.isOpen)
        for order in open.sorted(by: { $0.orderID < $1.orderID }) where accounts[order.account] != nil {
            if order.status == .accepted {
                transition(
                    order.orderID, .outcomeUnknown,
                    reason: "the gateway stopped before the broker confirmed receipt; asking the broker")
            }
            send(.settle(order.orderID, known: orders[order.orderID]), to: order.account)
        }
        // A simulator that restarted with the gateway knows no prices: give it the last ones journaled.
        for quote in quotes.values.sorted(by: { $0.symbol < $1.symbol }) {
            for id in accountOrder where accounts[id]!.adapter is any QuoteConsumer {
                send(.quote(quote), to: id)
            }
        }
    }

    /// Applies what the broker knows of an order whose outcome was unknown: its fills, then its status.
    /// An order the broker has no record of was never received, so it is rejected, not sent again.
    func settle(_ id: OrderID, account: AccountID, report: BrokerOrderReport?) {
        guard let order = orders[id] else { return }
        guard let report else {
            if [.accepted, .submitted, .unknown].contains(order.status) {
                reject(id, reason: "the broker has no record of this order: it never arrived and was not sent again")
            }
            return
        }
        // The broker's id first, journaled (never only set in memory), so every event after carries it.
        if let brokerID = report.brokerOrderID, var known = orders[id], known.brokerOrderID != brokerID {
            known.brokerOrderID = brokerID
            stageOrder(known, change: known.status.rawValue, reason: "the broker's order id, from settling")
        }
        for fill in report.fills {
            let isNew = !seenFills.contains("\(account)/\(fill.fillID)")
            record(fill, account: account)
            if isNew, seenFills.contains("\(account)/\(fill.fillID)") {
                // A fill the journal lacked: while the gateway was down, or lost with an unknown outcome.
                stage(
                    .reconciliation(
                        ReconciliationDifference(
                            account: account, trigger: startReconciling == nil ? "settle" : "start",
                            difference: .fillMissing, symbol: order.symbol, orderID: id,
                            brokerOrderID: report.brokerOrderID, journal: nil,
                            broker: "\(fill.qty) at \(fill.price) (\(fill.fillID))", action: .journaled,
                            detail: "a fill found by asking the broker about the order; journaled")),
                    at: clock.now())
            }
        }
        switch report.status {
        case .canceled: transition(id, .canceled, reason: report.reason)
        case .expired: transition(id, .expired, reason: report.reason)
        case .rejected: reject(id, reason: report.reason ?? "rejected by the broker")
        case .filled, .partiallyFilled, .acknowledged, .submitted, .accepted, .pendingCancel, .pendingReplace,
            .replaced, .unknown:
            transition(id, .acknowledged, reason: "settled with the broker")
        }
    }

    /// Records a broker fill once (fills are de-duplicated by id): the fill event, then the order's new totals.
    /// A multi-leg order's fill is journaled as one fill per leg (its contract, side, `qty × ratio` and the
    /// leg's price; the commission on the first), and the order's totals count spreads at the net price.
    func record(_ brokerFill: BrokerFill, account: AccountID) {
        let key = "\(account)/\(brokerFill.fillID)"
        // Taken as seen in the same look-up that finds whether it was (the set is a persistent tree of every
        // fill's key, and each look-up walks it); a fill refused below is taken back out. Asked first: a fill
        // reported again is let go before its order is looked for (a finished one is read from the journal).
        guard seenFills.insert(key).inserted else { return }
        guard var order = orders[brokerFill.orderID] else {
            seenFills.remove(key)
            return
        }
        let legFills: [Fill]
        if let legs = order.legs {
            guard brokerFill.qty.isPositive, let prices = brokerFill.legs,
                let fills = Self.legFills(of: brokerFill, order: order, legs: legs, prices: prices, account: account)
            else {
                seenFills.remove(key)
                logger.error(
                    "multi-leg fill without a price for every leg", metadata: ["fill.id": "\(brokerFill.fillID)"])
                stageUnmatched(account, "\(brokerFill)")
                return
            }
            legFills = fills
        } else {
            guard brokerFill.qty.isPositive, brokerFill.price.isPositive || order.symbol.isOption else {
                seenFills.remove(key)
                logger.error(
                    "broker fill with a non-positive quantity or price", metadata: ["fill.id": "\(brokerFill.fillID)"])
                stageUnmatched(account, "\(brokerFill)")
                return
            }
            legFills = []
        }
        fillSeen(key)
        let fill = Fill(
            fillID: brokerFill.fillID, orderID: order.orderID, clientOrderID: order.clientOrderID, account: account,
            symbol: order.symbol, side: order.side, qty: brokerFill.qty, price: brokerFill.price,
            commission: brokerFill.commission, ts: brokerFill.ts)
        for booked in legFills.isEmpty ? [fill] : legFills {
            let day = sessionDate(of: account, at: booked.ts)
            books.modifyValue(forKey: account) { $0.apply(booked, sessionDate: day) }
            updateRisk(account, symbol: booked.symbol)
            stage(.fill(FillPayload(fill: booked)), at: booked.ts)
        }
        let result = order.record(fill)
        var reason: String?
        if case .refused(let why) = result {
            reason = why
            logger.error("fill beyond the order quantity", metadata: ["order.id": "\(order.orderID)"])
        }
        stageOrder(order, change: order.filledQty >= order.qty ? "filled" : "partially_filled", reason: reason)
        enforceLossLimits(now: clock.now())
    }

    /// One fill per leg of a multi-leg order's fill, or `nil` when a leg has no price.
    static func legFills(
        of brokerFill: BrokerFill, order: Order, legs: [OrderLeg], prices: [BrokerLegFill], account: AccountID
    ) -> [Fill]? {
        var fills: [Fill] = []
        for (index, leg) in legs.enumerated() {
            guard let price = prices.first(where: { $0.symbol == leg.symbol })?.price,
                let id = FillID("\(brokerFill.fillID)/\(index + 1)")
            else { return nil }
            var fill = Fill(
                fillID: id, orderID: order.orderID, clientOrderID: order.clientOrderID, account: account,
                symbol: leg.symbol, side: leg.side, qty: leg.quantity(brokerFill.qty),
                price: price, commission: index == 0 ? brokerFill.commission : .zero, ts: brokerFill.ts)
            fill.spreadFillID = brokerFill.fillID
            fills.append(fill)
        }
        return fills
    }

    func reject(_ id: OrderID, reason: String) {
        transition(id, .rejected, reason: reason) { $0.rejectReasons = ($0.rejectReasons ?? []) + [reason] }
    }

    func rejectReplacement(old: OrderID, new: OrderID, account: AccountID, reason: String) {
        transition(old, .replaceRejected, reason: reason) { $0.replacedByOrderID = nil }
        if orders[new] != nil {
            reject(new, reason: reason)
            if let original = orders[old] { indexClientOrder(account, original.clientOrderID, old) }
        }
    }

    /// Whether `id` is an order of `account`; a report about anything else is journaled as unmatched.
    func known(_ id: OrderID, _ account: AccountID, _ event: BrokerEvent) -> Bool {
        if let order = orders[id], order.account == account { return true }
        stageUnmatched(account, "\(event)")
        return false
    }

    func stageUnmatched(_ account: AccountID, _ report: String) {
        logger.warning("broker report for an unknown order", metadata: ["account": "\(account)"])
        stage(.brokerUnmatched(BrokerUnmatched(account: account, report: report)), at: clock.now())
    }
}
