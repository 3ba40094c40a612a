/// One account's cash, positions and realized results, built only from the account's opening cash and
/// its fills, so replaying the journal rebuilds it exactly.
public struct AccountBook: Sendable {
    public let account: AccountID
    public let currency: String
    public private(set) var cash: Money
    public private(set) var positions: [Symbol: Position] = [:]
    public private(set) var realizedPnL: Money = .zero
    public private(set) var commissions: Money = .zero
    /// Realized profit net of commissions on the UTC date of the newest fill.
    public private(set) var dayRealized: Money = .zero
    public private(set) var dayDate: CalendarDate?

    public init(account: AccountID, currency: String = "USD", openingCash: Money) {
        self.account = account
        self.currency = currency
        self.cash = openingCash
    }

    /// Moves cash in or out (deposits, withdrawals, the opening balance).
    public mutating func adjustCash(by amount: Money) { cash += amount }

    /// Applies a fill to cash and the position; returns the realized profit. `sessionDate` is the trading
    /// day the fill counts to (its UTC date when not given).
    @discardableResult
    public mutating func apply(_ fill: Fill, sessionDate: CalendarDate? = nil) -> Money {
        let notional = fill.price.notional(fill.qty, multiplier: fill.symbol.multiplier) ?? .zero
        cash += fill.side.isBuy ? -notional : notional
        cash -= fill.commission
        commissions += fill.commission
        var position = positions[fill.symbol] ?? Position(account: account, symbol: fill.symbol)
        let realized = position.apply(fill)
        positions[fill.symbol] = position
        realizedPnL += realized
        let date = sessionDate ?? fill.ts.date
        if dayDate != date {
            dayDate = date
            dayRealized = .zero
        }
        dayRealized += realized - fill.commission
        return realized
    }

    /// The account's figures at the given marks.
    public func snapshot(marks: [Symbol: Price], tradingState: String, broker: String, today: CalendarDate)
        -> AccountSnapshot
    {
        var marketValue = Money.zero
        var unrealized = Money.zero
        for position in positions.values where !position.isFlat {
            marketValue += position.marketValue(at: marks[position.symbol])
            unrealized += position.unrealizedPnL(at: marks[position.symbol])
        }
        let realizedToday = dayDate == today ? dayRealized : .zero
        return AccountSnapshot(
            account: account, broker: broker, currency: currency, cash: cash, equity: cash + marketValue,
            buyingPower: max(cash, .zero), realizedPnL: realizedPnL, unrealizedPnL: unrealized,
            dayPnL: realizedToday + unrealized, tradingState: tradingState)
    }

    /// The open positions at the given marks, by symbol.
    public func positionSnapshots(marks: [Symbol: Price]) -> [PositionSnapshot] {
        positions.values.filter { !$0.isFlat || !$0.realizedPnL.isZero }.sorted { $0.symbol < $1.symbol }.map {
            PositionSnapshot(position: $0, mark: marks[$0.symbol])
        }
    }
}

/// An account's figures (PROTOCOL.md "Positions, accounts, events").
public struct AccountSnapshot: Sendable, Hashable, Codable {
    public var account: AccountID
    public var broker: String
    public var currency: String
    public var cash: Money
    public var equity: Money
    /// Cash available to buy with; the risk engine refines it with margin rules.
    public var buyingPower: Money
    public var realizedPnL: Money
    public var unrealizedPnL: Money
    /// Today's realized profit net of commissions plus the open positions' unrealized profit.
    public var dayPnL: Money
    public var tradingState: String

    enum CodingKeys: String, CodingKey {
        case account, broker, currency, cash, equity, buyingPower = "buying_power", realizedPnL = "realized_pnl"
        case unrealizedPnL = "unrealized_pnl", dayPnL = "day_pnl", tradingState = "trading_state"
    }
}

/// A position's figures at a mark.
public struct PositionSnapshot: Sendable, Hashable, Codable {
    public var account: AccountID
    public var symbol: Symbol
    public var qty: Quantity
    public var avgPrice: Price?
    public var marketPrice: Price?
    public var marketValue: Money
    public var unrealizedPnL: Money
    public var realizedPnL: Money

    enum CodingKeys: String, CodingKey {
        case account, symbol, qty, avgPrice = "avg_price", marketPrice = "market_price"
        case marketValue = "market_value", unrealizedPnL = "unrealized_pnl", realizedPnL = "realized_pnl"
    }

    public init(position: Position, mark: Price?) {
        account = position.account
        symbol = position.symbol
        qty = position.qty
        avgPrice = position.avgPrice
        marketPrice = mark
        marketValue = position.marketValue(at: mark)
        unrealizedPnL = position.unrealizedPnL(at: mark)
        realizedPnL = position.realizedPnL
    }
}

// Checkpoints of the engine's state carry books whole; positions in symbol order, so that the same
// book always encodes to the same bytes.
extension AccountBook: Codable {
    enum CodingKeys: String, CodingKey {
        case account, currency, cash, positions, realizedPnL = "realized_pnl", commissions
        case dayRealized = "day_realized", dayDate = "day_date"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        account = try c.decode(AccountID.self, forKey: .account)
        currency = try c.decode(String.self, forKey: .currency)
        cash = try c.decode(Money.self, forKey: .cash)
        let list = try c.decode([Position].self, forKey: .positions)
        positions = Dictionary(list.map { ($0.symbol, $0) }, uniquingKeysWith: { _, last in last })
        realizedPnL = try c.decode(Money.self, forKey: .realizedPnL)
        commissions = try c.decode(Money.self, forKey: .commissions)
        dayRealized = try c.decode(Money.self, forKey: .dayRealized)
        dayDate = try c.decodeIfPresent(CalendarDate.self, forKey: .dayDate)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(account, forKey: .account)
        try c.encode(currency, forKey: .currency)
        try c.encode(cash, forKey: .cash)
        try c.encode(positions.values.sorted { $0.symbol < $1.symbol }, forKey: .positions)
        try c.encode(realizedPnL, forKey: .realizedPnL)
        try c.encode(commissions, forKey: .commissions)
        try c.encode(dayRealized, forKey: .dayRealized)
        try c.encodeIfPresent(dayDate, forKey: .dayDate)
    }
}
