@testable import GatewayCore
import Testing

@Suite struct SymbolTests {
    @Test(arguments: ["AAPL", "brk.b", "BRK/B", "BF-B", "X"])
    func acceptsEquityTickersUpperCased(raw: String) throws {
        let symbol = try #require(Symbol(raw))
        #expect(symbol.text == raw.uppercased())
        #expect(!symbol.isOption)
        #expect(symbol.multiplier == 1)
    }

    /// The byte-wise trimming and upper-casing give what the character-wise ones gave, spaces, mixed case,
    /// combining marks and all.
    @Test(arguments: [
        "aapl", " msft ", "  Brk.b", "bf-b  ", "zz9z", " \u{301}AAPL", "AAPL \u{301}", "AAPL\u{301}", " ", "",
        "ÄAPL", "a\u{0}b", "spy   250321p00480500", " SPY250321P00480500 ",
    ])
    func readsWhatTheCharacterWiseRulesRead(raw: String) {
        var slice = Substring(raw)
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        let trimmed = String(slice)
        #expect(raw.trimmingSpaces() == trimmed)
        if let symbol = Symbol(raw), !symbol.isOption {
            #expect(symbol.text == trimmed.uppercased())
        }
    }

    @Test(arguments: ["", "1AAPL", "AAPL$", "TOOLONGTICKER1", "A B"])
    func refusesBadTickers(raw: String) {
        #expect(Symbol(raw) == nil)
    }

    @Test func parsesPaddedAndCompactOCCToOneForm() throws {
        let padded = try #require(Symbol("SPY   250321P00480500"))
        let compact = try #require(Symbol("SPY250321P00480500"))
        #expect(padded == compact)
        #expect(padded.text == "SPY   250321P00480500")
        guard case .option(let contract) = padded.kind else {
            Issue.record("not an option")
            return
        }
        #expect(contract.root == "SPY")
        #expect(contract.expiration == CalendarDate(year: 2025, month: 3, day: 21))
        #expect(contract.right == .put)
        #expect(contract.strike.description == "480.5")
        #expect(contract.compactSymbol == "SPY250321P00480500")
        #expect(padded.multiplier == 100)
    }

    @Test(arguments: [
        "AAPL  250230C00150000",  // 30 February
        "AAPL  251301C00150000",  // month 13
        "AAPL  250117X00150000",  // neither C nor P
        "AAPL  250117C00000000",  // zero strike
        "AAPL 250117C00150000",  // padding that is not six wide
        "AAPL  2501A7C00150000",
    ])
    func refusesMalformedOptionSymbols(raw: String) {
        #expect(Symbol(raw) == nil)
    }

    @Test func leapDayIsAValidExpiry() {
        #expect(Symbol("SPXW  280229C06000000") != nil)
        #expect(Symbol("SPXW  270229C06000000") == nil)
    }
}

