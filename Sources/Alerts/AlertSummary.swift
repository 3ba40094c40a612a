/// What a summary message stands for: alerts that did not get a message of their own because the
/// destination's messages-per-minute were spent, and alerts dropped while it could not be reached.
public struct AlertSummary: Sendable, Hashable {
    public var count = 0
    public var counts: [AlertCategory: Int] = [:]
    public var symbols: [String: Int] = [:]
    /// Alerts dropped (queue full or refused) since the last summary was delivered.
    public var dropped = 0

    public init() {}

    mutating func add(_ alert: Alert) {
        count += 1
        counts[alert.category, default: 0] += 1
        if let symbol = alert.symbol { symbols[symbol, default: 0] += 1 }
    }

    /// "+981 more alerts: 975 fills, 6 rejections · AAPL ×900, MSFT ×75, +4 symbols · 12 dropped while …"
    public var text: String {
        var parts: [String] = []
        if count > 0 {
            let byCategory = AlertCategory.allCases.compactMap { category in
                counts[category].map { category.counted($0) }
            }
            parts.append("+\(count) more \(count == 1 ? "alert" : "alerts"): " + byCategory.joined(separator: ", "))
        }
        if !symbols.isEmpty {
            let top = symbols.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            var named = top.prefix(3).map { "\($0.key) ×\($0.value)" }
            if top.count > 3 { named.append("+\(top.count - 3) symbols") }
            parts.append(named.joined(separator: ", "))
        }
        if dropped > 0 {
            parts.append(
                "\(dropped) \(dropped == 1 ? "alert" : "alerts") dropped while this destination was unreachable")
        }
        return "SUMMARY " + parts.joined(separator: " · ")
    }
}
