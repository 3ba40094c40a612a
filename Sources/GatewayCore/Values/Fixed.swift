/// The scale of a kind of fixed-point number: how many decimal places its integer mantissa carries.
public protocol FixedKind: Sendable {
    /// Decimal places of the mantissa (`units` counts 10^-scale).
    static var scale: Int { get }
}

/// Prices carry eight decimal places (crypto and sub-penny quotes fit).
public enum PriceKind: FixedKind { public static var scale: Int { 8 } }
/// Quantities carry eight decimal places (fractional shares and crypto fit).
public enum QuantityKind: FixedKind { public static var scale: Int { 8 } }
/// Money carries six decimal places; notional amounts round half-to-even to 10^-6 of the currency.
public enum MoneyKind: FixedKind { public static var scale: Int { 6 } }

/// A price per unit of an instrument.
public typealias Price = Fixed<PriceKind>
/// A quantity of an instrument, signed where a position can be short.
public typealias Quantity = Fixed<QuantityKind>
/// An amount of the account's currency.
public typealias Money = Fixed<MoneyKind>

/// A fixed-point decimal: an integer mantissa of `units` × 10^-scale. Never a `Double`
/// (DESIGN.md contract 4). Parsing is exact: a string with more decimals than the scale is refused,
/// not rounded. Sums, differences, negation and whole-number multiples saturate: a result past what 64
/// bits hold is clamped to the nearest end instead of trapping, since an account's totals add up values
/// that are each checked at the edge but not their sum, and a trap on the engine's thread stopped the
/// daemon — and again at every start, replaying the same fills. Only absurd totals reach the ends (more
/// than 92 billion shares, or 9.2 trillion in money), and the gateway refuses orders that would bring an
/// account's quantities near them (`OrderValidation`). The `checked` variants return `nil` instead.
public struct Fixed<Kind: FixedKind>: Sendable, Hashable, Comparable {
    /// The mantissa: the value times 10^scale.
    public let units: Int64

    /// Wraps a mantissa already at this kind's scale.
    public init(units: Int64) { self.units = units }

    /// A whole number.
    public init(_ integer: Int) { self.units = Int64(integer) * Self.unitsPerOne }

    public static var zero: Self { Self(units: 0) }
    public static var unitsPerOne: Int64 { pow10(Kind.scale) }

    public var isZero: Bool { units == 0 }
    public var isNegative: Bool { units < 0 }
    public var isPositive: Bool { units > 0 }
    public var magnitude: Self { units < 0 ? -self : self }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.units < rhs.units }
    public static func + (lhs: Self, rhs: Self) -> Self {
        Self(units: clamped(lhs.units.addingReportingOverflow(rhs.units), high: rhs.units > 0))
    }
    public static func - (lhs: Self, rhs: Self) -> Self {
        Self(units: clamped(lhs.units.subtractingReportingOverflow(rhs.units), high: rhs.units < 0))
    }
    public static prefix func - (value: Self) -> Self { Self(units: value.units == .min ? .max : -value.units) }
    public static func += (lhs: inout Self, rhs: Self) { lhs = lhs + rhs }
    public static func -= (lhs: inout Self, rhs: Self) { lhs = lhs - rhs }

    /// This value times a whole number (a leg's ratio, a contract's multiplier), saturating.
    public func times(_ factor: Int) -> Self {
        Self(
            units: Self.clamped(units.multipliedReportingOverflow(by: Int64(factor)), high: (units < 0) == (factor < 0))
        )
    }

    /// The result, or the end of the range it went past (`high`: the top).
    @inline(__always)
    static func clamped(_ result: (partialValue: Int64, overflow: Bool), high: Bool) -> Int64 {
        result.overflow ? (high ? .max : .min) : result.partialValue
    }

    /// `self + other`, or `nil` on overflow.
    public func checkedAdding(_ other: Self) -> Self? {
        let (sum, overflow) = units.addingReportingOverflow(other.units)
        return overflow ? nil : Self(units: sum)
    }

    /// The same value at another kind's scale, or `nil` when it cannot be represented exactly.
    public func converted<Other: FixedKind>(to _: Other.Type = Other.self) -> Fixed<Other>? {
        guard let scaled = Fixed.rescale(Int128(units), from: Kind.scale, to: Other.scale, exact: true),
            let units = Int64(exactly: scaled)
        else { return nil }
        return Fixed<Other>(units: units)
    }
}

extension Fixed {
    /// `value × 10^(to - from)` rounding half-to-even when digits are dropped, or `nil` when `exact` and
    /// digits would be lost.
    static func rescale(_ value: Int128, from: Int, to: Int, exact: Bool = false) -> Int128? {
        if to >= from { return value * Int128(pow10(to - from)) }
        return divideRounded(value, by: Int128(pow10(from - to)), exact: exact)
    }

    /// `numerator / denominator` rounded half-to-even; `nil` when `exact` and there is a remainder.
    static func divideRounded(_ numerator: Int128, by denominator: Int128, exact: Bool = false) -> Int128? {
        precondition(denominator != 0, "division by zero")
        // Most figures fit in 64 bits, where division is several times cheaper (the pre-trade check's
        // budget is a few hundred nanoseconds).
        if let n = Int64(exactly: numerator), let d = Int64(exactly: denominator), n != .min {
            return roundedQuotient(n, d, exact: exact).map { Int128($0) }
        }
        return roundedQuotient(numerator, denominator, exact: exact)
    }

    @inline(__always)
    static func roundedQuotient<T: FixedWidthInteger & SignedInteger>(_ numerator: T, _ denominator: T, exact: Bool)
        -> T?
    {
        var (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        if remainder == 0 { return quotient }
        if exact { return nil }
        let twice = remainder.magnitude * 2
        let negative = (numerator < 0) != (denominator < 0)
        if twice > denominator.magnitude || (twice == denominator.magnitude && quotient % 2 != 0) {
            quotient += negative ? -1 : 1
        }
        return quotient
    }
}

/// 10^exponent for 0 ≤ exponent ≤ 18.
@inline(__always)
func pow10(_ exponent: Int) -> Int64 {
    precondition((0...18).contains(exponent), "power of ten out of range")
    var result: Int64 = 1
    for _ in 0..<exponent { result *= 10 }
    return result
}
