public import GatewayCore

/// Recorded prices played to the paper broker: a CSV of quotes (time, bid, ask, last, sizes) or of OHLCV
/// bars (date/time, open, high, low, close, volume — the format screeners export), read whole at start
/// and played in time order at a chosen speed.
///
/// A bar becomes four quotes spread evenly over it, each with bid, ask and last at one price: the open,
/// then the low and the high — the low first on a bar that closed up, the high first on one that closed
/// down, the path that fills fewest resting orders at the better price — then the close. The first
/// carries the bar's volume (which a participation rate divides). So a resting limit fills only when the
/// bar trades through it (a buy below its limit, a sell above) and at the touch only by its queue chance;
/// a stop fills at the price the bar reached, gaps included.
///
/// Written by hand: the CSV needed is a header and plain comma-separated numbers, which a few lines read;
/// no maintained Swift CSV library is among the project's dependencies.
public struct PaperReplay: Sendable {
    public struct Settings: Sendable, Hashable {
        public var file: String
        /// Recorded time per real time: 1 plays at the pace recorded, 60 a minute per second, 0 as fast as
        /// the gateway takes the quotes.
        public var speed: Price
        /// The symbol of a file without a `symbol` column (else the file's name, `AAPL.csv` → AAPL).
        public var symbol: Symbol?

        public init(file: String, speed: Price = Price(1), symbol: Symbol? = nil) {
            self.file = file
            self.speed = speed
            self.symbol = symbol
        }
    }

    /// A file the replay cannot read, naming the line and the problem.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The quotes to play, in time order (stable for equal times); their `ts` is the recorded time.
    public let quotes: [Quote]

