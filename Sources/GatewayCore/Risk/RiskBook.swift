/// One account's running figures for the pre-trade checks, kept up to date change by change.
///
/// The engine tells it every change as it is staged — a fill's new position and cash, a quote's new mark,
/// an order's new open quantity, an accepted order — and it keeps the per-symbol lines and the account's
/// totals (gross and net exposure, unrealized profit, open orders, the day's count, the equity peak)
/// current. `context(for:)` then costs one hash lookup and allocates nothing, however many positions and
/// orders the account holds (issue: pre-trade risk, "Measure"). Replaying the journal through the same
/// calls rebuilds it exactly, so the equity peak, the day's order count and the rate window survive a
/// restart.
public struct RiskBook: Sendable {
    /// One symbol's figures.
    struct Line: Sendable {
        var qty: Quantity = .zero
        var openBuy: Quantity = .zero
        var openSell: Quantity = .zero
        var mark: Price?
        /// The position's signed value and unrealized profit, as counted in the account's totals.
        var value: Money = .zero
        var unrealized: Money = .zero
        var position: Position?
    }

    public private(set) var cash: Money
    public private(set) var grossExposure: Money = .zero
    public private(set) var netExposure: Money = .zero
    public private(set) var unrealizedPnL: Money = .zero
    /// Realized profit net of commissions on `realizedDay`, the trading day of the newest fill.
    public private(set) var realizedToday: Money = .zero
    public private(set) var realizedDay: CalendarDate?
    /// The highest equity seen after any change since the account opened.
    public private(set) var equityPeak: Money
    var lines: [Symbol: Line] = [:]
    /// Orders working with a quantity left: the open-orders check's count.
    public private(set) var openOrders = 0
    var window: RateWindow
    var acceptedDay: CalendarDate?
    var acceptedOnDay = 0

    /// `rateWindow` is how many recent acceptances to remember for the orders-per-second check (the
    /// largest `max_orders_per_second` that applies to the account; zero when none does).
    public init(openingCash: Money, rateWindow: Int = 0) {
        cash = openingCash
        equityPeak = openingCash
        window = RateWindow(capacity: rateWindow)
    }

    /// Cash plus the positions' value at their marks (at their average price where no quote is known).
    public var equity: Money { cash + netExposure }
    /// Equity below its peak (zero or positive).
    public var drawdown: Money { equityPeak - equity }
    /// Realized (net of commissions) plus unrealized profit for the trading day `today`.
    public func dayPnL(today: CalendarDate) -> Money {
        (realizedDay == today ? realizedToday : .zero) + unrealizedPnL
    }

    /// Orders accepted on the trading day `today`.
    public func ordersAccepted(on today: CalendarDate) -> Int { acceptedDay == today ? acceptedOnDay : 0 }

    /// After a fill: the symbol's new position and the account's new cash and realized figures.
    public mutating func update(position: Position, cash: Money, realizedToday: Money, day: CalendarDate?) {
        self.cash = cash
        self.realizedToday = realizedToday
        realizedDay = day
        var line = lines[position.symbol] ?? Line()
        line.qty = position.qty
        line.position = position.isFlat ? nil : position
        revalue(&line)
        lines[position.symbol] = line
        notePeak()
    }

    /// After a fill in `symbol` was applied to `book`.
    public mutating func update(from book: AccountBook, symbol: Symbol) {
        update(
            position: book.positions[symbol] ?? Position(account: book.account, symbol: symbol), cash: book.cash,
            realizedToday: book.dayRealized, day: book.dayDate)
    }

    /// A new mark for `symbol`, from a quote.
    public mutating func mark(_ symbol: Symbol, at price: Price?) {
        guard let price else { return }
        if var line = lines[symbol] {
            line.mark = price
            revalue(&line)
            lines[symbol] = line
            notePeak()
        } else {
            lines[symbol] = Line(mark: price)
        }
    }

