/// One listed option contract, as named by an OCC/OSI symbol.
public struct OptionContract: Sendable, Hashable {
    public enum Right: String, Sendable, Hashable { case call = "C", put = "P" }

    /// The option root (not always the underlying ticker: `SPXW`, `XYZ1`).
    public let root: String
    public let expiration: CalendarDate
    public let right: Right
    /// Strike price, at most three decimals (the OCC field is strike × 1000).
    public let strike: Price

    /// Parses the padded (`AAPL  261218C00200000`) or compact (`AAPL261218C00200000`) OCC form, splitting
    /// from the right: 8 strike digits, C or P, YYMMDD, then the root.
    public init?(occ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 16, bytes.count <= 21 else { return nil }
        let strikeBytes = bytes[(bytes.count - 8)...]
        let rightByte = bytes[bytes.count - 9]
        let dateBytes = bytes[(bytes.count - 15)..<(bytes.count - 9)]
        let rootBytes = bytes[..<(bytes.count - 15)]
        guard strikeBytes.allSatisfy(\.isASCIIDigit), dateBytes.allSatisfy(\.isASCIIDigit),
            let right = Right(rawValue: String(decoding: [rightByte], as: UTF8.self))
        else { return nil }
        let root = String(decoding: rootBytes, as: UTF8.self).trimmingSpaces().uppercased()
        let rootUTF8 = Array(root.utf8)
        guard (1...6).contains(rootUTF8.count), rootUTF8[0].isASCIILetter,
            rootUTF8.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit })
        else { return nil }
        // Padding, when present, must be spaces only and make the root field exactly six wide.
        if bytes.count == 21 {
            guard rootBytes.count == 6 else { return nil }
        } else if rootBytes.contains(UInt8(ascii: " ")) {
            return nil
        }
        let digits = dateBytes.map { Int($0 - 48) }
        guard
            let date = CalendarDate(
                year: 2000 + digits[0] * 10 + digits[1], month: digits[2] * 10 + digits[3],
                day: digits[4] * 10 + digits[5])
        else { return nil }
        let thousandths = strikeBytes.reduce(Int64(0)) { $0 * 10 + Int64($1 - 48) }
        guard thousandths > 0 else { return nil }
        self.root = root
        self.expiration = date
        self.right = right
        self.strike = Price(units: thousandths * pow10(PriceKind.scale - 3))
    }

    /// The padded 21-character OCC symbol.
    public var occSymbol: String {
        let paddedRoot = root + String(repeating: " ", count: 6 - root.utf8.count)
        let yy = expiration.year % 100
        let thousandths = strike.units / pow10(PriceKind.scale - 3)
        let strikeText = String(thousandths)
        return paddedRoot + twoDigits(yy) + twoDigits(expiration.month) + twoDigits(expiration.day) + right.rawValue
            + String(repeating: "0", count: 8 - strikeText.count) + strikeText
    }

    /// The compact OCC form without padding, as Alpaca writes it.
    public var compactSymbol: String { occSymbol.replacingSpaces() }
}

func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

extension String {
    func replacingSpaces() -> String { String(filter { $0 != " " }) }
}
