extension Fixed: LosslessStringConvertible, CustomStringConvertible {
    /// Parses an exact decimal: an optional sign, digits, an optional point and fraction. No exponent, no
    /// `NaN`, no infinity, and no more fractional digits than the scale (trailing zeros excepted): what
    /// cannot be represented is refused, never rounded.
    public init?(_ text: String) {
        var utf8 = Substring(text).utf8[...]
        guard !utf8.isEmpty, utf8.count <= 40 else { return nil }
        var negative = false
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        var integer: Int128 = 0
        var fraction: Int128 = 0
        var fractionDigits = 0
        var sawPoint = false
        var sawDigit = false
        for byte in utf8 {
            if byte == UInt8(ascii: ".") {
                guard !sawPoint else { return nil }
                sawPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            sawDigit = true
            let digit = Int128(byte - UInt8(ascii: "0"))
            if sawPoint {
                fraction = fraction * 10 + digit
                fractionDigits += 1
                guard fractionDigits <= 30 else { return nil }
            } else {
                integer = integer * 10 + digit
                guard integer <= Int128(Int64.max) else { return nil }
            }
        }
        guard sawDigit else { return nil }
        // Drop trailing zeros of the fraction, then require it to fit the scale.
        while fractionDigits > Kind.scale, fraction % 10 == 0 {
            fraction /= 10
            fractionDigits -= 1
        }
        guard fractionDigits <= Kind.scale else { return nil }
        let scaledFraction = fraction * Int128(pow10(Kind.scale - fractionDigits))
        let total = integer * Int128(Self.unitsPerOne) + scaledFraction
        guard let units = Int64(exactly: negative ? -total : total) else { return nil }
        self.units = units
    }

    /// The shortest exact decimal text: `190.5`, `100`, `-0.25`.
    public var description: String {
        String(unsafeUninitializedCapacity: Self.maxTextCount) { write(into: $0) }
    }

    /// The most bytes the text form takes: a sign, Int64's nineteen digits and a point.
    static var maxTextCount: Int { 21 }

    /// Writes the text form at the start of `out` (at least `maxTextCount` bytes) and returns its length:
    /// the whole part, then, when the fraction is not zero, a point and its digits without trailing zeros.
    /// JSONText writes decimals this way, without a `String` each (about a dozen an order).
    func write(into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let one = UInt64(Self.unitsPerOne)
        let magnitude = units.magnitude
        var fraction = magnitude % one
        var fractionDigits = Kind.scale
        while fraction != 0, fraction % 10 == 0 {
            fraction /= 10
            fractionDigits -= 1
        }
        let sign = units < 0 ? 1 : 0
        let wholeEnd = sign + decimalDigitCount(magnitude / one)
        guard fraction != 0 else {
            writeDecimalDigits(magnitude / one, endingAt: wholeEnd, into: out.baseAddress!, sign: sign == 1)
            return wholeEnd
        }
        // The fraction's leading zeros, then its digits.
        let count = wholeEnd + 1 + fractionDigits
        for index in (wholeEnd + 1)..<count { out[index] = UInt8(ascii: "0") }
        writeDecimalDigits(fraction, endingAt: count, into: out.baseAddress!, sign: false)
        out[wholeEnd] = UInt8(ascii: ".")
        writeDecimalDigits(magnitude / one, endingAt: wholeEnd, into: out.baseAddress!, sign: sign == 1)
        return count
    }
}

/// How many decimal digits `value` takes (one for zero).
func decimalDigitCount(_ value: UInt64) -> Int {
    var count = 1
    var rest = value
    while rest >= 10 {
        rest /= 10
        count += 1
    }
    return count
}

/// Writes `value`'s decimal digits so that the last is just before `end`, and a minus sign before them when
/// `sign`; what lies before is left as it is.
func writeDecimalDigits(_ value: UInt64, endingAt end: Int, into out: UnsafeMutablePointer<UInt8>, sign: Bool) {
    var at = end
    var rest = value
    repeat {
        at -= 1
        out[at] = UInt8(truncatingIfNeeded: 48 + rest % 10)
        rest /= 10
    } while rest != 0
    if sign { out[at - 1] = UInt8(ascii: "-") }
}

extension Fixed: Codable {
    /// Decodes a decimal string, or a JSON integer (always exact).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let value = Self(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "'\(text)' is not an exact decimal with at most \(Kind.scale) places")
            }
            self = value
            return
        }
        let integer = try container.decode(Int64.self)
        guard let units = Int64(exactly: Int128(integer) * Int128(Self.unitsPerOne)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(integer) is out of range")
        }
        self.units = units
    }

    /// Encodes as a decimal string (PROTOCOL.md: decimals are strings).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
