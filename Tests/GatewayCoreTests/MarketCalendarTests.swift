import Foundation
import GatewayCore
import Testing

@Suite struct MarketCalendarTests {
    static let newYork = MarketCalendar(name: "America/New_York") { ts in
        Int64(
            TimeZone(identifier: "America/New_York")!.secondsFromGMT(
                for: Date(timeIntervalSince1970: TimeInterval(ts.nanosecondsSinceEpoch / 1_000_000_000))))
    }

    func at(_ text: String) -> Timestamp { Timestamp(rfc3339: text)! }
    func date(_ text: String) -> CalendarDate { CalendarDate(iso: text)! }

    @Test func theNYSEHolidaysByTheirRules() {
        #expect(
            USMarketHolidays.closures(in: 2026).sorted().map(\.description) == [
                "2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19", "2026-07-03",
                "2026-09-07", "2026-11-26", "2026-12-25",
            ])
        #expect(
            USMarketHolidays.closures(in: 2027).sorted().map(\.description) == [
                "2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05",
                "2027-09-06", "2027-11-25", "2027-12-24",
            ])
        // New Year's Day 2028 is a Saturday: the exchange does not close on the Friday before.
        #expect(!USMarketHolidays.closures(in: 2028).contains(date("2027-12-31")))
        #expect(USMarketHolidays.earlyClose(date("2026-11-27")) == 780)
        #expect(USMarketHolidays.earlyClose(date("2026-12-24")) == 780)
        #expect(USMarketHolidays.earlyClose(date("2025-07-03")) == 780)
        #expect(USMarketHolidays.earlyClose(date("2026-07-02")) == nil)
        #expect(USMarketHolidays.earlyClose(date("2026-12-23")) == nil)
        #expect(date("2026-12-03").weekday == 4)
    }

    @Test func phasesOfTheDayInWinterAndSummerTime() {
        let calendar = Self.newYork
        #expect(calendar.phase(at: at("2026-12-02T08:59:00Z")) == .closed)  // 03:59 EST
        #expect(calendar.phase(at: at("2026-12-02T09:00:00Z")) == .preMarket)
        #expect(calendar.phase(at: at("2026-12-02T14:29:59Z")) == .preMarket)
        #expect(calendar.phase(at: at("2026-12-02T14:30:00Z")) == .regular)  // 09:30 EST
        #expect(calendar.phase(at: at("2026-12-02T20:59:59Z")) == .regular)
        #expect(calendar.phase(at: at("2026-12-02T21:00:00Z")) == .afterHours)  // 16:00 EST
        #expect(calendar.phase(at: at("2026-12-03T01:00:00Z")) == .closed)  // 20:00 EST
        #expect(calendar.phase(at: at("2026-07-06T13:30:00Z")) == .regular)  // 09:30 EDT
        #expect(calendar.phase(at: at("2026-12-05T15:00:00Z")) == .closed)  // a Saturday
        #expect(calendar.phase(at: at("2026-12-25T15:00:00Z")) == .closed)  // Christmas
        #expect(calendar.phase(at: at("2026-12-24T18:00:00Z")) == .afterHours)  // 13:00 EST, an early close
    }

    @Test func aDayOrderExpiresAtTheCloseOfTheSessionItWorksIn() {
        let calendar = Self.newYork
        // Placed during the session: today's close.
        #expect(
            calendar.dayOrderExpiry(placedAt: at("2026-12-02T15:00:00Z"), extended: false) == at("2026-12-02T21:00:00Z")
        )
        // After the close: the next session's close; on a Friday evening, Monday's.
        #expect(
            calendar.dayOrderExpiry(placedAt: at("2026-12-02T22:00:00Z"), extended: false) == at("2026-12-03T21:00:00Z")
        )
        #expect(
            calendar.dayOrderExpiry(placedAt: at("2026-12-04T21:30:00Z"), extended: false) == at("2026-12-07T21:00:00Z")
        )
        // With extended hours it lasts until 20:00; on Christmas Eve the session ends at 13:00.
        #expect(
            calendar.dayOrderExpiry(placedAt: at("2026-12-02T22:00:00Z"), extended: true) == at("2026-12-03T01:00:00Z"))
        #expect(
            calendar.dayOrderExpiry(placedAt: at("2026-12-24T15:00:00Z"), extended: false) == at("2026-12-24T18:00:00Z")
        )
        #expect(calendar.nextOpen(after: at("2026-12-24T19:00:00Z")) == at("2026-12-28T14:30:00Z"))
    }
}
