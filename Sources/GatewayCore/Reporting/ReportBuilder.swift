/// What a report covers: every field optional.
public struct ReportScope: Sendable, Hashable {
    public var account: AccountID?
    public var strategy: String?
    public var symbol: Symbol?
    public var since: Timestamp?
    public var until: Timestamp?

    public init(
        account: AccountID? = nil, strategy: String? = nil, symbol: Symbol? = nil, since: Timestamp? = nil,
        until: Timestamp? = nil
    ) {
        self.account = account
        self.strategy = strategy
        self.symbol = symbol
        self.since = since
        self.until = until
    }
}

/// Builds a performance report from the journal's events in order: accounts opened, fills (with their
/// order's strategy and tags) and quotes.
///
/// Fills are matched first-in-first-out per account, symbol and strategy into round trips. The overall
/// equity curve is marked to market at each trading day's close: the opening cash of the accounts in
/// scope, plus realized profit net of commissions, plus the open lots at the last quotes. A breakdown's
/// curve (by strategy, tag or symbol) is the same opening cash plus its closed round trips' profit, by the
/// day they closed. Round trips count when they close within `since`…`until`; the curve shows the days
/// from `since` on.
public struct ReportBuilder: Sendable {
    struct Lot: Sendable {
        var qty: Quantity
        var price: Price
    }

    struct OpenTrip: Sendable {
        var account: AccountID
        var symbol: Symbol
        var strategy: String?
        var tags: [String]
        var long: Bool
        var lots: [Lot] = []
        var openedAt: Timestamp
        var maxQty = Quantity.zero
        var entryQty = Quantity.zero
        var entryValue = Money.zero
        var exitQty = Quantity.zero
        var exitValue = Money.zero
        var realized = Money.zero
        var commissions = Money.zero

        var openQty: Quantity { lots.reduce(.zero) { $0 + $1.qty } }

        func unrealized(at mark: Price?) -> Money {
            guard let mark else { return .zero }
            return lots.reduce(.zero) {
                let value = (mark - $1.price).notional($1.qty, multiplier: symbol.multiplier) ?? .zero
                return $0 + (long ? value : -value)
            }
        }
    }

    public let scope: ReportScope
    let sessionDate: @Sendable (Timestamp) -> CalendarDate
    var base = Money.zero
    var realizedNet = Money.zero
    var open: [String: OpenTrip] = [:]
    var marks: [Symbol: Price] = [:]
    var closed: [RoundTrip] = []
    var curve: [EquityPoint] = []
    var day: CalendarDate?

    public init(scope: ReportScope, sessionDate: @escaping @Sendable (Timestamp) -> CalendarDate) {
        self.scope = scope
        self.sessionDate = sessionDate
    }

    /// An account's opening cash; counted when the account is in scope.
    public mutating func opened(_ account: AccountID, cash: Money, at ts: Timestamp) {
        guard scope.account == nil || scope.account == account, before(ts) else { return }
        advance(to: ts)
        base += cash
    }

    public mutating func quote(_ symbol: Symbol, mark: Price?, at ts: Timestamp) {
        guard let mark, before(ts) else { return }
        advance(to: ts)
        marks[symbol] = mark
    }

    public mutating func fill(_ fill: Fill, strategy: String?, tags: [String]) {
        guard before(fill.ts), scope.account == nil || scope.account == fill.account,
            scope.strategy == nil || scope.strategy == strategy, scope.symbol == nil || scope.symbol == fill.symbol
        else { return }
        advance(to: fill.ts)
        realizedNet -= fill.commission
        let key = "\(fill.account)|\(fill.symbol)|\(strategy ?? "")"
        var remaining = fill.qty
        var commission = fill.commission
        if var trip = open[key], trip.long != fill.side.isBuy {
            // Closing, first in first out; a flip closes the trip and opens the next with the rest.
            let closing = min(remaining, trip.openQty)
            let share = Self.share(of: commission, closing, of: fill.qty)
            trip.commissions += share
            commission -= share
            var left = closing
            while left.isPositive, !trip.lots.isEmpty {
                let matched = min(left, trip.lots[0].qty)
                let perUnit = trip.long ? fill.price - trip.lots[0].price : trip.lots[0].price - fill.price
                let profit = perUnit.notional(matched, multiplier: fill.symbol.multiplier) ?? .zero
                trip.realized += profit
                realizedNet += profit
                trip.lots[0].qty -= matched
                if trip.lots[0].qty.isZero { trip.lots.removeFirst() }
                left -= matched
            }
            trip.exitQty += closing
            trip.exitValue += fill.price.notional(closing, multiplier: 1) ?? .zero
            remaining -= closing
            if trip.lots.isEmpty {
                finish(trip, at: fill.ts)
                open[key] = nil
            } else {
                open[key] = trip
            }
        }
        guard remaining.isPositive else { return }
        var trip =
            open[key]
            ?? OpenTrip(
                account: fill.account, symbol: fill.symbol, strategy: strategy, tags: tags, long: fill.side.isBuy,
                openedAt: fill.ts)
        trip.lots.append(Lot(qty: remaining, price: fill.price))
        trip.commissions += commission
        trip.entryQty += remaining
        trip.entryValue += fill.price.notional(remaining, multiplier: 1) ?? .zero
        trip.maxQty = max(trip.maxQty, trip.openQty)
        open[key] = trip
    }

