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

extension Fixed where Kind == MoneyKind {
    /// This amount times a whole number, or `nil` on overflow.
    public func times(_ factor: Int) -> Money? {
        let (product, overflow) = units.multipliedReportingOverflow(by: Int64(factor))
        return overflow ? nil : Money(units: product)
    }
}

extension Fixed where Kind == QuantityKind {
    /// Whether this quantity is a whole number of units.
    public var isWhole: Bool { units % Self.unitsPerOne == 0 }
}