    /// Reads a replay file's text. Times without an offset are local to `calendar` (UTC without one); a
    /// date alone is a daily bar spread over 09:30–16:00 local time.
    public init(text: String, fileName: String, symbol: Symbol?, calendar: MarketCalendar?) throws(Problem) {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { String($0) }
        while lines.last?.trimmingSpaces.isEmpty == true { lines.removeLast() }
        guard let headerLine = lines.first else { throw Problem(description: "\(fileName): the file is empty") }
        let header = Self.fields(headerLine).map { $0.lowercased() }
        func column(_ names: String...) -> Int? { names.lazy.compactMap { header.firstIndex(of: $0) }.first }
        let dateColumn = column("date", "day")
        let timeColumn = column("time", "timestamp", "datetime", "date_time")
        guard dateColumn != nil || timeColumn != nil else {
            throw Problem(description: "\(fileName): line 1: no date or time column (header: \(headerLine))")
        }
        let symbolColumn = column("symbol", "ticker")
        let fixedSymbol = symbol ?? Self.symbol(fromFileName: fileName)
        if symbolColumn == nil, fixedSymbol == nil {
            throw Problem(
                description: "\(fileName): no symbol column, and the file's name is not a symbol: set replay.symbol")
        }
        let bars = column("open") != nil && column("high") != nil && column("low") != nil && column("close") != nil
        let bid = column("bid")
        let ask = column("ask")
        let last = column("last", "price")
        if !bars && bid == nil && ask == nil && last == nil {
            throw Problem(
                description:
                    "\(fileName): line 1: neither bars (open, high, low, close) nor quotes (bid, ask, last) in the header"
            )
        }
        let clock = LocalTime(calendar: calendar)
        var rows: [(ts: Timestamp, span: Int64?, symbol: Symbol, fields: [String], line: Int)] = []
        for (index, line) in lines.enumerated().dropFirst() where !line.trimmingSpaces.isEmpty {
            let number = index + 1
            let fields = Self.fields(line)
            func text(_ column: Int?) -> String? {
                guard let column, column < fields.count, !fields[column].isEmpty else { return nil }
                return fields[column]
            }
            let when = [text(dateColumn), text(timeColumn)].compactMap { $0 }
            guard let (ts, span) = clock.parse(when.joined(separator: " ")) else {
                throw Problem(
                    description: "\(fileName): line \(number): '\(when.joined(separator: " "))' is not a date or time")
            }
            let rowSymbol: Symbol
            if let symbolColumn {
                guard let parsed = text(symbolColumn).flatMap(Symbol.init) else {
                    throw Problem(description: "\(fileName): line \(number): no valid symbol")
                }
                rowSymbol = parsed
            } else {
                rowSymbol = fixedSymbol!
            }
            rows.append((ts, span, rowSymbol, fields, number))
        }
        // Bars without a length of their own (intraday) last until the next bar of their symbol; the last
        // one as long as the one before it (a minute when it is the only one).
        var spans = [Int64?](repeating: nil, count: rows.count)
        var nextStart: [Symbol: Timestamp] = [:]
        for (index, row) in rows.enumerated().reversed() {
            spans[index] =
                row.span ?? nextStart[row.symbol].map { $0.nanosecondsSinceEpoch - row.ts.nanosecondsSinceEpoch }
            nextStart[row.symbol] = row.ts
        }
        var previousSpan: [Symbol: Int64] = [:]
        for (index, row) in rows.enumerated() {
            let span = spans[index] ?? previousSpan[row.symbol] ?? 60_000_000_000
            spans[index] = span
            previousSpan[row.symbol] = span
        }
        var quotes: [Quote] = []
        var made: [[Quote]] = Array(repeating: [], count: rows.count)
        for (index, row) in rows.enumerated() {
            let fields = row.fields
            func price(_ column: Int?, _ name: String) throws(Problem) -> Price? {
                guard let column, column < fields.count, !fields[column].isEmpty else { return nil }
                guard let value = Price(fields[column]), value.isPositive else {
                    throw Problem(
                        description: "\(fileName): line \(row.line): \(name) '\(fields[column])' is not a price above 0"
                    )
                }
                return value
            }
            func size(_ column: Int?, _ name: String) throws(Problem) -> Quantity? {
                guard let column, column < fields.count, !fields[column].isEmpty else { return nil }
                guard let value = Quantity(fields[column]), !value.isNegative else {
                    throw Problem(
                        description: "\(fileName): line \(row.line): \(name) '\(fields[column])' is not a quantity")
                }
                return value
            }
            if bars {
                guard let open = try price(column("open"), "open"), let high = try price(column("high"), "high"),
                    let low = try price(column("low"), "low"), let close = try price(column("close"), "close")
                else { throw Problem(description: "\(fileName): line \(row.line): a bar needs open, high, low, close") }
                guard low <= min(open, close), high >= max(open, close) else {
                    throw Problem(
                        description: "\(fileName): line \(row.line): the high and low do not contain the open and close"
                    )
                }
                let span = spans[index] ?? 60_000_000_000
                let path = close >= open ? [open, low, high, close] : [open, high, low, close]
                let volume = try size(column("volume", "vol"), "volume")
                made[index] = path.enumerated().map { step, price in
                    Quote(
                        symbol: row.symbol, bid: price, ask: price, last: price,
                        ts: Timestamp(nanosecondsSinceEpoch: row.ts.nanosecondsSinceEpoch + span / 4 * Int64(step)),
                        volume: step == 0 ? volume : nil)
                }
            } else {
                let quote = Quote(
                    symbol: row.symbol, bid: try price(bid, "bid"), ask: try price(ask, "ask"),
                    last: try price(last, "last"), ts: row.ts, bidSize: try size(column("bid_size"), "bid_size"),
                    askSize: try size(column("ask_size"), "ask_size"), volume: try size(column("volume"), "volume"))
                guard quote.bid != nil || quote.ask != nil || quote.last != nil else {
                    throw Problem(description: "\(fileName): line \(row.line): no bid, ask or last")
                }
                if let b = quote.bid, let a = quote.ask, b > a {
                    throw Problem(description: "\(fileName): line \(row.line): bid \(b) is above ask \(a)")
                }
                made[index] = [quote]
            }
        }
        for batch in made { quotes.append(contentsOf: batch) }
        // Stable: equal times keep the file's order.
        self.quotes = quotes.enumerated().sorted { ($0.element.ts, $0.offset) < ($1.element.ts, $1.offset) }.map(
            \.element)
    }

