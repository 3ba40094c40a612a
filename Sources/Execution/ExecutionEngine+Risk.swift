import GatewayCore

extension ExecutionEngine {
    /// The trading day an instant counts to for an account.
    func sessionDate(of account: AccountID, at ts: Timestamp) -> CalendarDate {
        sessionDays[account, default: SessionDayCache()].date(
            of: ts, in: accounts[account]?.session ?? .utcMidnight)
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
        riskBooks[account]?.update(from: book, symbol: symbol)
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
