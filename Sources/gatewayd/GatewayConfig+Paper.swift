import BrokerPaper
import GatewayCore
import Yams

extension ConfigReader {
    /// `accounts[].paper`: the simulated broker's ledger, costs, rules, market calendar, latency and
    /// price replay (docs/configuration.md "The paper broker").
    mutating func paper(_ node: Node?, at path: String) -> GatewayConfig.Paper? {
        let keys: Set<String> = [
            "ledger", "crash_in_submit", "commission", "fees", "hard_to_borrow", "fractional", "slippage", "calendar",
            "queue_fill_probability", "participation", "seed", "latency", "replay", "ledger_keep_finished",
            "ledger_rewrite_lines",
        ]
        var map: [String: Node] = [:]
        if let node {
            guard let read = mapping(node, at: path, keys: keys) else { return nil }
            map = read
        }
        let ledger = string(map["ledger"], at: "\(path).ledger")
        var faults = PaperFaults()
        if let crash = string(map["crash_in_submit"], at: "\(path).crash_in_submit") {
            if let point = PaperFaults.CrashPoint(rawValue: crash) {
                faults.crashInSubmit = point
            } else {
                problems.append("\(path).crash_in_submit: '\(crash)' is not before_receive or after_receive")
            }
        }
        let costs = self.costs(commission: map["commission"], fees: map["fees"], at: path)
        var rules = PaperRules(
            hardToBorrow: Set(symbols(map["hard_to_borrow"], at: "\(path).hard_to_borrow") ?? []),
            fractional: flag(map["fractional"], at: "\(path).fractional") ?? false,
            slippage: slippage(map["slippage"], at: "\(path).slippage"),
            queueFillProbability: Price("0.5")!)
        if let chance: Price = decimal(map["queue_fill_probability"], at: "\(path).queue_fill_probability") {
            if chance > Price(1) {
                problems.append("\(path).queue_fill_probability: '\(chance)' is not a chance from 0 to 1")
            }
            rules.queueFillProbability = chance
        }
        if let rate: Price = decimal(map["participation"], at: "\(path).participation") {
            if !rate.isPositive || rate > Price(1) {
                problems.append("\(path).participation: '\(rate)' is not a fraction of volume above 0, at most 1")
            }
            rules.participation = rate
        }
        if let seed = string(map["seed"], at: "\(path).seed") {
            if let value = UInt64(seed) {
                rules.seed = value
            } else {
                problems.append("\(path).seed: '\(seed)' is not a whole number of zero or more")
            }
        }
        rules.latency = latency(map["latency"], at: "\(path).latency")
        var retention = GatewayConfig.Paper.Retention()
        let retentionKeys: [(String, WritableKeyPath<GatewayConfig.Paper.Retention, Int>)] = [
            ("ledger_keep_finished", \.keepFinished), ("ledger_rewrite_lines", \.rewriteLines),
        ]
        for (key, keyPath) in retentionKeys {
            guard let text = string(map[key], at: "\(path).\(key)") else { continue }
            if let value = Int(text), value >= 1 {
                retention[keyPath: keyPath] = value
            } else {
                problems.append("\(path).\(key): '\(text)' is not a whole number of one or more")
            }
        }
        return GatewayConfig.Paper(
            ledger: ledger, faults: faults, costs: costs, rules: rules,
            calendar: calendar(map["calendar"], at: "\(path).calendar"),
            replay: replay(map["replay"], at: "\(path).replay"), retention: retention)
    }

    /// `calendar`: `us_equities` (the default), `always_open`, or a mapping of `time_zone`, `open`, `close`,
    /// `extended_open`, `extended_close` and `holidays` (a list of dates, which then replaces the NYSE's
    /// holidays and early closes).
    mutating func calendar(_ node: Node?, at path: String) -> MarketCalendar? {
        if let node, node.scalar != nil {
            switch string(node, at: path) {
            case "us_equities": break
            case "always_open": return nil
            case let other:
                problems.append("\(path): '\(other ?? "")' is not us_equities, always_open or a mapping")
                return nil
            }
        }
        var map: [String: Node] = [:]
        if let node, node.scalar == nil {
            let keys: Set<String> = ["time_zone", "open", "close", "extended_open", "extended_close", "holidays"]
            guard let read = mapping(node, at: path, keys: keys) else { return nil }
            map = read
        }
        let zone = string(map["time_zone"], at: "\(path).time_zone") ?? "America/New_York"
        func time(_ key: String, _ fallback: Int) -> Int {
            string(map[key], at: "\(path).\(key)").flatMap { timeOfDay($0, at: "\(path).\(key)") } ?? fallback
        }
        let open = time("open", 570)
        let close = time("close", 960)
        let extendedOpen = time("extended_open", 240)
        let extendedClose = time("extended_close", 1200)
        if open >= close { problems.append("\(path): open must come before close") }
        if extendedOpen > open || extendedClose < close {
            problems.append(
                "\(path): extended hours must surround the session (extended_open ≤ open, close ≤ extended_close)")
        }
        guard let offset = zoneOffset(zone, at: "\(path).time_zone") else { return nil }
        guard let listed = list(map["holidays"], at: "\(path).holidays") else {
            return MarketCalendar(
                name: zone, utcOffset: offset, open: open, close: close, extendedOpen: extendedOpen,
                extendedClose: extendedClose)
        }
        var dates: Set<CalendarDate> = []
        for text in listed {
            if let date = CalendarDate(iso: text) {
                dates.insert(date)
            } else {
                problems.append("\(path).holidays: '\(text)' is not a date such as 2026-12-25")
            }
        }
        return MarketCalendar(
            name: zone, utcOffset: offset, open: open, close: close, extendedOpen: extendedOpen,
            extendedClose: extendedClose, holidays: { [dates] in dates.contains($0) }, earlyClose: { _ in nil })
    }

    /// `latency: {ack_ms, report_ms}`: milliseconds from a submit to its acknowledgement, and from a fill,
    /// cancel or expiry to its report.
    mutating func latency(_ node: Node?, at path: String) -> PaperLatency {
        guard let node, let map = mapping(node, at: path, keys: ["ack_ms", "report_ms"]) else { return PaperLatency() }
        let ack: Price = decimal(map["ack_ms"], at: "\(path).ack_ms") ?? .zero
        let report: Price = decimal(map["report_ms"], at: "\(path).report_ms") ?? .zero
        // Milliseconds with up to six decimals are whole nanoseconds.
        func nanos(_ ms: Price) -> Duration { .nanoseconds(ms.units / (Price.unitsPerOne / 1_000_000)) }
        return PaperLatency(acknowledgement: nanos(ack), report: nanos(report))
    }

    /// `replay: FILE` or `replay: {file, speed, symbol}`.
    mutating func replay(_ node: Node?, at path: String) -> PaperReplay.Settings? {
        guard let node else { return nil }
        if node.scalar != nil {
            return string(node, at: path).map { PaperReplay.Settings(file: $0) }
        }
        guard let map = mapping(node, at: path, keys: ["file", "speed", "symbol"]),
            let file = string(map["file"], at: "\(path).file", required: true)
        else { return nil }
        var settings = PaperReplay.Settings(file: file)
        if let speed: Price = decimal(map["speed"], at: "\(path).speed") { settings.speed = speed }
        if let text = string(map["symbol"], at: "\(path).symbol") {
            if let symbol = Symbol(text) {
                settings.symbol = symbol
            } else {
                problems.append("\(path).symbol: '\(text)' is neither a ticker nor an OCC option symbol")
            }
        }
        return settings
    }
}
