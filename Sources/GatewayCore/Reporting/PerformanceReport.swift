/// One closed round trip: a position in one account, symbol and strategy from flat back to flat (a flip
/// closes one trip and opens the next). Its profit is realized first-in-first-out, net of the
/// commissions of every fill in it.
public struct RoundTrip: Sendable, Hashable, Codable {
    public var account: AccountID
    public var symbol: Symbol
    public var strategy: String?
    public var tags: [String]
    /// `long` or `short`.
    public var side: String
    /// The largest size the position reached.
    public var qty: Quantity
    public var entryPrice: Price
    public var exitPrice: Price
    public var openedAt: Timestamp
    public var closedAt: Timestamp
    public var pnl: Money
    public var commissions: Money

    enum CodingKeys: String, CodingKey {
        case account, symbol, strategy, tags, side, qty, entryPrice = "entry_price", exitPrice = "exit_price"
        case openedAt = "opened_at", closedAt = "closed_at", pnl, commissions
    }
}

/// Equity at the close of a trading day.
public struct EquityPoint: Sendable, Hashable, Codable {
    public var date: CalendarDate
    public var equity: Money

    public init(date: CalendarDate, equity: Money) {
        self.date = date
        self.equity = equity
    }
}

/// The figures of PROTOCOL.md "Performance figures". Ratios are fixed-point with 8 decimals; `nil`
/// where a figure is undefined (no losing trade for the profit factor, fewer than two days or no
/// variation for Sharpe and Sortino).
public struct PerformanceFigures: Sendable, Hashable, Codable {
    public var trades: Int
    public var winRate: Price?
    public var avgWin: Money?
    /// The mean of the losing trades (negative).
    public var avgLoss: Money?
    public var expectancy: Money?
    public var profitFactor: Price?
    public var sharpe: Price?
    public var sortino: Price?
    public var maxDrawdown: Money
    public var maxDrawdownFraction: Price
    public var netPnL: Money
    public var commissions: Money

    enum CodingKeys: String, CodingKey {
        case trades, winRate = "win_rate", avgWin = "avg_win", avgLoss = "avg_loss", expectancy
        case profitFactor = "profit_factor", sharpe, sortino, maxDrawdown = "max_drawdown"
        case maxDrawdownFraction = "max_drawdown_fraction", netPnL = "net_pnl", commissions
    }

    /// Figures of `trades`, with the risk-adjusted ones and the drawdown taken from the daily `curve`.
    public init(trades list: [RoundTrip], curve: [EquityPoint]) {
        trades = list.count
        let wins = list.filter { $0.pnl.isPositive }
        let losses = list.filter { $0.pnl.isNegative }
        let grossWin = wins.reduce(Money.zero) { $0 + $1.pnl }
        let grossLoss = losses.reduce(Money.zero) { $0 + $1.pnl }
        netPnL = list.reduce(Money.zero) { $0 + $1.pnl }
        commissions = list.reduce(Money.zero) { $0 + $1.commissions }
        winRate = list.isEmpty ? nil : Ratio.of(Int128(wins.count), Int128(list.count))
        avgWin = wins.isEmpty ? nil : Money(units: grossWin.units / Int64(wins.count))
        avgLoss = losses.isEmpty ? nil : Money(units: grossLoss.units / Int64(losses.count))
        expectancy = list.isEmpty ? nil : Money(units: netPnL.units / Int64(list.count))
        profitFactor = losses.isEmpty ? nil : Ratio.of(Int128(grossWin.units), Int128(grossLoss.magnitude.units))
        (maxDrawdown, maxDrawdownFraction) = Self.drawdown(of: curve)
        (sharpe, sortino) = Self.riskAdjusted(curve)
    }

    /// The deepest fall from a running peak, in money and as a fraction of that peak.
    static func drawdown(of curve: [EquityPoint]) -> (Money, Price) {
        var peak: Money?
        var deepest = Money.zero
        var fraction = Price.zero
        for point in curve {
            let top = max(peak ?? point.equity, point.equity)
            peak = top
            let fall = top - point.equity
            if fall > deepest { deepest = fall }
            if top.isPositive, let share = Ratio.of(Int128(fall.units), Int128(top.units)), share > fraction {
                fraction = share
            }
        }
        return (deepest, fraction)
    }

