import ControlProtocol
import Foundation

/// One conversation with the daemon for one verb: connects, sends, and turns refusals and unreachable
/// daemons into the right exit status.
struct Session {
    let client: ControlClient
    let options: GlobalOptions

    init(_ options: GlobalOptions) throws {
        self.options = options
        do {
            client = try ControlClient(socketPath: options.socketPath)
        } catch {
            throw CommandFailure(
                status: ExitStatus.unreachable,
                message: """
                    gatewayctl: \(error)
                    Is gatewayd running? From a checkout start it with:
                        swift run gatewayd --config config/paper.yaml
                    or name its socket with --socket PATH or $GATEWAYD_SOCKET.
                    """)
        }
    }

    /// Sends a request; returns the successful answer, or throws a refusal with the daemon's reasons.
    func call(_ op: String, _ fields: [String: Any] = [:]) throws -> [String: Any] {
        let answer: [String: Any]
        do {
            answer = try client.request(op, fields.compactMapValues { $0 })
        } catch {
            throw CommandFailure(status: ExitStatus.unreachable, message: "gatewayctl: \(error)")
        }
        if answer["ok"] as? Bool == true { return answer }
        if options.json { Output.printJSON(answer) }
        throw CommandFailure(status: ExitStatus.refused, message: Output.refusal(answer))
    }
}

/// Printing answers for a person or as JSON.
enum Output {
    static func printJSON(_ object: Any) {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else {
            return
        }
        print(String(decoding: data, as: UTF8.self))
    }

    static func refusal(_ answer: [String: Any]) -> String {
        let error = answer["error"] as? [String: Any] ?? [:]
        let code = error["code"] as? String ?? "error"
        let message = error["message"] as? String ?? "the daemon refused"
        var text = "gatewayctl: refused (\(code)): \(message)"
        if let details = error["details"] as? [String: Any], let field = details["field"] as? String {
            text += " [field: \(field)]"
        } else if let details = error["details"] as? [String: Any], let problems = details["problems"] as? [String] {
            for problem in problems { text += "\n  - \(problem)" }
        } else if let checks = error["details"] as? [[String: Any]] {
            for check in checks {
                text +=
                    "\n  - \(check["check"] ?? "?"): \(check["message"] ?? "") (limit \(check["limit"] ?? "?"), value \(check["value"] ?? "?"))"
            }
        }
        return text
    }

    /// A table with a header row, each column as wide as its widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: "-"
        case let string as String: string
        case let number as NSNumber: number.stringValue
        case let list as [Any]: list.map { text($0) }.joined(separator: ",")
        default: "\(value!)"
        }
    }

    /// A short time of day from an RFC 3339 string: `14:30:00.123`.
    static func time(_ value: Any?) -> String {
        guard let ts = value as? String, ts.count >= 23 else { return text(value) }
        let start = ts.index(ts.startIndex, offsetBy: 11)
        let end = ts.index(ts.startIndex, offsetBy: 23)
        return String(ts[start..<end])
    }

    static func orderRows(_ orders: [[String: Any]]) -> String {
        let rows = orders.map { order in
            [
                text(order["order_id"]), text(order["client_order_id"]), text(order["symbol"]), text(order["side"]),
                text(order["qty"]), text(order["type"]), text(order["limit_price"] ?? order["stop_price"]),
                text(order["tif"]), text(order["status"]), text(order["filled_qty"]), text(order["avg_fill_price"]),
            ]
        }
        return table(
            ["ORDER", "CLIENT ID", "SYMBOL", "SIDE", "QTY", "TYPE", "PRICE", "TIF", "STATUS", "FILLED", "AVG"], rows)
    }

    static func orderLine(_ order: [String: Any]) -> String {
        var line = "\(text(order["status"])) \(text(order["order_id"])) (\(text(order["client_order_id"]))): "
        line += "\(text(order["side"])) \(text(order["qty"])) \(text(order["symbol"]))"
        if let stop = order["stop_price"] { line += " stop \(text(stop))" }
        if let limit = order["limit_price"] { line += " limit \(text(limit))" }
        if order["stop_price"] == nil && order["limit_price"] == nil { line += " \(text(order["type"]))" }
        line += " \(text(order["tif"]))"
        if let filled = order["filled_qty"] as? String, filled != "0" {
            line += ", filled \(filled) @ \(text(order["avg_fill_price"]))"
        }
        if let reasons = order["reject_reasons"] as? [String], !reasons.isEmpty {
            line += ", rejected: " + reasons.joined(separator: "; ")
        }
        return line
    }

    /// One event as a line for a person.
    static func eventLine(_ event: [String: Any]) -> String {
        let kind = text(event["event"])
        var summary: String
        switch kind {
        case "order":
            let order = event["order"] as? [String: Any] ?? [:]
            summary = orderLine(order)
            if let reason = event["reason"] as? String { summary += " — \(reason)" }
        case "fill":
            let fill = event["fill"] as? [String: Any] ?? [:]
            summary =
                "\(text(fill["order_id"])) \(text(fill["side"])) \(text(fill["qty"])) \(text(fill["symbol"])) @ \(text(fill["price"]))"
        case "quote":
            let quote = event["quote"] as? [String: Any] ?? [:]
            summary =
                "\(text(quote["symbol"])) bid \(text(quote["bid"])) ask \(text(quote["ask"])) last \(text(quote["last"]))"
        case "broker":
            summary = "\(text(event["account"])) \(text(event["broker"])) \(text(event["state"]))"
        case "trading_state":
            summary = stateLine(event)
        case "account_opened":
            summary =
                "\(text(event["account"])) \(text(event["broker"])) cash \(text(event["cash"])) \(text(event["currency"]))"
        default:
            summary = event.filter { !["event", "seq", "ts"].contains($0.key) }.map { "\($0.key)=\(text($0.value))" }
                .sorted()
                .joined(separator: " ")
        }
        return "\(text(event["seq"]))\t\(time(event["ts"]))\t\(kind)\t\(summary)"
    }
}