    /// The report, with the last day closed at the equity of the last event.
    public func report() -> PerformanceReport {
        var curve = self.curve
        if let day, inRange(day) { curve.append(EquityPoint(date: day, equity: equity)) }
        let trips = closed.filter { trip in
            (scope.since.map { trip.closedAt >= $0 } ?? true) && (scope.until.map { trip.closedAt <= $0 } ?? true)
        }
        func breakdown(_ key: (RoundTrip) -> [String]) -> [String: PerformanceFigures] {
            var groups: [String: [RoundTrip]] = [:]
            for trip in trips {
                for name in key(trip) { groups[name, default: []].append(trip) }
            }
            return groups.mapValues { PerformanceFigures(trades: $0, curve: realizedCurve(of: $0, days: curve)) }
        }
        return PerformanceReport(
            figures: PerformanceFigures(trades: trips, curve: curve), equityCurve: curve,
            byStrategy: breakdown { [$0.strategy ?? "none"] }, byTag: breakdown { $0.tags },
            bySymbol: breakdown { [$0.symbol.text] }, roundTrips: trips)
    }

    /// The opening cash plus the trips' profit, by the day each closed, on the days of `days`.
    func realizedCurve(of trips: [RoundTrip], days: [EquityPoint]) -> [EquityPoint] {
        let sorted = trips.sorted { $0.closedAt < $1.closedAt }
        var index = 0
        var total = base
        return days.map { point in
            while index < sorted.count, sessionDate(sorted[index].closedAt) <= point.date {
                total += sorted[index].pnl
                index += 1
            }
            return EquityPoint(date: point.date, equity: total)
        }
    }

    var equity: Money {
        open.values.reduce(base + realizedNet) { $0 + $1.unrealized(at: marks[$1.symbol]) }
    }

    func before(_ ts: Timestamp) -> Bool { scope.until.map { ts <= $0 } ?? true }

    func inRange(_ date: CalendarDate) -> Bool { scope.since.map { date >= sessionDate($0) } ?? true }

    /// Closes the day before `ts`'s, if `ts` starts a new one.
    mutating func advance(to ts: Timestamp) {
        let today = sessionDate(ts)
        if let day, day != today, inRange(day) {
            curve.append(EquityPoint(date: day, equity: equity))
        }
        day = today
    }

    mutating func finish(_ trip: OpenTrip, at ts: Timestamp) {
        closed.append(
            RoundTrip(
                account: trip.account, symbol: trip.symbol, strategy: trip.strategy, tags: trip.tags,
                side: trip.long ? "long" : "short", qty: trip.maxQty,
                entryPrice: Self.average(trip.entryValue, trip.entryQty),
                exitPrice: Self.average(trip.exitValue, trip.exitQty), openedAt: trip.openedAt, closedAt: ts,
                pnl: trip.realized - trip.commissions, commissions: trip.commissions))
    }

    /// `amount × part ÷ whole`, rounded to the cent's unit.
    static func share(of amount: Money, _ part: Quantity, of whole: Quantity) -> Money {
        guard whole.isPositive else { return amount }
        return Money(units: Int64(Int128(amount.units) * Int128(part.units) / Int128(whole.units)))
    }

    /// The average price of `value` over `qty` units.
    static func average(_ value: Money, _ qty: Quantity) -> Price {
        guard qty.isPositive else { return .zero }
        // value (6 decimals) ÷ qty (8 decimals) → price (8 decimals): value × 10^10 ÷ qty.
        let units = Fixed<PriceKind>.divideRounded(Int128(value.units) * 10_000_000_000, by: Int128(qty.units))
        return Price(units: Int64(clamping: units ?? 0))
    }
}
