import ArgumentParser

struct Halt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The kill switch: halt one account, or every account (cancels only from then on).")
    @Option(name: .long, help: "Halt only this account.") var account: String?
    @Option(name: .long, help: "Why, for the journal.") var reason: String?
    @Flag(name: .customLong("cancel-open"), help: "Also cancel every open order.") var cancelOpen = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        var fields: [String: Any] = ["cancel_open": cancelOpen]
        fields["account"] = account
        fields["reason"] = reason
        let answer = try Session(global).call("halt", fields)
        if global.json { return Output.printJSON(answer) }
        print(Output.stateLine(answer["trading_state"] as? [String: Any] ?? [:]))
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resume trading: --state active (default) or reducing.")
    @Option(name: .long, help: "Resume only this account.") var account: String?
    @Option(name: .long, help: "active or reducing.") var state: String = "active"
    @Option(name: .long, help: "Why, for the journal.") var reason: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        var fields: [String: Any] = ["state": state]
        fields["account"] = account
        fields["reason"] = reason
        let answer = try Session(global).call("resume", fields)
        if global.json { return Output.printJSON(answer) }
        print(Output.stateLine(answer["trading_state"] as? [String: Any] ?? [:]))
    }
}

struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the journal with the broker now: open orders, fills and positions.",
        discussion: """
            Every difference is journaled and acted on by the account's reconcile policy (an external order \
            adopted, a position mismatch halting the account, …) and printed here. The exit code is 0 even \
            when differences were found: read them.
            """)
    @Option(name: .long, help: "Only this account.") var account: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        var fields: [String: Any] = [:]
        fields["account"] = account
        let answer = try Session(global).call("reconcile", fields)
        if global.json { return Output.printJSON(answer) }
        for reconciliation in answer["reconciliations"] as? [[String: Any]] ?? [] {
            print(Output.reconciliationLines(reconciliation).joined(separator: "\n"))
        }
    }
}

extension Output {
    static func reconciliationLines(_ reconciliation: [String: Any]) -> [String] {
        let differences = reconciliation["differences"] as? [[String: Any]] ?? []
        var line = "\(text(reconciliation["account"])): \(text(reconciliation["broker_open_orders"])) open orders"
        if let positions = reconciliation["broker_positions"] as? Int { line += " and \(positions) positions" }
        line += " at the broker"
        if reconciliation["positions_compared"] as? Bool != true { line += " (positions not compared)" }
        line += differences.isEmpty ? "; no differences" : "; \(differences.count) differences:"
        return [line]
            + differences.map { difference in
                let subject = [difference["symbol"], difference["order_id"]].compactMap { $0 as? String }
                return "  \(text(difference["difference"])) \(subject.joined(separator: " ")): journal "
                    + "\(difference["journal"] as? String ?? "none"), broker \(difference["broker"] as? String ?? "none")"
                    + " → \(text(difference["action"])) (\(text(difference["detail"])))"
            }
    }
}

extension Output {
    static func stateLine(_ change: [String: Any]) -> String {
        var line = "\(text(change["account"] ?? "gateway")) is \(text(change["state"]))"
        if let reason = change["reason"] as? String { line += " (\(reason))" }
        if let canceled = change["canceled"] as? [String] { line += "; \(canceled.count) open orders asked to cancel" }
        return line
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-read the daemon's configuration file: risk limits, sizing and access roles take effect at once.",
        discussion: """
            The same as `systemctl reload gatewayd` (SIGHUP), but answered: what took effect, and what differs \
            but needs a restart (accounts, paths, credentials, alerts, metrics). A file with problems changes \
            nothing; every problem is printed.
            """)
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let answer = try Session(global).call("reload", [:])
        if global.json { return Output.printJSON(answer) }
        let applied = answer["applied"] as? [String] ?? []
        let restart = answer["needs_restart"] as? [String] ?? []
        print("reloaded (journal seq \(Output.text(answer["seq"])))")
        print(
            applied.isEmpty
                ? "  nothing changed that applies while running" : "  applied: " + applied.joined(separator: "; "))
        if !restart.isEmpty { print("  needs a restart: " + restart.joined(separator: "; ")) }
    }
}