    /// Sharpe and Sortino of the daily returns, annualised with 252 trading days (statistics, not money,
    /// so computed in floating point and rounded to the ratio's 8 decimals).
    static func riskAdjusted(_ curve: [EquityPoint]) -> (Price?, Price?) {
        var returns: [Double] = []
        for (previous, point) in zip(curve, curve.dropFirst()) where previous.equity.isPositive {
            returns.append((Double(point.equity.units) - Double(previous.equity.units)) / Double(previous.equity.units))
        }
        guard returns.count >= 2 else { return (nil, nil) }
        let count = Double(returns.count)
        let mean = returns.reduce(0, +) / count
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (count - 1)
        let downside = returns.reduce(0) { $0 + min($1, 0) * min($1, 0) } / count
        let annual = (252.0).squareRoot()
        let sharpe = variance > 0 ? Ratio.of(mean / variance.squareRoot() * annual) : nil
        let sortino = downside > 0 ? Ratio.of(mean / downside.squareRoot() * annual) : nil
        return (sharpe, sortino)
    }
}

/// Ratios as 8-decimal fixed point.
enum Ratio {
    static func of(_ numerator: Int128, _ denominator: Int128) -> Price? {
        guard denominator != 0 else { return nil }
        return Price.divideRounded(numerator * Int128(Price.unitsPerOne), by: denominator).flatMap {
            Int64(exactly: $0).map { Price(units: $0) }
        }
    }

    static func of(_ value: Double) -> Price? {
        let scaled = (value * Double(Price.unitsPerOne)).rounded()
        guard scaled.isFinite, abs(scaled) < 9.0e18 else { return nil }
        return Price(units: Int64(scaled))
    }
}

/// A performance report: the figures over everything in scope, the same broken down by strategy, tag
/// and symbol, the daily equity curve and the round trips (PROTOCOL.md `report`).
public struct PerformanceReport: Sendable, Hashable, Codable {
    public var figures: PerformanceFigures
    public var equityCurve: [EquityPoint]
    public var byStrategy: [String: PerformanceFigures]
    public var byTag: [String: PerformanceFigures]
    public var bySymbol: [String: PerformanceFigures]
    public var roundTrips: [RoundTrip]

    enum CodingKeys: String, CodingKey {
        case equityCurve = "equity_curve", byStrategy = "by_strategy", byTag = "by_tag", bySymbol = "by_symbol"
        case roundTrips = "round_trips"
    }

    public init(
        figures: PerformanceFigures, equityCurve: [EquityPoint], byStrategy: [String: PerformanceFigures],
        byTag: [String: PerformanceFigures], bySymbol: [String: PerformanceFigures], roundTrips: [RoundTrip]
    ) {
        self.figures = figures
        self.equityCurve = equityCurve
        self.byStrategy = byStrategy
        self.byTag = byTag
        self.bySymbol = bySymbol
        self.roundTrips = roundTrips
    }

    /// The figures sit at the top level of the answer, beside the curve and the breakdowns.
    public init(from decoder: any Decoder) throws {
        figures = try PerformanceFigures(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        equityCurve = try container.decode([EquityPoint].self, forKey: .equityCurve)
        byStrategy = try container.decode([String: PerformanceFigures].self, forKey: .byStrategy)
        byTag = try container.decode([String: PerformanceFigures].self, forKey: .byTag)
        bySymbol = try container.decode([String: PerformanceFigures].self, forKey: .bySymbol)
        roundTrips = try container.decode([RoundTrip].self, forKey: .roundTrips)
    }

    public func encode(to encoder: any Encoder) throws {
        try figures.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(equityCurve, forKey: .equityCurve)
        try container.encode(byStrategy, forKey: .byStrategy)
        try container.encode(byTag, forKey: .byTag)
        try container.encode(bySymbol, forKey: .bySymbol)
        try container.encode(roundTrips, forKey: .roundTrips)
    }
}
