import GatewayCore

extension ExecutionEngine {
    /// The trading day an instant counts to for an account.
    func sessionDate(of account: AccountID, at ts: Timestamp) -> CalendarDate {
        // From `sessions`, not `accounts`: reading a field of an account copied the whole account first.
        sessionDays[account, default: SessionDayCache()].date(of: ts, in: sessions[account] ?? .utcMidnight)
    }

    /// What the pre-trade checks need to know about an order in `symbol`: read off the account's running
    /// figures (which hold every quote's mark as well).
    func riskContext(_ account: AccountID, _ symbol: Symbol, now: Timestamp) -> RiskContext {
        let today = sessionDate(of: account, at: now)
        guard let book = riskBooks[account] else { return RiskContext(referencePrice: quotes[symbol]?.mark) }
        return book.context(for: symbol, now: now, today: today)
    }

    /// After a fill was applied to the account's book.
    func updateRisk(_ account: AccountID, symbol: Symbol) {
        guard let book = books[account] else { return }
        riskBooks.modifyValue(forKey: account) { $0.update(from: book, symbol: symbol) }
    }

    /// Moves an account to its `on_daily_loss` state when today's loss or its drawdown reaches the limit;
    /// called after every fill and quote. A state already as strict is left alone.
    func enforceLossLimits(now: Timestamp) {
        for id in accountOrder {
            guard let limits = accounts[id]?.limits, limits.maxDailyLoss != nil || limits.maxDrawdown != nil,
                let book = riskBooks[id]
            else { continue }
            let current = accountStates[id] ?? .active
            guard current.combined(with: limits.onLossBreach) != current else { continue }
            let dayPnL = book.dayPnL(today: sessionDate(of: id, at: now))
            var reason: String?
            if let limit = limits.maxDailyLoss, -dayPnL >= limit {
                reason = "daily loss \(-dayPnL) reached the limit of \(limit)"
            } else if let limit = limits.maxDrawdown, book.drawdown >= limit {
                reason = "drawdown \(book.drawdown) reached the limit of \(limit) (equity peak \(book.equityPeak))"
            }
            if let reason { setState(limits.onLossBreach, of: id, reason: reason, cause: "risk_limit") }
        }
    }
}

extension ExecutionEngine {
    /// Why the account's trading state refuses `order`, or `nil`. A multi-leg order under `reducing` must
    /// reduce the position of every leg.
    func tradingStateDenial(of order: Order) -> String? {
        let state = tradingState(of: order.account)
        let positions = books[order.account]?.positions
        guard let legs = order.legs else {
            return state.denial(side: order.side, qty: order.qty, position: positions?[order.symbol]?.qty ?? .zero)
        }
        for leg in legs {
            let qty = leg.quantity(order.qty)
            if let denial = state.denial(side: leg.side, qty: qty, position: positions?[leg.symbol]?.qty ?? .zero) {
                return denial
            }
        }
        return nil
    }

    /// The pre-trade checks for a multi-leg order. Each leg is checked as an order of `qty × ratio` on its
    /// own contract against that contract's position and working orders (so symbol lists, position,
    /// exposure, short-sale and option-contract limits apply leg by leg); the order's value — its net
    /// price, or the legs' marks for a market order, × quantity × 100 — is what `max_order_notional`
    /// measures, since the legs offset each other; the price collar has no single price to compare and is
    /// not applied. A failure repeated by several legs is reported once.
    func multiLegRiskFailures(of order: Order, account: EngineAccount, now: Timestamp) -> [RiskFailure] {
        guard let legs = order.legs else { return [] }
        var limits = account.limits(for: order.strategy)
        let notionalLimit = limits.maxOrderNotional
        limits.maxOrderNotional = nil
        limits.priceCollarPct = nil
        var failures: [RiskFailure] = []
        var netMark: Price? = .zero
        for leg in legs {
            let context = riskContext(order.account, leg.symbol, now: now)
            let qty = leg.quantity(order.qty)
            let legOrder = RiskOrder(symbol: leg.symbol, side: leg.side, qty: qty, type: order.type)
            for failure in PreTradeRisk.evaluate(legOrder, limits: limits, context: context)
            where !failures.contains(where: { $0.check == failure.check && $0.value == failure.value }) {
                failures.append(failure)
            }
            if let mark = context.referencePrice, let net = netMark {
                let signed = mark.times(leg.ratio)
                netMark = leg.side.isBuy ? net + signed : net - signed
            } else {
                netMark = nil
            }
        }
        if let limit = notionalLimit {
            let net = order.limitPrice ?? netMark
            if let value = net.flatMap({ $0.magnitude.notional(order.qty, multiplier: 100) }) {
                if value > limit {
                    failures.append(
                        RiskFailure(
                            check: "max_order_notional", limit: "\(limit)", value: "\(value)",
                            message: "the spread's value \(value) is over the limit of \(limit)"))
                }
            } else {
                failures.append(
                    RiskFailure(
                        check: "max_order_notional", limit: "\(limit)", value: "unknown",
                        message: "cannot value the spread: no limit price and no quote for every leg"))
            }
        }
        return failures
    }
}