    /// An order's new state. `previous` is the state last tracked for the same order, nil for a new one:
    /// its contribution is taken back and the new state's added, so a working order counts its unfilled
    /// quantity (a multi-leg order its legs', each on its own symbol) and a finished one nothing.
    ///
    /// The engine's store of working orders already holds each order's last tracked state, so the book
    /// keeps no entry per order of its own (with 100 000 open orders that entry's dictionary was 18 MiB,
    /// and a checkpoint in progress could make the engine copy it whole).
    public mutating func track(_ order: Order, previous: Order?) {
        if let previous { count(previous, adding: false) }
        count(order, adding: true)
    }

    private mutating func count(_ order: Order, adding: Bool) {
        guard order.status.isOpen, order.leavesQty.isPositive else { return }
        openOrders += adding ? 1 : -1
        let leaves = adding ? order.leavesQty : -order.leavesQty
        guard let legs = order.legs else {
            lines[order.symbol, default: Line()].changeOpen(isBuy: order.side.isBuy, by: leaves)
            return
        }
        for leg in legs {
            lines[leg.symbol, default: Line()].changeOpen(
                isBuy: leg.side.isBuy, by: leaves.times(leg.ratio))
        }
    }

    /// Remembers `capacity` recent acceptances from now on (the configuration changed since a checkpoint).
    public mutating func resizeRateWindow(to capacity: Int) {
        window = window.resized(to: capacity)
    }

    /// An order accepted at `ts`, counted toward the rate and the day's total of `sessionDate`.
    public mutating func recordAccepted(at ts: Timestamp, sessionDate: CalendarDate) {
        window.append(ts.nanosecondsSinceEpoch)
        if acceptedDay != sessionDate {
            acceptedDay = sessionDate
            acceptedOnDay = 0
        }
        acceptedOnDay += 1
    }

    /// What the checks need to know for an order in `symbol`, read off the running figures; the reference
    /// price is the symbol's last mark.
    public func context(for symbol: Symbol, now: Timestamp, today: CalendarDate) -> RiskContext {
        let line = lines[symbol]
        return RiskContext(
            positionQty: line?.qty ?? .zero, openBuyQty: line?.openBuy ?? .zero, openSellQty: line?.openSell ?? .zero,
            referencePrice: line?.mark, grossExposure: grossExposure, netExposure: netExposure,
            openOrders: openOrders, ordersLastSecond: window.count(after: now.nanosecondsSinceEpoch - 1_000_000_000),
            ordersToday: ordersAccepted(on: today), dailyPnL: dayPnL(today: today), drawdown: drawdown, cash: cash)
    }

    /// Values the line's position at its mark and moves the account's totals by the difference.
    private mutating func revalue(_ line: inout Line) {
        let (oldValue, oldUnrealized) = (line.value, line.unrealized)
        line.value = line.position?.marketValue(at: line.mark) ?? .zero
        line.unrealized = line.position?.unrealizedPnL(at: line.mark) ?? .zero
        grossExposure += line.value.magnitude - oldValue.magnitude
        netExposure += line.value - oldValue
        unrealizedPnL += line.unrealized - oldUnrealized
    }

    private mutating func notePeak() {
        let now = equity
        if now > equityPeak { equityPeak = now }
    }
}

extension RiskBook.Line {
    /// Adds `change` (negative to take back) to the open quantity on the order's side.
    mutating func changeOpen(isBuy: Bool, by change: Quantity) {
        if isBuy { openBuy += change } else { openSell += change }
    }
}

/// The acceptance times of the most recent orders, oldest first, in a ring allocated once: appending is
/// constant time and counting the last second's a binary search, whatever the rate.
struct RateWindow: Sendable {
    private var times: [Int64]
    private var oldest = 0
    private var filled = 0

    init(capacity: Int) {
        times = Array(repeating: 0, count: max(0, capacity))
    }

