/// The value formats of FIX's field types: reading integers and checking the others, on bytes.
public enum FIXFormat {
    /// An optional minus sign and at least one digit; nil otherwise or on overflow.
    public static func integer(_ bytes: some Collection<UInt8>) -> Int? {
        var iterator = bytes.makeIterator()
        guard var byte = iterator.next() else { return nil }
        let negative = byte == UInt8(ascii: "-")
        if negative {
            guard let next = iterator.next() else { return nil }
            byte = next
        }
        var value = 0
        while true {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(byte - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            guard let next = iterator.next() else { break }
            byte = next
        }
        return negative ? -value : value
    }

    /// Whether `bytes` is a decimal: optional minus, digits, at most one point, at least one digit.
    public static func isDecimal(_ bytes: some Collection<UInt8>) -> Bool {
        var digits = 0
        var points = 0
        var first = true
        for byte in bytes {
            defer { first = false }
            if byte >= 0x30, byte <= 0x39 {
                digits += 1
            } else if byte == UInt8(ascii: ".") {
                points += 1
                if points > 1 { return false }
            } else if byte == UInt8(ascii: "-"), first {
                continue
            } else {
                return false
            }
        }
        return digits > 0
    }

    /// Whether `bytes` is `YYYYMMDD-HH:MM:SS` with optional `.sss` (or more fractional digits).
    public static func isUTCTimestamp(_ bytes: some Collection<UInt8>) -> Bool {
        FIXTimestamp(parsing: bytes) != nil
    }

    /// Whether `bytes` is `HH:MM:SS` with optional fractional seconds.
    public static func isUTCTimeOnly(_ bytes: some Collection<UInt8>) -> Bool {
        let array = Array(bytes)  // rare type: a copy is acceptable
        guard array.count == 8 || (array.count > 9 && array[8] == UInt8(ascii: ".")) else { return false }
        return FIXTimestamp.timeOfDay(array[0..<array.count]) != nil
    }

    /// Whether `bytes` is a date `YYYYMMDD`.
    public static func isDate(_ bytes: some Collection<UInt8>) -> Bool {
        guard bytes.count == 8, let date = digits(bytes) else { return false }
        let month = date / 100 % 100
        let day = date % 100
        return month >= 1 && month <= 12 && day >= 1 && day <= 31
    }

    /// The number that a run of ASCII digits spells, nil when any byte is not a digit.
    static func digits(_ bytes: some Collection<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// Appends the decimal digits of `value` to `buffer`.
    @inline(__always)
    public static func appendInteger(_ value: Int, to buffer: inout [UInt8]) {
        if value < 0 {
            buffer.append(UInt8(ascii: "-"))
            if value == .min {
                buffer.append(contentsOf: String(value).utf8.dropFirst())
                return
            }
        }
        var magnitude = value.magnitude
        if magnitude < 10 {
            buffer.append(0x30 + UInt8(magnitude))
            return
        }
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            var position = raw.count
            while magnitude > 0 {
                position -= 1
                raw[position] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
            }
            buffer.append(contentsOf: raw[position...])
        }
    }
}
