import BrokerPaper
import GatewayCore
import Synchronization
import Testing

@Suite struct PaperReplayTests {
    func describe(_ quote: Quote) -> String {
        var text = "\(quote.symbol) \(quote.ts) \(quote.bid.map { "\($0)" } ?? "-")/\(quote.ask.map { "\($0)" } ?? "-")"
        if let last = quote.last { text += " last \(last)" }
        if let volume = quote.volume { text += " vol \(volume)" }
        return text
    }

    @Test func barsBecomeFourQuotesOnTheConservativePath() throws {
        let text = """
            Date,Time,Open,High,Low,Close,Volume
            2026-12-02,09:30,100,102,99,101,12000
            2026-12-02,09:35,101,101.5,98,98.5,8000\r

            """
        let replay = try PaperReplay(text: text, fileName: "data/aapl.csv", symbol: nil, calendar: PaperScript.newYork)
        #expect(
            replay.quotes.map(describe) == [
                // Closed up: the low before the high. 09:30 New York is 14:30Z; five-minute bars.
                "AAPL 2026-12-02T14:30:00.000000000Z 100/100 last 100 vol 12000",
                "AAPL 2026-12-02T14:31:15.000000000Z 99/99 last 99",
                "AAPL 2026-12-02T14:32:30.000000000Z 102/102 last 102",
                "AAPL 2026-12-02T14:33:45.000000000Z 101/101 last 101",
                // Closed down: the high first. The last bar lasts as long as the one before it.
                "AAPL 2026-12-02T14:35:00.000000000Z 101/101 last 101 vol 8000",
                "AAPL 2026-12-02T14:36:15.000000000Z 101.5/101.5 last 101.5",
                "AAPL 2026-12-02T14:37:30.000000000Z 98/98 last 98",
                "AAPL 2026-12-02T14:38:45.000000000Z 98.5/98.5 last 98.5",
            ])
    }

    @Test func aDailyBarSpansTheSessionAndQuotesKeepTheirColumns() throws {
        let daily = try PaperReplay(
            text: "date,open,high,low,close\n2026-12-03,10,11,9,9.5\n", fileName: "x.csv",
            symbol: Symbol("SPY"), calendar: nil)
        // 09:30–16:00 read as UTC without a calendar: 6.5 hours in four steps.
        #expect(daily.quotes.map(\.ts.description).first == "2026-12-03T09:30:00.000000000Z")
        #expect(daily.quotes.map(\.ts.description).last == "2026-12-03T14:22:30.000000000Z")

        let quotes = try PaperReplay(
            text: """
                timestamp,symbol,bid,ask,bid_size,ask_size,last
                2026-12-03T15:00:01Z,MSFT,400,400.1,3,5,
                2026-12-03T15:00:00Z,AAPL,190,190.05,,,190.02
                """, fileName: "quotes.csv", symbol: nil, calendar: nil)
        #expect(
            quotes.quotes.map(describe) == [
                "AAPL 2026-12-03T15:00:00.000000000Z 190/190.05 last 190.02",
                "MSFT 2026-12-03T15:00:01.000000000Z 400/400.1",
            ])
        #expect(quotes.quotes.last?.askSize == Quantity(5))
    }

    @Test func aBadFileIsRefusedNamingTheLineAndTheProblem() {
        func problem(_ text: String, _ name: String = "AAPL.csv") -> String? {
            do {
                _ = try PaperReplay(text: text, fileName: name, symbol: nil, calendar: nil)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(problem("") == "AAPL.csv: the file is empty")
        #expect(
            problem("open,high,low,close\n1,2,0.5,1\n")
                == "AAPL.csv: line 1: no date or time column (header: open,high,low,close)")
        #expect(
            problem("date,volume\n2026-12-03,5\n")
                == "AAPL.csv: line 1: neither bars (open, high, low, close) nor quotes (bid, ask, last) in the header")
        #expect(
            problem("date,open,high,low,close\n2026-12-02,1,2,0.5,1\n2026-12-03,1,2,abc,1\n")
                == "AAPL.csv: line 3: low 'abc' is not a price above 0")
        #expect(
            problem("date,open,high,low,close\n2026-12-03,1,2,0.5,3\n")
                == "AAPL.csv: line 2: the high and low do not contain the open and close")
        #expect(problem("time,last\nyesterday,5\n") == "AAPL.csv: line 2: 'yesterday' is not a date or time")
        #expect(
            problem("time,last\n2026-12-03 10:00,5\n", "data/1m.csv")
                == "data/1m.csv: no symbol column, and the file's name is not a symbol: set replay.symbol")
        #expect(problem("time,bid,ask\n2026-12-03 10:00,5,4\n") == "AAPL.csv: line 2: bid 5 is above ask 4")
    }

    func nanoseconds(_ span: Duration) -> Int64 {
        span.components.seconds * 1_000_000_000 + span.components.attoseconds / 1_000_000_000
    }

    @Test func playingWaitsTheRecordedTimeDividedByTheSpeed() async throws {
        let replay = try PaperReplay(
            text: "time,last\n2026-12-03 10:00:00,1\n2026-12-03 10:01:00,2\n2026-12-03 10:01:30,3\n",
            fileName: "AAPL.csv", symbol: nil, calendar: nil)
        let waits = Mutex<[Int64]>([])
        let delivered = Mutex<[String]>([])
        await replay.play(
            speed: Price(60), sleep: { wait in waits.withLock { $0.append(nanoseconds(wait)) } },
            deliver: { quote in delivered.withLock { $0.append(quote.last!.description) } })
        #expect(waits.withLock { $0 } == [1_000_000_000, 500_000_000])
        #expect(delivered.withLock { $0 } == ["1", "2", "3"])
        waits.withLock { $0 = [] }
        await replay.play(
            speed: .zero, sleep: { wait in waits.withLock { $0.append(nanoseconds(wait)) } }, deliver: { _ in })
        #expect(waits.withLock { $0 }.isEmpty)
    }
}
