import Foundation
import GatewayCore
import Yams

extension ConfigReader {
    /// `accounts[].session`: the time zone and local start of the trading day (default America/New_York
    /// 09:30, the US equity session); daily figures and counters reset then.
    mutating func session(_ node: Node?, at path: String) -> TradingSession {
        var zoneName = "America/New_York"
        var start = "09:30"
        if let node, let map = mapping(node, at: path, keys: ["time_zone", "start"]) {
            zoneName = string(map["time_zone"], at: "\(path).time_zone") ?? zoneName
            start = string(map["start"], at: "\(path).start") ?? start
        }
        let minutes = timeOfDay(start, at: "\(path).start") ?? 570
        guard let offset = zoneOffset(zoneName, at: "\(path).time_zone") else { return .utcMidnight }
        return TradingSession(name: "\(zoneName) \(start)", startMinutes: minutes, utcOffset: offset)
    }

    /// `HH:MM` as minutes after midnight.
    mutating func timeOfDay(_ text: String, at path: String) -> Int? {
        let parts = text.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
            problems.append("\(path): '\(text)' is not a time of day such as 09:30")
            return nil
        }
        return parts[0] * 60 + parts[1]
    }

    /// A named time zone's offset from UTC at an instant (daylight saving included).
    mutating func zoneOffset(_ name: String, at path: String) -> (@Sendable (Timestamp) -> Int64)? {
        guard let zone = TimeZone(identifier: name) else {
            problems.append("\(path): '\(name)' is not a time zone name such as America/New_York")
            return nil
        }
        return { ts in
            Int64(
                zone.secondsFromGMT(
                    for: Date(timeIntervalSince1970: TimeInterval(ts.nanosecondsSinceEpoch / 1_000_000_000))))
        }
    }
}