    /// Plays the quotes: waits the recorded time between one and the next divided by `speed` (not at all
    /// at speed 0), then hands each to `deliver`. Ends early when `sleep` throws (the task was canceled).
    public func play(
        speed: Price, sleep: (Duration) async throws -> Void, deliver: (Quote) async -> Void
    ) async {
        var previous: Timestamp?
        for quote in quotes {
            if let previous, speed.isPositive {
                let recorded = Int128(quote.ts.nanosecondsSinceEpoch - previous.nanosecondsSinceEpoch)
                let wait = recorded * Int128(Price.unitsPerOne) / Int128(speed.units)
                if wait > 0 {
                    do { try await sleep(.nanoseconds(Int64(clamping: wait))) } catch { return }
                }
            }
            previous = quote.ts
            await deliver(quote)
        }
    }

    static func fields(_ line: String) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map {
            var field = $0.trimmingSpaces
            if field.count >= 2, field.hasPrefix("\""), field.hasSuffix("\"") {
                field = String(field.dropFirst().dropLast())
            }
            return field
        }
    }

    /// `AAPL.csv` → AAPL; `data/spy_1m.csv` → nil (not a symbol).
    static func symbol(fromFileName name: String) -> Symbol? {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        let stem = base.split(separator: ".").first.map(String.init) ?? base
        return Symbol(stem.uppercased())
    }

    /// Reads recorded times: RFC 3339 with an offset; `YYYY-MM-DD HH:MM[:SS]` in the calendar's zone; a date
    /// alone as a day's session, 09:30–16:00 local (its span given); epoch seconds.
    struct LocalTime {
        let calendar: MarketCalendar?

        func parse(_ text: String) -> (Timestamp, Int64?)? {
            if let seconds = Int64(text) { return (Timestamp(nanosecondsSinceEpoch: seconds * 1_000_000_000), nil) }
            let parts = text.split(separator: " ").flatMap { $0.split(separator: "T") }.map(String.init)
            guard let date = parts.first.flatMap(CalendarDate.init(iso:)) else { return nil }
            guard parts.count > 1 else {
                let open = local(date, seconds: 570 * 60)
                let close = local(date, seconds: 960 * 60)
                return (open, close.nanosecondsSinceEpoch - open.nanosecondsSinceEpoch)
            }
            let time = parts[1...].joined()
            if time.hasSuffix("Z") || time.dropFirst(5).contains("+") || time.dropFirst(5).contains("-") {
                return Timestamp(rfc3339: date.description + "T" + time).map { ($0, nil) }
            }
            let clock = time.split(separator: ":").map { Int($0) }
            guard (2...3).contains(clock.count), clock.allSatisfy({ $0 != nil }),
                let hour = clock[0], let minute = clock[1], hour < 24, minute < 60
            else { return nil }
            let second = clock.count == 3 ? clock[2]! : 0
            guard second < 60 else { return nil }
            return (local(date, seconds: hour * 3600 + minute * 60 + second), nil)
        }

        func local(_ date: CalendarDate, seconds: Int) -> Timestamp {
            let start =
                calendar?.instant(date, minute: seconds / 60)
                ?? Timestamp(
                    nanosecondsSinceEpoch: date.daysSinceEpoch * 86_400_000_000_000 + Int64(seconds / 60)
                        * 60_000_000_000)
            return Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + Int64(seconds % 60) * 1_000_000_000)
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(
            drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }
                .reversed())
    }
}
