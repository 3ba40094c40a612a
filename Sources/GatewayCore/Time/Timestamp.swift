/// An instant in UTC, in nanoseconds since the Unix epoch (DESIGN.md contract 5). Text form is RFC 3339
/// with nine fractional digits (`2026-11-25T14:30:00.123456789Z`), exact in both directions.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let nanosecondsSinceEpoch: Int64

    public init(nanosecondsSinceEpoch: Int64) { self.nanosecondsSinceEpoch = nanosecondsSinceEpoch }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    static let nanosPerSecond: Int64 = 1_000_000_000
    static let nanosPerDay: Int64 = 86_400 * nanosPerSecond

    /// The UTC calendar date of this instant.
    public var date: CalendarDate {
        CalendarDate(daysSinceEpoch: floorDiv(nanosecondsSinceEpoch, Self.nanosPerDay))
    }

    public var description: String {
        // The order path writes several timestamps per event: digits straight into the string's storage
        // (one allocation) instead of a dozen concatenated pieces.
        String(unsafeUninitializedCapacity: 30) { out in
            write(into: out)
            return 30
        }
    }

    /// How many bytes the text form takes.
    static var textCount: Int { 30 }

    /// Writes the 30 bytes of the text form into `out` (JSONText's timestamps: none of its characters
    /// needs escaping). Nanoseconds in an Int64 reach only the years 1677 to 2262, so the year always has
    /// four digits.
    func write(into out: UnsafeMutableBufferPointer<UInt8>) {
        let days = floorDiv(nanosecondsSinceEpoch, Self.nanosPerDay)
        // Wrapping: the exact remainder, also where `days × nanosPerDay` lies beyond Int64 (before 1678).
        let inDay = nanosecondsSinceEpoch &- days &* Self.nanosPerDay
        let date = CalendarDate(daysSinceEpoch: days)
        func put(_ value: Int, at end: Int, digits: Int) {
            var value = value
            for index in stride(from: end, to: end - digits, by: -1) {
                out[index] = UInt8(truncatingIfNeeded: 48 + value % 10)
                value /= 10
            }
        }
        let seconds = Int(inDay / Self.nanosPerSecond)
        put(date.year, at: 3, digits: 4)
        out[4] = UInt8(ascii: "-")
        put(date.month, at: 6, digits: 2)
        out[7] = UInt8(ascii: "-")
        put(date.day, at: 9, digits: 2)
        out[10] = UInt8(ascii: "T")
        put(seconds / 3600, at: 12, digits: 2)
        out[13] = UInt8(ascii: ":")
        put(seconds / 60 % 60, at: 15, digits: 2)
        out[16] = UInt8(ascii: ":")
        put(seconds % 60, at: 18, digits: 2)
        out[19] = UInt8(ascii: ".")
        put(Int(inDay % Self.nanosPerSecond), at: 28, digits: 9)
        out[29] = UInt8(ascii: "Z")
    }

    /// The text form built piece by piece: what the tests hold `write(into:)` to.
    static func slowDescription(_ date: CalendarDate, _ inDay: Int64) -> String {
        let seconds = Int(inDay / nanosPerSecond)
        let nanos = String(inDay % nanosPerSecond)
        return date.description + "T" + twoDigits(seconds / 3600) + ":" + twoDigits(seconds / 60 % 60) + ":"
            + twoDigits(seconds % 60) + "." + String(repeating: "0", count: 9 - nanos.count) + nanos + "Z"
    }

    /// Parses RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, or a bare date `YYYY-MM-DD` (midnight UTC).
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count, b[range].allSatisfy(\.isASCIIDigit) else { return nil }
            return b[range].reduce(0) { $0 * 10 + Int($1 - 48) }
        }
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let date = CalendarDate(year: year, month: month, day: day)
        else { return nil }
        // Summed wide: an instant beyond what nanoseconds in an Int64 reach (about 1677 to 2262) is
        // refused, not trapped on.
        var nanos = Int128(date.daysSinceEpoch) * Int128(Self.nanosPerDay)
        if b.count == 10 {
            guard let exact = Int64(exactly: nanos) else { return nil }
            self.nanosecondsSinceEpoch = exact
            return
        }
        guard b.count >= 20, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            hour < 24, minute < 60, second < 60
        else { return nil }
        nanos += Int128((Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)) * Self.nanosPerSecond)
        var index = 19
        if b[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            var fraction: Int64 = 0
            while index < b.count, b[index].isASCIIDigit {
                if digits < 9 {
                    fraction = fraction * 10 + Int64(b[index] - 48)
                    digits += 1
                } else if b[index] != UInt8(ascii: "0") {
                    return nil  // finer than a nanosecond cannot be represented
                }
                index += 1
            }
            guard digits > 0 else { return nil }
            nanos += Int128(fraction * pow10(9 - digits))
        }
        guard index < b.count else { return nil }
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            guard index + 1 == b.count else { return nil }
        } else {
            guard b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-"), index + 6 == b.count,
                b[index + 3] == UInt8(ascii: ":"),
                let offsetHours = number((index + 1)..<(index + 3)),
                let offsetMinutes = number((index + 4)..<(index + 6))
            else { return nil }
            let offset = Int64(offsetHours * 3600 + offsetMinutes * 60) * Self.nanosPerSecond
            nanos += Int128(b[index] == UInt8(ascii: "+") ? -offset : offset)
        }
        guard let exact = Int64(exactly: nanos) else { return nil }
        self.nanosecondsSinceEpoch = exact
    }
}

extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Timestamp(rfc3339: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "'\(text)' is not an RFC 3339 time from 1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Reads the current wall-clock time. Injected wherever time is needed (DESIGN.md contract 5), so that
/// tests and the simulator control it.
public protocol WallClock: Sendable {
    /// The current instant, UTC.
    func now() -> Timestamp
}