    mutating func append(_ nanoseconds: Int64) {
        guard !times.isEmpty else { return }
        if filled == times.count {
            oldest = (oldest + 1) % times.count
            filled -= 1
        }
        times[(oldest + filled) % times.count] = nanoseconds
        filled += 1
    }

    /// The same window remembering `capacity` acceptances (the newest, when it shrinks).
    func resized(to capacity: Int) -> RateWindow {
        guard capacity != times.count else { return self }
        var resized = RateWindow(capacity: capacity)
        for index in max(0, filled - capacity)..<filled { resized.append(times[(oldest + index) % times.count]) }
        return resized
    }

    /// How many remembered acceptances are later than `cutoff` (at most the capacity): a binary search
    /// over the ring, oldest to newest, so reading changes nothing.
    func count(after cutoff: Int64) -> Int {
        var low = 0
        var high = filled
        while low < high {
            let middle = (low + high) / 2
            if times[(oldest + middle) % times.count] <= cutoff { low = middle + 1 } else { high = middle }
        }
        return filled - low
    }
}

// Checkpoints of the engine's state carry the running figures whole, the lines in a fixed order so that
// the same book always encodes to the same bytes. Checkpoints written before the book stopped keeping an
// entry per working order list those entries under "working"; they are read as their count.
extension RiskBook: Codable {
    enum CodingKeys: String, CodingKey {
        case cash, grossExposure = "gross_exposure", netExposure = "net_exposure", unrealizedPnL = "unrealized_pnl"
        case realizedDay = "realized_day", realizedToday = "realized_today", equityPeak = "equity_peak", lines
        case openOrders = "open_orders", working, window, acceptedDay = "accepted_day"
        case acceptedOnDay = "accepted_on_day"
    }

    struct SymbolLine: Codable {
        var symbol: Symbol
        var line: Line
    }

    /// An entry of an older checkpoint's "working" list, only counted.
    private struct OlderWorkingEntry: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cash = try c.decode(Money.self, forKey: .cash)
        grossExposure = try c.decode(Money.self, forKey: .grossExposure)
        netExposure = try c.decode(Money.self, forKey: .netExposure)
        unrealizedPnL = try c.decode(Money.self, forKey: .unrealizedPnL)
        realizedToday = try c.decode(Money.self, forKey: .realizedToday)
        realizedDay = try c.decodeIfPresent(CalendarDate.self, forKey: .realizedDay)
        equityPeak = try c.decode(Money.self, forKey: .equityPeak)
        lines = Dictionary(
            try c.decode([SymbolLine].self, forKey: .lines).map { ($0.symbol, $0.line) }, uniquingKeysWith: { $1 })
        openOrders =
            try c.decodeIfPresent(Int.self, forKey: .openOrders)
            ?? c.decode([OlderWorkingEntry].self, forKey: .working).count
        window = try c.decode(RateWindow.self, forKey: .window)
        acceptedDay = try c.decodeIfPresent(CalendarDate.self, forKey: .acceptedDay)
        acceptedOnDay = try c.decode(Int.self, forKey: .acceptedOnDay)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cash, forKey: .cash)
        try c.encode(grossExposure, forKey: .grossExposure)
        try c.encode(netExposure, forKey: .netExposure)
        try c.encode(unrealizedPnL, forKey: .unrealizedPnL)
        try c.encode(realizedToday, forKey: .realizedToday)
        try c.encodeIfPresent(realizedDay, forKey: .realizedDay)
        try c.encode(equityPeak, forKey: .equityPeak)
        try c.encode(
            lines.sorted { $0.key < $1.key }.map { SymbolLine(symbol: $0.key, line: $0.value) }, forKey: .lines)
        try c.encode(openOrders, forKey: .openOrders)
        try c.encode(window, forKey: .window)
        try c.encodeIfPresent(acceptedDay, forKey: .acceptedDay)
        try c.encode(acceptedOnDay, forKey: .acceptedOnDay)
    }
}

extension RiskBook.Line: Codable {}
extension RateWindow: Codable {}
