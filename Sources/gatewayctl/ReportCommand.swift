import ArgumentParser
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Performance of closed round trips: gatewayctl report --strategy turtle20 --chart equity.svg")
    @Option(name: .long) var account: String?
    @Option(name: .long) var strategy: String?
    @Option(name: .long) var symbol: String?
    @Option(name: .long, help: "RFC 3339 time or YYYY-MM-DD.") var since: String?
    @Option(name: .long, help: "RFC 3339 time or YYYY-MM-DD.") var until: String?
    @Option(name: .long, help: "Write the equity curve and its drawdown as an SVG picture.") var chart: String?
    @OptionGroup var global: GlobalOptions

    static let figureKeys = [
        "trades", "win_rate", "avg_win", "avg_loss", "expectancy", "profit_factor", "sharpe", "sortino",
        "max_drawdown", "max_drawdown_fraction", "net_pnl", "commissions",
    ]

    func run() throws {
        let fields: [String: Any] = [
            "account": account as Any?, "strategy": strategy as Any?, "symbol": symbol as Any?,
            "since": since as Any?, "until": until as Any?,
        ].compactMapValues { $0 }
        let answer = try Session(global).call("report", fields)
        let curve = (answer["equity_curve"] as? [[String: Any]] ?? []).compactMap { point -> (String, String)? in
            guard let date = point["date"] as? String, let equity = point["equity"] as? String else { return nil }
            return (date, equity)
        }
        if let chart {
            let title = "Equity" + [account, strategy, symbol].compactMap { $0 }.map { " · \($0)" }.joined()
            do {
                try EquityChart.svg(curve, title: title).write(toFile: chart, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure(status: ExitStatus.refused, message: "gatewayctl: cannot write \(chart): \(error)")
            }
        }
        if global.json { return Output.printJSON(answer) }
        print(Output.table(["FIGURE", "VALUE"], Self.figureKeys.map { [$0, Output.text(answer[$0])] }))
        for (title, key) in [("STRATEGY", "by_strategy"), ("TAG", "by_tag"), ("SYMBOL", "by_symbol")] {
            let groups = answer[key] as? [String: [String: Any]] ?? [:]
            guard !groups.isEmpty else { continue }
            let rows = groups.keys.sorted().map { name in
                [name]
                    + ["trades", "win_rate", "expectancy", "profit_factor", "net_pnl", "max_drawdown"].map {
                        Output.text(groups[name]?[$0])
                    }
            }
            print("")
            print(Output.table([title, "TRADES", "WIN RATE", "EXPECTANCY", "PROFIT F.", "NET PNL", "MAX DD"], rows))
        }
        if let chart { print("\nequity chart: \(chart) (\(curve.count) days)") }
    }
}

/// The equity curve above its drawdown, as a self-contained SVG picture: any browser shows it. Amounts
/// arrive as the daemon's exact decimal strings; they become floating point only as pixel positions, and
/// the labels print the exact strings.
enum EquityChart {
    static func svg(_ points: [(date: String, equity: String)], title: String) -> String {
        let curve = points.map { (date: $0.date, y: Double($0.equity) ?? 0, text: $0.equity) }
        let width = 900.0
        let top = 40.0
        let equityHeight = 300.0
        let gap = 40.0
        let drawdownHeight = 120.0
        let left = 90.0
        let right = 20.0
        let height = top + equityHeight + gap + drawdownHeight + 40
        let plotWidth = width - left - right
        var drawdowns: [Double] = []
        var peak = -Double.infinity
        for point in curve {
            peak = max(peak, point.y)
            drawdowns.append(point.y - peak)
        }
        let low = curve.map(\.y).min() ?? 0
        let high = curve.map(\.y).max() ?? 1
        let highText = curve.max { $0.y < $1.y }?.text ?? ""
        let lowText = curve.min { $0.y < $1.y }?.text ?? ""
        let span = high > low ? high - low : max(1, abs(high) * 0.01)
        let deepest = min(drawdowns.min() ?? 0, -1e-9)
        func x(_ index: Int) -> Double {
            curve.count > 1 ? left + plotWidth * Double(index) / Double(curve.count - 1) : left + plotWidth / 2
        }
        func yEquity(_ value: Double) -> Double { top + equityHeight - (value - low) / span * equityHeight }
        func yDrawdown(_ value: Double) -> Double { top + equityHeight + gap + value / deepest * drawdownHeight }
        func number(_ value: Double) -> String { String(format: "%.2f", value) }
        let equityPath = curve.indices.map { "\(number(x($0))),\(number(yEquity(curve[$0].y)))" }
        let ddBase = top + equityHeight + gap
        var ddPath = ["\(number(x(0))),\(number(ddBase))"]
        ddPath += drawdowns.indices.map { "\(number(x($0))),\(number(yDrawdown(drawdowns[$0])))" }
        ddPath.append("\(number(x(max(0, curve.count - 1)))),\(number(ddBase))")
        var lines = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
                + "font-family=\"sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(left)\" y=\"24\" font-size=\"16\">\(escape(title))</text>",
            "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + equityHeight)\" stroke=\"#888\"/>",
            "<text x=\"\(left - 8)\" y=\"\(top + 4)\" text-anchor=\"end\">\(escape(highText))</text>",
            "<text x=\"\(left - 8)\" y=\"\(top + equityHeight)\" text-anchor=\"end\">\(escape(lowText))</text>",
            "<polyline fill=\"none\" stroke=\"#1f6feb\" stroke-width=\"2\" points=\"\(equityPath.joined(separator: " "))\"/>",
            "<text x=\"\(left)\" y=\"\(ddBase - 8)\">Drawdown from peak</text>",
            "<polygon fill=\"#f85149\" fill-opacity=\"0.5\" stroke=\"#da3633\" points=\"\(ddPath.joined(separator: " "))\"/>",
            "<text x=\"\(left - 8)\" y=\"\(ddBase + 4)\" text-anchor=\"end\">0</text>",
            "<text x=\"\(left - 8)\" y=\"\(ddBase + drawdownHeight)\" text-anchor=\"end\">\(number(deepest < -1e-6 ? deepest : 0))</text>",
        ]
        if let first = curve.first, let last = curve.last {
            let bottom = ddBase + drawdownHeight + 24
            lines.append("<text x=\"\(left)\" y=\"\(bottom)\">\(escape(first.date))</text>")
            lines.append("<text x=\"\(width - right)\" y=\"\(bottom)\" text-anchor=\"end\">\(escape(last.date))</text>")
        } else {
            lines.append("<text x=\"\(left + 20)\" y=\"\(top + 40)\">no closed days yet</text>")
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
