/// The type of a field as QuickFIX's dictionaries name it; it decides the format check of a value.
public enum FIXFieldType: Sendable, Hashable {
    /// INT, LENGTH, SEQNUM, NUMINGROUP, DAYOFMONTH: an optional minus sign and digits.
    case integer
    /// FLOAT, PRICE, QTY, AMT, PRICEOFFSET, PERCENTAGE: an optional sign, digits and one optional point.
    case decimal
    /// CHAR: exactly one character.
    case character
    /// BOOLEAN: `Y` or `N`.
    case boolean
    /// UTCTIMESTAMP: `YYYYMMDD-HH:MM:SS` with optional milliseconds.
    case utcTimestamp
    /// UTCTIMEONLY: `HH:MM:SS` with optional milliseconds.
    case utcTimeOnly
    /// UTCDATE, UTCDATEONLY, LOCALMKTDATE: `YYYYMMDD`.
    case date
    /// MULTIPLEVALUESTRING, MULTIPLECHARVALUE: space-separated values, each checked against the enum.
    case multipleValues
    /// DATA: raw bytes whose length the preceding LENGTH field gives; may contain SOH.
    case data
    /// Every other type (STRING, CURRENCY, EXCHANGE, MONTHYEAR, ...): no format check.
    case text

    /// The type for a dictionary's type name.
    public init(dictionaryName: String) {
        switch dictionaryName {
        case "INT", "LENGTH", "SEQNUM", "NUMINGROUP", "DAYOFMONTH": self = .integer
        case "FLOAT", "PRICE", "QTY", "QUANTITY", "AMT", "PRICEOFFSET", "PERCENTAGE": self = .decimal
        case "CHAR": self = .character
        case "BOOLEAN": self = .boolean
        case "UTCTIMESTAMP", "TIME": self = .utcTimestamp
        case "UTCTIMEONLY": self = .utcTimeOnly
        case "UTCDATE", "UTCDATEONLY", "LOCALMKTDATE", "DATE": self = .date
        case "MULTIPLEVALUESTRING", "MULTIPLECHARVALUE", "MULTIPLESTRINGVALUE": self = .multipleValues
        case "DATA", "XMLDATA": self = .data
        default: self = .text
        }
    }
}
