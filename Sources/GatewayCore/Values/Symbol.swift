/// A tradable instrument's symbol: an equity ticker or an OCC option symbol, validated and normalized.
///
/// Equity tickers are upper-cased (`brk.b` → `BRK.B`); options are kept in the padded 21-character OCC
/// form (`AAPL  261218C00200000`) whichever of the padded or compact forms was given.
public struct Symbol: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// What the symbol names. An option's contract is stored out of line (`indirect`), so that a symbol
    /// is three words wherever it is held — in every order, working order and position line — instead
    /// of about ten (docs/performance.md, memory).
    public enum Kind: Sendable, Hashable {
        case equity
        indirect case option(OptionContract)
    }

    /// The normalized text.
    public let text: String
    public let kind: Kind
    /// The text's hash, computed once: symbols key the hottest lookups of the order path.
    private let textHash: Int

    /// Parses an equity ticker or an OCC option symbol; `nil` when it is neither.
    public init?(_ raw: String) {
        let trimmed = raw.trimmingSpaces()
        if trimmed.utf8.count >= 16, let option = OptionContract(occ: trimmed) {
            self.text = option.occSymbol
            self.kind = .option(option)
            self.textHash = text.hashValue
            return
        }
        guard Symbol.isValidTicker(trimmed) else { return nil }
        self.text = Symbol.upperCased(ticker: trimmed)
        self.kind = .equity
        self.textHash = text.hashValue
    }

    /// Contract size: 100 for options, 1 for equities.
    public var multiplier: Int {
        if case .option = kind { return 100 }
        return 1
    }

    public var isOption: Bool {
        if case .option = kind { return true }
        return false
    }

    public var description: String { text }
    // The kind follows from the text, so the text alone decides equality and the hash.
    public static func == (lhs: Symbol, rhs: Symbol) -> Bool { lhs.textHash == rhs.textHash && lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(textHash) }
    public static func < (lhs: Symbol, rhs: Symbol) -> Bool { lhs.text < rhs.text }

    /// 1–12 characters: a letter first, then letters, digits, `.`, `/` or `-`.
    static func isValidTicker(_ text: String) -> Bool {
        let bytes = text.utf8
        guard (1...12).contains(bytes.count), let first = bytes.first, first.isASCIILetter else { return false }
        return bytes.allSatisfy {
            $0.isASCIILetter || $0.isASCIIDigit || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/")
                || $0 == UInt8(ascii: "-")
        }
    }
}

extension Symbol {
    /// A valid ticker (ASCII) in upper case: the same text as `uppercased()`, which takes the whole of
    /// Unicode's case rules and was the largest cost of reading a submit's symbol; the text itself when
    /// it is upper case already, as a client usually sends it.
    static func upperCased(ticker: String) -> String {
        guard ticker.utf8.contains(where: \.isASCIILowercase) else { return ticker }
        return String(decoding: ticker.utf8.map { $0.isASCIILowercase ? $0 - 32 : $0 }, as: UTF8.self)
    }
}

extension Symbol: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let symbol = Symbol(raw) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(raw)' is neither an equity ticker nor an OCC option symbol")
        }
        self = symbol
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

extension UInt8 {
    var isASCIILetter: Bool { (self >= 65 && self <= 90) || (self >= 97 && self <= 122) }
    var isASCIIDigit: Bool { self >= 48 && self <= 57 }
    var isASCIILowercase: Bool { self >= 97 && self <= 122 }
}

extension String {
    func trimmingSpaces() -> String {
        // A string that neither starts nor ends with a space byte has no space to trim (a space that
        // starts or ends a character is its first or last byte): the common case, without a Substring.
        guard utf8.first == UInt8(ascii: " ") || utf8.last == UInt8(ascii: " ") else { return self }
        var slice = Substring(self)
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return String(slice)
    }
}
