import GatewayCore

extension ExecutionEngine {
    /// The trading day an instant counts to for an account.
    func sessionDate(of account: AccountID, at ts: Timestamp) -> CalendarDate {
        (accounts[account]?.session ?? .utcMidnight).sessionDate(of: ts)
    }

    /// What the pre-trade checks need to know about the order's account, from the current state.
    func riskContext(for order: Order, now: Timestamp) -> RiskContext {
        let marks = quotes.compactMapValues(\.mark)
        var context = RiskContext(referencePrice: marks[order.symbol])
        let book = books[order.account]
        context.positionQty = book?.positions[order.symbol]?.qty ?? .zero
        context.cash = book?.cash ?? .zero
        for id in openOrders[order.account] ?? [] {
            guard let open = orders[id] else { continue }
            context.openOrders += 1
            guard open.symbol == order.symbol else { continue }
            if open.side.isBuy { context.openBuyQty += open.leavesQty } else { context.openSellQty += open.leavesQty }
        }
        for position in book?.positions.values ?? [:].values where !position.isFlat {
            let value = position.marketValue(at: marks[position.symbol])
            context.grossExposure += value.magnitude
            context.netExposure += value
        }
        if let book {
            let today = sessionDate(of: order.account, at: now)
            let snapshot = book.snapshot(marks: marks, tradingState: "active", broker: "", today: today)
            context.dailyPnL = snapshot.dayPnL
            var tally = riskTallies[order.account, default: RiskTally()]
            context.drawdown = tally.drawdown(equity: snapshot.equity)
            context.ordersLastSecond = tally.ordersInLastSecond(at: now)
            context.ordersToday = tally.ordersOn(today)
            riskTallies[order.account] = tally
        }
        return context
    }
}

extension ExecutionEngine {
    /// Moves an account to its `on_daily_loss` state when today's loss or its drawdown reaches the limit;
    /// called after every fill and quote. A state already as strict is left alone.
    func enforceLossLimits(now: Timestamp) {
        let marks = quotes.compactMapValues(\.mark)
        for id in accountOrder {
            guard let limits = accounts[id]?.limits, limits.maxDailyLoss != nil || limits.maxDrawdown != nil,
                let book = books[id]
            else { continue }
            let current = accountStates[id] ?? .active
            guard current.combined(with: limits.onLossBreach) != current else { continue }
            let snapshot = book.snapshot(
                marks: marks, tradingState: "", broker: "", today: sessionDate(of: id, at: now))
            var tally = riskTallies[id, default: RiskTally()]
            let drawdown = tally.drawdown(equity: snapshot.equity)
            riskTallies[id] = tally
            var reason: String?
            if let limit = limits.maxDailyLoss, -snapshot.dayPnL >= limit {
                reason = "daily loss \(-snapshot.dayPnL) reached the limit of \(limit)"
            } else if let limit = limits.maxDrawdown, drawdown >= limit {
                reason = "drawdown \(drawdown) reached the limit of \(limit)"
            }
            if let reason { setState(limits.onLossBreach, of: id, reason: reason) }
        }
    }
}

/// One account's counters for the rate and drawdown checks.
struct RiskTally {
    var recent: [Timestamp] = []
    var day: CalendarDate?
    var dayCount = 0
    var equityPeak: Money?

    mutating func recordAccepted(at now: Timestamp, sessionDate: CalendarDate) {
        recent.append(now)
        if day != sessionDate {
            day = sessionDate
            dayCount = 0
        }
        dayCount += 1
    }

    mutating func ordersInLastSecond(at now: Timestamp) -> Int {
        let cutoff = now.nanosecondsSinceEpoch - 1_000_000_000
        recent.removeAll { $0.nanosecondsSinceEpoch <= cutoff }
        return recent.count
    }

    func ordersOn(_ date: CalendarDate) -> Int { day == date ? dayCount : 0 }

    /// Equity below the highest equity seen, updating the peak.
    mutating func drawdown(equity: Money) -> Money {
        let peak = max(equityPeak ?? equity, equity)
        equityPeak = peak
        return peak - equity
    }
}
