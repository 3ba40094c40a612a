/// A UTC instant with millisecond precision, as FIX's UTCTimestamp carries it.
///
/// Converting to and from civil dates by hand keeps the codec free of Foundation (DESIGN.md): the
/// days-from-civil arithmetic is the proleptic Gregorian calendar's.
public struct FIXTimestamp: Sendable, Hashable, Comparable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    /// The instant `milliseconds` after the epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Reads `YYYYMMDD-HH:MM:SS` with optional fractional seconds (milliseconds kept, finer digits dropped).
    public init?(parsing bytes: some Collection<UInt8>) {
        let parsed =
            bytes.withContiguousStorageIfAvailable { Self.parse($0) }
            ?? Array(bytes).withUnsafeBufferPointer {
                Self.parse($0)
            }
        guard let parsed else { return nil }
        millisecondsSinceEpoch = parsed
    }

    private static func parse(_ array: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard array.count >= 17, array[8] == UInt8(ascii: "-"), let date = FIXFormat.digits(array[0..<8]),
            let time = Self.timeOfDay(array[9...])
        else { return nil }
        let year = date / 10000
        let month = date / 100 % 100
        let day = date % 100
        guard month >= 1, month <= 12, day >= 1, day <= Self.daysIn(month: month, year: year) else { return nil }
        return Self.daysFromCivil(year: year, month: month, day: day) * 86_400_000 + time
    }

    /// Milliseconds into the day for `HH:MM:SS[.fff...]`, nil when malformed.
    static func timeOfDay<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int64? where Bytes.Index == Int {
        let start = bytes.startIndex
        guard bytes.count >= 8, bytes[start + 2] == UInt8(ascii: ":"), bytes[start + 5] == UInt8(ascii: ":"),
            let hours = FIXFormat.digits(bytes[start..<start + 2]),
            let minutes = FIXFormat.digits(bytes[start + 3..<start + 5]),
            let seconds = FIXFormat.digits(bytes[start + 6..<start + 8]), hours < 24, minutes < 60, seconds <= 60
        else { return nil }
        var milliseconds = 0
        if bytes.count > 8 {
            guard bytes[start + 8] == UInt8(ascii: "."), bytes.count > 9,
                let fraction = FIXFormat.digits(bytes[(start + 9)...])
            else { return nil }
            let digits = bytes.count - 9
            milliseconds = fraction
            if digits < 3 {
                for _ in digits..<3 { milliseconds *= 10 }
            } else {
                for _ in 3..<digits { milliseconds /= 10 }
            }
        }
        return Int64(((hours * 60 + minutes) * 60 + seconds) * 1000 + milliseconds)
    }

    /// Appends `YYYYMMDD-HH:MM:SS.sss` (or without milliseconds) to `buffer`.
    public func append(to buffer: inout [UInt8], milliseconds: Bool = true) {
        let days =
            millisecondsSinceEpoch >= 0
            ? millisecondsSinceEpoch / 86_400_000 : (millisecondsSinceEpoch - 86_399_999) / 86_400_000
        let inDay = Int(millisecondsSinceEpoch - days * 86_400_000)
        let (year, month, day) = Self.civil(fromDays: days)
        func two(_ value: Int) {
            buffer.append(0x30 + UInt8(value / 10))
            buffer.append(0x30 + UInt8(value % 10))
        }
        two(year / 100 % 100)
        two(year % 100)
        two(month)
        two(day)
        buffer.append(UInt8(ascii: "-"))
        two(inDay / 3_600_000)
        buffer.append(UInt8(ascii: ":"))
        two(inDay / 60_000 % 60)
        buffer.append(UInt8(ascii: ":"))
        two(inDay / 1000 % 60)
        if milliseconds {
            buffer.append(UInt8(ascii: "."))
            let millis = inDay % 1000
            buffer.append(0x30 + UInt8(millis / 100))
            two(millis % 100)
        }
    }

    /// `YYYYMMDD-HH:MM:SS.sss`.
    public var text: String { text(milliseconds: true) }

    /// `YYYYMMDD-HH:MM:SS.sss`, or without the milliseconds.
    public func text(milliseconds: Bool) -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(21)
        append(to: &buffer, milliseconds: milliseconds)
        return String(decoding: buffer, as: UTF8.self)
    }

    public static func < (lhs: FIXTimestamp, rhs: FIXTimestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthIndex + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        return (Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0), month, day)
    }
}
