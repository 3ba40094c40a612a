/// When a market trades: a regular session between two local times of day, optional extended hours around
/// it, weekends and holidays closed, and early closes. The default is the US equity market: 09:30–16:00
/// America/New_York, pre-market from 04:00 and after-hours until 20:00, closed on weekends and on the
/// NYSE holidays (computed by their rules, so the calendar does not run out), closing at 13:00 on the
/// days before Independence Day and after Thanksgiving and on Christmas Eve.
public struct MarketCalendar: Sendable {
    /// Where in its day the market is at an instant.
    public enum Phase: Sendable, Hashable {
        case closed, preMarket, regular, afterHours
    }

    public let name: String
    /// The time zone's offset from UTC, in seconds, at an instant (daylight saving included).
    public let utcOffset: @Sendable (Timestamp) -> Int64
    /// Minutes after local midnight.
    public let open: Int
    public let close: Int
    public let extendedOpen: Int
    public let extendedClose: Int
    /// Closed days on top of weekends (by their local date).
    public let holidays: @Sendable (CalendarDate) -> Bool
    /// The regular close on a day that closes early, in minutes after local midnight.
    public let earlyClose: @Sendable (CalendarDate) -> Int?

    public init(
        name: String, utcOffset: @escaping @Sendable (Timestamp) -> Int64, open: Int = 570, close: Int = 960,
        extendedOpen: Int = 240, extendedClose: Int = 1200,
        holidays: @escaping @Sendable (CalendarDate) -> Bool = USMarketHolidays.isClosed,
        earlyClose: @escaping @Sendable (CalendarDate) -> Int? = USMarketHolidays.earlyClose
    ) {
        self.name = name
        self.utcOffset = utcOffset
        self.open = open
        self.close = close
        self.extendedOpen = min(extendedOpen, open)
        self.extendedClose = max(extendedClose, close)
        self.holidays = holidays
        self.earlyClose = earlyClose
    }

    static let nanosPerMinute: Int64 = 60_000_000_000

    /// The local date and minute of the day of an instant.
    public func local(_ ts: Timestamp) -> (date: CalendarDate, minute: Int) {
        let local = ts.nanosecondsSinceEpoch + utcOffset(ts) * 1_000_000_000
        let days = local >= 0 ? local / Timestamp.nanosPerDay : (local + 1) / Timestamp.nanosPerDay - 1
        let minute = Int((local - days * Timestamp.nanosPerDay) / Self.nanosPerMinute)
        return (CalendarDate(daysSinceEpoch: days), minute)
    }

    /// The instant of a local time of day (minutes after midnight) on a date.
    public func instant(_ date: CalendarDate, minute: Int) -> Timestamp {
        let local = date.daysSinceEpoch * Timestamp.nanosPerDay + Int64(minute) * Self.nanosPerMinute
        // The offset at the instant itself: guess with the offset at the local time read as UTC, then
        // correct once (exact except within a daylight-saving change, which no market hour falls in).
        var guess = local - utcOffset(Timestamp(nanosecondsSinceEpoch: local)) * 1_000_000_000
        guess = local - utcOffset(Timestamp(nanosecondsSinceEpoch: guess)) * 1_000_000_000
        return Timestamp(nanosecondsSinceEpoch: guess)
    }

    public func isTradingDay(_ date: CalendarDate) -> Bool {
        let weekday = date.weekday
        return weekday != 0 && weekday != 6 && !holidays(date)
    }

    /// The regular session's close on a trading day, in minutes after local midnight.
    public func closeMinute(_ date: CalendarDate) -> Int { earlyClose(date) ?? close }

    /// The after-hours session's end on a trading day (on an early-close day, four hours after the close).
    public func extendedCloseMinute(_ date: CalendarDate) -> Int {
        earlyClose(date).map { min(extendedClose, $0 + 240) } ?? extendedClose
    }

    public func phase(at ts: Timestamp) -> Phase {
        let (date, minute) = local(ts)
        guard isTradingDay(date) else { return .closed }
        if minute < extendedOpen { return .closed }
        if minute < open { return .preMarket }
        if minute < closeMinute(date) { return .regular }
        if minute < extendedCloseMinute(date) { return .afterHours }
        return .closed
    }

    /// The first trading day on or after `date`.
    public func tradingDay(onOrAfter date: CalendarDate) -> CalendarDate {
        var day = date
        // Never more than a few days; the bound keeps a calendar that closes every day from looping.
        for _ in 0..<30 where !isTradingDay(day) { day = day.adding(days: 1) }
        return day
    }

    /// The trading day an order placed at `ts` works on: today's until its session ends (the regular close,
    /// or the end of after-hours with `extended`), else the next trading day's.
    public func session(for ts: Timestamp, extended: Bool) -> CalendarDate {
        let (date, minute) = local(ts)
        if isTradingDay(date), minute < (extended ? extendedCloseMinute(date) : closeMinute(date)) { return date }
        return tradingDay(onOrAfter: date.adding(days: 1))
    }

