/// When an account's trading day begins, so that daily figures (day PnL, daily loss, orders per day)
/// reset at the session start in the exchange's time zone rather than at UTC midnight.
public struct TradingSession: Sendable {
    /// Minutes after local midnight at which the session day begins (09:30 → 570).
    public let startMinutes: Int
    /// The time zone's offset from UTC, in seconds, at an instant (daylight saving included).
    public let utcOffset: @Sendable (Timestamp) -> Int64
    public let name: String

    public init(name: String, startMinutes: Int, utcOffset: @escaping @Sendable (Timestamp) -> Int64) {
        self.name = name
        self.startMinutes = startMinutes
        self.utcOffset = utcOffset
    }

    /// Days that start at UTC midnight.
    public static var utcMidnight: TradingSession { TradingSession(name: "UTC 00:00", startMinutes: 0) { _ in 0 } }

    /// The session day an instant belongs to: before the start time it still counts to the day before.
    public func sessionDate(of ts: Timestamp) -> CalendarDate {
        let local = ts.nanosecondsSinceEpoch + (utcOffset(ts) - Int64(startMinutes) * 60) * 1_000_000_000
        return Timestamp(nanosecondsSinceEpoch: local).date
    }
}

/// The session date of the last minute asked about: the date cannot change within one UTC minute (time
/// zone offsets and session starts fall on whole minutes), so a check reads it without a time zone lookup.
public struct SessionDayCache: Sendable {
    private var minute = Int64.min
    private var date = CalendarDate(daysSinceEpoch: 0)

    public init() {}

    /// `session` is read only when the minute changes (an account's calendar is a dictionary look-up).
    public mutating func date(of ts: Timestamp, in session: @autoclosure () -> TradingSession) -> CalendarDate {
        let now = ts.nanosecondsSinceEpoch / 60_000_000_000
        if now != minute {
            minute = now
            date = session().sessionDate(of: ts)
        }
        return date
    }
}
