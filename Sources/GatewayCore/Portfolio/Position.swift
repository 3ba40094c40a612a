/// A net position in one symbol: signed quantity (negative is short), average cost of the open
/// quantity, and the profit realized by closing trades. Average cost follows the usual rule: adding
/// to a position averages in, reducing it realizes against the average, and crossing zero closes the
/// old side entirely and opens the rest at the fill price.
public struct Position: Sendable, Hashable {
    public let account: AccountID
    public let symbol: Symbol
    public private(set) var qty: Quantity
    /// The average cost of the open quantity; `nil` when flat.
    public private(set) var avgPrice: Price?
    public private(set) var realizedPnL: Money

    public init(account: AccountID, symbol: Symbol) {
        self.account = account
        self.symbol = symbol
        self.qty = .zero
        self.avgPrice = nil
        self.realizedPnL = .zero
    }

    public var isFlat: Bool { qty.isZero }

    /// Applies a fill and returns the profit it realized (before commission).
    @discardableResult
    public mutating func apply(_ fill: Fill) -> Money {
        let delta = fill.signedQty
        guard let average = avgPrice, !qty.isZero else {
            qty = delta
            avgPrice = delta.isZero ? nil : fill.price
            return .zero
        }
        if (qty.isPositive) == (delta.isPositive) {
            avgPrice = Price.weightedAverage(average, qty.magnitude, fill.price, delta.magnitude)
            qty += delta
            return .zero
        }
        let closing = min(qty.magnitude, delta.magnitude)
        // Long positions gain when the exit is above cost; short positions when it is below.
        let perUnit = qty.isPositive ? fill.price - average : average - fill.price
        let realized = perUnit.notional(closing, multiplier: symbol.multiplier) ?? .zero
        realizedPnL += realized
        let before = qty
        qty = before + delta
        if qty.isZero {
            avgPrice = nil
        } else if qty.isPositive != before.isPositive {
            avgPrice = fill.price  // flipped through zero: the rest opens at the fill price
        }
        return realized
    }

    /// Profit of the open quantity at `mark`; zero when flat or without a mark.
    public func unrealizedPnL(at mark: Price?) -> Money {
        guard let mark, let average = avgPrice, !qty.isZero else { return .zero }
        return (mark - average).notional(qty, multiplier: symbol.multiplier) ?? .zero
    }

    /// The signed market value at `mark` (negative for shorts).
    public func marketValue(at mark: Price?) -> Money {
        guard let price = mark ?? avgPrice else { return .zero }
        return price.notional(qty, multiplier: symbol.multiplier) ?? .zero
    }
}

// Checkpoints of the engine's state carry positions whole.
extension Position: Codable {
    enum CodingKeys: String, CodingKey {
        case account, symbol, qty, avgPrice = "avg_price", realizedPnL = "realized_pnl"
    }
}