    /// When a day order placed at `ts` expires: the end of the session it works on.
    public func dayOrderExpiry(placedAt ts: Timestamp, extended: Bool) -> Timestamp {
        let day = session(for: ts, extended: extended)
        return instant(day, minute: extended ? extendedCloseMinute(day) : closeMinute(day))
    }

    /// The regular open of the next session that has not opened yet at `ts`.
    public func nextOpen(after ts: Timestamp) -> Timestamp {
        let (date, minute) = local(ts)
        let day = isTradingDay(date) && minute < open ? date : tradingDay(onOrAfter: date.adding(days: 1))
        return instant(day, minute: open)
    }

    /// The regular close of the session that is open or next to open at `ts`.
    public func nextClose(after ts: Timestamp) -> Timestamp {
        let day = session(for: ts, extended: false)
        return instant(day, minute: closeMinute(day))
    }

    /// `HH:MM–HH:MM <zone>`, for messages.
    public var hours: String { "\(Self.clock(open))–\(Self.clock(close)) \(name)" }

    public static func clock(_ minute: Int) -> String {
        let hours = String(minute / 60)
        let minutes = String(minute % 60)
        return (hours.count < 2 ? "0" + hours : hours) + ":" + (minutes.count < 2 ? "0" + minutes : minutes)
    }
}

/// The NYSE's full closures and early closes, by the exchange's rules: a holiday on a Saturday is observed
/// the Friday before (except New Year's Day, which then closes nothing), one on a Sunday the Monday after.
public enum USMarketHolidays {
    public static func isClosed(_ date: CalendarDate) -> Bool { closures(in: date.year).contains(date) }

    /// 13:00 on the day before Independence Day (Monday to Thursday), the day after Thanksgiving, and
    /// Christmas Eve (Monday to Thursday).
    public static func earlyClose(_ date: CalendarDate) -> Int? {
        let weekday = date.weekday
        switch (date.month, date.day) {
        case (7, 3), (12, 24): return (1...4).contains(weekday) ? 780 : nil
        case (11, _): return date == nth(4, weekday: 4, month: 11, year: date.year).adding(days: 1) ? 780 : nil
        default: return nil
        }
    }

    public static func closures(in year: Int) -> Set<CalendarDate> {
        func date(_ month: Int, _ day: Int) -> CalendarDate { CalendarDate(year: year, month: month, day: day)! }
        var days: Set<CalendarDate> = [
            nth(3, weekday: 1, month: 1, year: year),  // Martin Luther King Jr. Day
            nth(3, weekday: 1, month: 2, year: year),  // Washington's Birthday
            easter(year).adding(days: -2),  // Good Friday
            lastMonday(ofMay: year),  // Memorial Day
            nth(1, weekday: 1, month: 9, year: year),  // Labor Day
            nth(4, weekday: 4, month: 11, year: year),  // Thanksgiving
        ]
        let newYear = date(1, 1)
        if newYear.weekday != 6 { days.insert(observed(newYear)) }
        if year >= 2022 { days.insert(observed(date(6, 19))) }  // Juneteenth
        days.insert(observed(date(7, 4)))
        days.insert(observed(date(12, 25)))
        return days
    }

    static func observed(_ date: CalendarDate) -> CalendarDate {
        switch date.weekday {
        case 6: date.adding(days: -1)
        case 0: date.adding(days: 1)
        default: date
        }
    }

    /// The `n`th given weekday (0 Sunday … 6 Saturday) of a month.
    static func nth(_ n: Int, weekday: Int, month: Int, year: Int) -> CalendarDate {
        let first = CalendarDate(year: year, month: month, day: 1)!
        return first.adding(days: (weekday - first.weekday + 7) % 7 + 7 * (n - 1))
    }

    static func lastMonday(ofMay year: Int) -> CalendarDate {
        let last = CalendarDate(year: year, month: 5, day: 31)!
        return last.adding(days: -((last.weekday - 1 + 7) % 7))
    }

    /// Easter Sunday (the anonymous Gregorian computus).
    static func easter(_ year: Int) -> CalendarDate {
        let a = year % 19
        let b = year / 100
        let c = year % 100
        let d = b / 4
        let e = b % 4
        let f = (b + 8) / 25
        let g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4
        let k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return CalendarDate(year: year, month: month, day: day)!
    }
}

extension CalendarDate {
    /// 0 Sunday … 6 Saturday.
    public var weekday: Int { Int(((daysSinceEpoch % 7) + 11) % 7) }

    public func adding(days: Int) -> CalendarDate { CalendarDate(daysSinceEpoch: daysSinceEpoch + Int64(days)) }
}
