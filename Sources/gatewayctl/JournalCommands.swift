import ArgumentParser
import Foundation

struct JournalExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Write every matching event as CSV or JSON lines: gatewayctl journal export --format csv --symbol AAPL")
    @Option(name: .long, help: "csv or jsonl.") var format: String = "jsonl"
    @Option(name: [.short, .long], help: "The file to write (default: standard output).") var output: String?
    @OptionGroup var filters: JournalFilters
    @OptionGroup var global: GlobalOptions

    static let columns = ["seq", "ts", "event", "account", "symbol", "order_id", "client_order_id", "strategy"]

    func validate() throws {
        guard ["csv", "jsonl"].contains(format) else {
            throw ValidationError("--format is csv or jsonl, not '\(format)'")
        }
    }

    func run() throws {
        let session = try Session(global)
        var lines: [String] = format == "csv" ? [(Self.columns + ["payload"]).joined(separator: ",")] : []
        var fields = filters.fields(limit: 10_000)
        // Page through with after_seq: every match, however many.
        while true {
            let events = try session.call("journal", fields)["events"] as? [[String: Any]] ?? []
            for event in events { lines.append(format == "csv" ? Self.csvLine(event) : Self.json(event)) }
            guard events.count == 10_000, let last = events.last?["seq"] as? Int else { break }
            fields["after_seq"] = last
        }
        let text = lines.map { $0 + "\n" }.joined()
        if let output {
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure(
                    status: ExitStatus.refused, message: "gatewayctl: cannot write \(output): \(error)")
            }
            let count = format == "csv" ? lines.count - 1 : lines.count
            FileHandle.standardError.write(Data("\(count) events written to \(output)\n".utf8))
        } else {
            print(text, terminator: "")
        }
    }

    static func json(_ object: Any) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// One CSV row: the searchable columns (taken from the order, fill or quote inside the event), then
    /// the event's own fields as JSON.
    static func csvLine(_ event: [String: Any]) -> String {
        let inner = (event["order"] ?? event["fill"] ?? event["quote"]) as? [String: Any] ?? [:]
        func value(_ key: String) -> Any? {
            switch key {
            case "event", "seq", "ts": return event[key]
            default: return inner[key] ?? event[key]
            }
        }
        let payload = event.filter { !["event", "seq", "ts"].contains($0.key) }
        return (columns.map { value($0).map { Output.text($0) } ?? "" } + [json(payload)]).map(csvField)
            .joined(separator: ",")
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

struct JournalVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Walk the journal's hash chain and sequence numbers; name the first broken link.")
    @Flag(name: .long, help: "Also compare the daemon's state with a fresh replay of the whole journal.")
    var state = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let answer = try Session(global).call("journal_verify", state ? ["state": true] : [:])
        if let check = answer["state"] as? [String: Any], check["matches"] as? Bool != true {
            if global.json { Output.printJSON(answer) }
            throw CommandFailure(
                status: ExitStatus.refused,
                message:
                    "gatewayctl: the daemon's state at seq \(Output.text(check["seq"])) does NOT equal a fresh replay of the journal"
            )
        }
        if global.json { Output.printJSON(answer) }
        if answer["verified"] as? Bool == true {
            if !global.json {
                print(
                    "journal verified: \(Output.text(answer["events"])) events, seq 1…\(Output.text(answer["last_seq"])), head \(Output.text(answer["head_hash"]))"
                )
                if let check = answer["state"] as? [String: Any] {
                    print("state at seq \(Output.text(check["seq"])) equals a fresh replay of the journal")
                }
            }
            return
        }
        throw CommandFailure(
            status: ExitStatus.refused,
            message: """
                gatewayctl: the journal does NOT verify: \(Output.text(answer["problem"]))
                  first broken link: seq \(Output.text(answer["broken_seq"]))
                  expected: \(Output.text(answer["expected"]))
                  found:    \(Output.text(answer["found"]))
                """)
    }
}

struct JournalBackup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Copy the journal, consistent, while the daemon runs.")
    @Argument(help: "The new file to write (it must not exist).") var file: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        let answer = try Session(global).call("journal_backup", ["path": path])
        if global.json { return Output.printJSON(answer) }
        print("journal backed up to \(Output.text(answer["path"])): \(Output.text(answer["events"])) events")
    }
}