@Suite struct TimestampTests {
    @Test func printsRFC3339WithNanoseconds() {
        let ts = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_123_456_789)
        #expect(ts.description == "2026-11-18T11:06:40.123456789Z")
        #expect(Timestamp(rfc3339: ts.description) == ts)
    }

    /// The fast formatter writes what the piecewise one did, for instants from the 1930s to the 2120s,
    /// before 1970 too, and what it writes reads back.
    @Test func theFastFormatterMatchesThePiecewiseOne() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let nanos = Int64(bitPattern: state >> 1) % 6_000_000_000_000_000_000 - 1_000_000_000_000_000_000
            let ts = Timestamp(nanosecondsSinceEpoch: nanos)
            let days = nanos >= 0 ? nanos / 86_400_000_000_000 : (nanos + 1) / 86_400_000_000_000 - 1
            let slow = Timestamp.slowDescription(
                CalendarDate(daysSinceEpoch: days), nanos - days * 86_400_000_000_000)
            #expect(ts.description == slow)
            #expect(Timestamp(rfc3339: ts.description) == ts)
        }
        #expect(Timestamp(nanosecondsSinceEpoch: 0).description == "1970-01-01T00:00:00.000000000Z")
        #expect(Timestamp(nanosecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999999999Z")
    }

    @Test func parsesOffsetsAndBareDates() {
        #expect(Timestamp(rfc3339: "2026-11-25T10:00:00+01:00") == Timestamp(rfc3339: "2026-11-25T09:00:00Z"))
        #expect(Timestamp(rfc3339: "2026-11-25")?.description == "2026-11-25T00:00:00.000000000Z")
        #expect(
            Timestamp(rfc3339: "2026-11-25T10:00:00.5Z")?.nanosecondsSinceEpoch == Timestamp(
                rfc3339: "2026-11-25T10:00:00Z")!.nanosecondsSinceEpoch + 500_000_000)
    }

    @Test(arguments: [
        "2026-13-01", "2026-11-25T25:00:00Z", "2026-11-25T10:00:00", "yesterday", "2026-11-25T10:00:00.Z",
    ])
    func refusesMalformedTimes(raw: String) {
        #expect(Timestamp(rfc3339: raw) == nil)
    }

    /// Years past what nanoseconds in an Int64 reach are refused as any malformed time is, not trapped on
    /// (a request's or a file's date could otherwise stop the daemon); the ends of the range print and
    /// read back.
    @Test(arguments: [
        "9999-12-31", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2262-04-11T23:47:16.854775808Z",
        "1677-09-21T00:12:43.145224191Z", "2262-04-11T23:47:16.854775807-00:01",
    ])
    func refusesTimesBeyondTheRange(raw: String) {
        #expect(Timestamp(rfc3339: raw) == nil)
    }

    @Test func theEndsOfTheRangeRoundTrip() {
        for nanos in [Int64.max, Int64.min] {
            let ts = Timestamp(nanosecondsSinceEpoch: nanos)
            #expect(Timestamp(rfc3339: ts.description) == ts)
        }
        #expect(Timestamp(nanosecondsSinceEpoch: .max).description == "2262-04-11T23:47:16.854775807Z")
        #expect(Timestamp(nanosecondsSinceEpoch: .min).description == "1677-09-21T00:12:43.145224192Z")
    }

    @Test func datesBeforeTheEpochRoundTrip() {
        let ts = Timestamp(rfc3339: "1969-12-31T23:59:59.5Z")!
        #expect(ts.nanosecondsSinceEpoch == -500_000_000)
        #expect(ts.description == "1969-12-31T23:59:59.500000000Z")
    }
}

@Suite struct TradingSessionTests {
    /// New York in winter: UTC−5, the day starting at 09:30.
    let newYork = TradingSession(name: "New York", startMinutes: 570) { _ in -5 * 3600 }

    @Test func anInstantBeforeTheSessionStartCountsToThePreviousDay() {
        #expect(
            newYork.sessionDate(of: Timestamp(rfc3339: "2026-11-25T14:29:59Z")!)
                == CalendarDate(year: 2026, month: 11, day: 24))
        #expect(
            newYork.sessionDate(of: Timestamp(rfc3339: "2026-11-25T14:30:00Z")!)
                == CalendarDate(year: 2026, month: 11, day: 25))
        #expect(
            newYork.sessionDate(of: Timestamp(rfc3339: "2026-11-26T03:00:00Z")!)
                == CalendarDate(year: 2026, month: 11, day: 25))
    }

    @Test func utcMidnightIsTheUTCDate() {
        let ts = Timestamp(rfc3339: "2026-11-25T00:00:00Z")!
        #expect(TradingSession.utcMidnight.sessionDate(of: ts) == ts.date)
    }

    @Test func dayPnLCountsOnlyTheSessionsRealizedProfit() {
        let account = AccountID("paper")!
        var book = AccountBook(account: account, openingCash: Money(10_000))
        func fill(_ side: OrderSide, _ price: String, at: String) -> Fill {
            Fill(
                fillID: FillID("f\(at)")!, orderID: OrderID("o")!, clientOrderID: ClientOrderID("c")!, account: account,
                symbol: Symbol("AAPL")!, side: side, qty: Quantity(10), price: Price(price)!,
                ts: Timestamp(rfc3339: at)!)
        }
        let yesterday = fill(.buy, "100", at: "2026-11-25T20:00:00Z")
        book.apply(yesterday, sessionDate: newYork.sessionDate(of: yesterday.ts))
        let closeEarly = fill(.sell, "101", at: "2026-11-26T14:00:00Z")  // 09:00 New York: still the 25th's session
        book.apply(closeEarly, sessionDate: newYork.sessionDate(of: closeEarly.ts))
        let today = CalendarDate(year: 2026, month: 11, day: 25)!
        #expect(book.snapshot(marks: [:], tradingState: "active", broker: "paper", today: today).dayPnL == Money(10))
        let tomorrow = CalendarDate(year: 2026, month: 11, day: 26)!
        #expect(book.snapshot(marks: [:], tradingState: "active", broker: "paper", today: tomorrow).dayPnL == .zero)
    }
}
