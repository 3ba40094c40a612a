/// A string identifier validated against a character set and a length; each concrete identifier names
/// its own rule.
public protocol ValidatedIdentifier: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The identifier's text, already validated.
    var rawValue: String { get }
    /// `nil` unless `rawValue` follows this identifier's rule.
    init?(_ rawValue: String)
    /// The rule, for error messages.
    static var rule: String { get }
}

extension ValidatedIdentifier {
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(raw) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(raw)' is not valid: \(Self.rule)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

func isIdentifier(_ text: String, maxLength: Int, extra: String) -> Bool {
    let bytes = text.utf8
    guard (1...maxLength).contains(bytes.count) else { return false }
    // `extra`'s own bytes, not an array of them: this runs for every id of every order.
    return bytes.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || extra.utf8.contains($0) }
}

/// The client's idempotency key for an order: at most 48 characters of `[A-Za-z0-9._:-]`, unique per
/// account forever (PROTOCOL.md).
public struct ClientOrderID: ValidatedIdentifier {
    public let rawValue: String
    public init?(_ rawValue: String) {
        guard isIdentifier(rawValue, maxLength: 48, extra: "._:-") else { return nil }
        self.rawValue = rawValue
    }
    public static var rule: String { "1 to 48 characters of A-Z a-z 0-9 . _ : -" }
}

/// The gateway's own order identifier. Also the id the gateway gives the broker, so it is unique across
/// journals (a per-journal prefix) and within one (the journal sequence number that accepted it).
public struct OrderID: ValidatedIdentifier {
    public let rawValue: String
    public init?(_ rawValue: String) {
        guard isIdentifier(rawValue, maxLength: 48, extra: "._:-") else { return nil }
        self.rawValue = rawValue
    }
    public static var rule: String { "1 to 48 characters of A-Z a-z 0-9 . _ : -" }
}

/// An account's name in the configuration (`paper`, `alpaca-live`).
public struct AccountID: ValidatedIdentifier {
    public let rawValue: String
    public init?(_ rawValue: String) {
        guard isIdentifier(rawValue, maxLength: 32, extra: "_-") else { return nil }
        self.rawValue = rawValue
    }
    public static var rule: String { "1 to 32 characters of A-Z a-z 0-9 _ -" }
}

/// A fill's identifier, unique per broker; fills are de-duplicated by it.
public struct FillID: ValidatedIdentifier {
    public let rawValue: String
    public init?(_ rawValue: String) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= 128 else { return nil }
        self.rawValue = rawValue
    }
    public static var rule: String { "1 to 128 characters" }
}
