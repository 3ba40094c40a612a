/// What a fill costs beyond its price: a broker's commission and the regulators' fees on sales, as the
/// paper broker charges them so that paper results carry real costs.
///
/// Commission models:
/// - `zero` (Alpaca style);
/// - `perShare`: a rate per share (or contract) with a minimum per order and a maximum as a percent of
///   the trade's value; when the maximum is below the minimum, the maximum is charged (IBKR fixed style);
/// - `perContract`: a rate per option contract opened, capped per leg, closing free when `freeClosing`
///   (Tastytrade style).
///
/// Fees on sales: the SEC fee (`secFeeRate` times the proceeds) and FINRA's trading activity fee
/// (`finraTAFPerShare` per share or contract, at most `finraTAFMaximum`), each rounded up to the cent as
/// brokers pass them on. The commission is rounded half-to-even to the cent. The paper broker fills an
/// order at once, so a fill is an order and "per order" limits apply per fill.
public struct CostModel: Sendable, Hashable {
    public enum Commission: Sendable, Hashable {
        case zero
        case perShare(rate: Price, minimum: Money, maximumPercent: Price?)
        case perContract(rate: Price, capPerLeg: Money?, freeClosing: Bool)
    }

    public var commission: Commission
    public var secFeeRate: Price?
    public var finraTAFPerShare: Price?
    public var finraTAFMaximum: Money?

    public init(
        commission: Commission = .zero, secFeeRate: Price? = nil, finraTAFPerShare: Price? = nil,
        finraTAFMaximum: Money? = nil
    ) {
        self.commission = commission
        self.secFeeRate = secFeeRate
        self.finraTAFPerShare = finraTAFPerShare
        self.finraTAFMaximum = finraTAFMaximum
    }

    /// The commission and fees of one fill of `qty` at `price`; `isSale` for sells, `closingQty` the part
    /// of it that reduces an existing position.
    public func cost(symbol: Symbol, qty: Quantity, price: Price, isSale: Bool, closingQty: Quantity) -> Money {
        let multiplier = symbol.multiplier
        let value = price.notional(qty, multiplier: multiplier) ?? .zero
        var total = Money.zero
        switch commission {
        case .zero:
            break
        case .perShare(let rate, let minimum, let maximumPercent):
            var charge = max(rate.notional(qty) ?? .zero, minimum)
            if let maximumPercent, let cap = Self.percent(maximumPercent, of: value) { charge = min(charge, cap) }
            total += charge.roundedToCent(up: false)
        case .perContract(let rate, let capPerLeg, let freeClosing):
            let charged = freeClosing ? max(.zero, qty - closingQty) : qty
            var charge = rate.notional(charged) ?? .zero
            if let capPerLeg { charge = min(charge, capPerLeg) }
            total += charge.roundedToCent(up: false)
        }
        if isSale {
            if let secFeeRate, let fee = secFeeRate.of(value) {
                total += fee.roundedToCent(up: true)
            }
            if let finraTAFPerShare {
                var fee = (finraTAFPerShare.notional(qty) ?? .zero).roundedToCent(up: true)
                if let finraTAFMaximum { fee = min(fee, finraTAFMaximum) }
                total += fee
            }
        }
        return total
    }

    /// `percent` percent of `value`.
    static func percent(_ percent: Price, of value: Money) -> Money? {
        guard let scaled = percent.of(value) else { return nil }
        return Money(units: scaled.units / 100)
    }
}

extension Fixed where Kind == MoneyKind {
    /// Rounded to a whole cent: up (away from zero) for fees, else half-to-even.
    public func roundedToCent(up: Bool) -> Money {
        let cent = Int64(10_000)  // money carries six decimals
        let remainder = units % cent
        guard remainder != 0 else { return self }
        let down = units - remainder
        if up { return Money(units: units > 0 ? down + cent : down - cent) }
        let twice = 2 * abs(remainder)
        if twice < cent { return Money(units: down) }
        if twice > cent { return Money(units: units > 0 ? down + cent : down - cent) }
        let evenDown = (down / cent) % 2 == 0
        return evenDown ? Money(units: down) : Money(units: units > 0 ? down + cent : down - cent)
    }
}
