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
        let negative = units < 0
        let magnitude = units.magnitude
        let one = UInt64(Self.unitsPerOne)
        let whole = magnitude / one
        var fraction = magnitude % one
        var text = negative ? "-" : ""
        text += String(whole)
        if fraction != 0 {
            var digits = Kind.scale
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            let raw = String(fraction)
            text += "." + String(repeating: "0", count: digits - raw.count) + raw
        }
        return text
    }
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
