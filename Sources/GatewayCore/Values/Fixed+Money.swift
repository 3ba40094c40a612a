extension Fixed where Kind == PriceKind {
    /// The money value of `quantity` units at this price with a contract `multiplier`, rounded
    /// half-to-even to money's scale; `nil` on overflow.
    public func notional(_ quantity: Quantity, multiplier: Int = 1) -> Money? {
        let product = Int128(units) * Int128(quantity.units) * Int128(multiplier)
        let scale = PriceKind.scale + QuantityKind.scale
        guard let money = Fixed.rescale(product, from: scale, to: MoneyKind.scale),
            let units = Int64(exactly: money)
        else { return nil }
        return Money(units: units)
    }

    /// `value` times this rate (a fee per dollar of proceeds, a percentage as a number), rounded
    /// half-to-even to money's scale; `nil` on overflow. Multiplied in 128 bits: the money's mantissa read
    /// as a quantity's overflowed 64 bits for values past about 92 billion.
    public func of(_ value: Money) -> Money? {
        let product = Int128(units) * Int128(value.units)
        guard let money = Fixed.rescale(product, from: PriceKind.scale + MoneyKind.scale, to: MoneyKind.scale),
            let units = Int64(exactly: money)
        else { return nil }
        return Money(units: units)
    }

    /// The price at which `quantity` units come to `money` (a fill's price from the change in an order's
    /// total notional), rounded half-to-even to price's scale; `nil` for a quantity that is not positive
    /// or on overflow.
    public static func perUnit(_ money: Money, _ quantity: Quantity) -> Price? {
        guard quantity.units > 0 else { return nil }
        var factor: Int128 = 1
        for _ in 0..<(PriceKind.scale + QuantityKind.scale - MoneyKind.scale) { factor *= 10 }
        guard let units = Fixed.divideRounded(Int128(money.units) * factor, by: Int128(quantity.units)),
            let exact = Int64(exactly: units)
        else { return nil }
        return Price(units: exact)
    }

    /// The quantity-weighted average of two (price, quantity) pairs with positive quantities, rounded
    /// half-to-even to price's scale.
    public static func weightedAverage(_ a: Price, _ qa: Quantity, _ b: Price, _ qb: Quantity) -> Price {
        let numerator = Int128(a.units) * Int128(qa.units) + Int128(b.units) * Int128(qb.units)
        let denominator = Int128(qa.units) + Int128(qb.units)
        precondition(denominator > 0, "weighted average of nothing")
        let units = Fixed.divideRounded(numerator, by: denominator)!
        return Price(units: Int64(units))
    }
}

extension Fixed where Kind == QuantityKind {
    /// Whether this quantity is a whole number of units.
    public var isWhole: Bool { units % Self.unitsPerOne == 0 }
}
