import ArgumentParser
import ControlProtocol
import Foundation

struct Hello: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the daemon answers; show its version and accounts.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let answer = try Session(global).call("hello", ["client": "gatewayctl", "protocol": protocolVersion])
        if global.json { return Output.printJSON(answer) }
        let server = answer["server"] as? [String: Any] ?? [:]
        print(
            "\(Output.text(server["name"])) \(Output.text(server["version"])), protocol \(Output.text(answer["protocol"])), accounts: \(Output.text(answer["accounts"])), role: \(Output.text(answer["role"] ?? "none"))"
        )
    }
}

struct Orders: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List open orders (--all for every order).")
    @Flag(name: .long, help: "Every order, not only open ones.") var all = false
    @Option(name: .long) var account: String?
    @Option(name: .long) var symbol: String?
    @Option(name: .long) var strategy: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let answer = try Session(global).call(
            "orders",
            [
                "status": all ? "all" : "open", "account": account as Any?, "symbol": symbol as Any?,
                "strategy": strategy as Any?,
            ]
            .compactMapValues { $0 })
        if global.json { return Output.printJSON(answer) }
        let orders = answer["orders"] as? [[String: Any]] ?? []
        print(orders.isEmpty ? (all ? "no orders" : "no open orders") : Output.orderRows(orders))
    }
}

struct Positions: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List positions with their marks and PnL.")
    @Option(name: .long) var account: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let answer = try Session(global).call("positions", ["account": account as Any?].compactMapValues { $0 })
        if global.json { return Output.printJSON(answer) }
        let positions = answer["positions"] as? [[String: Any]] ?? []
        guard !positions.isEmpty else { return print("no positions") }
        let rows = positions.map { p in
            ["account", "symbol", "qty", "avg_price", "market_price", "market_value", "unrealized_pnl", "realized_pnl"]
                .map {
                    Output.text(p[$0])
                }
        }
        print(Output.table(["ACCOUNT", "SYMBOL", "QTY", "AVG PRICE", "MARK", "VALUE", "UNREALIZED", "REALIZED"], rows))
    }
}

struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Show an account's cash, equity and PnL.")
    @Argument(help: "The account (default: the daemon's first).") var account: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let session = try Session(global)
        let answer = try session.call("account", ["account": try account ?? defaultAccount(session)])
        if global.json { return Output.printJSON(answer) }
        let figures = answer["account"] as? [String: Any] ?? [:]
        let keys = [
            "account", "broker", "currency", "cash", "equity", "buying_power", "realized_pnl", "unrealized_pnl",
            "day_pnl", "trading_state",
        ]
        print(Output.table(["FIELD", "VALUE"], keys.map { [$0, Output.text(figures[$0])] }))
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the daemon's version, uptime, journal position and brokers.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let answer = try Session(global).call("status")
        if global.json { return Output.printJSON(answer) }
        print(
            "\(Output.text(answer["server"])) \(Output.text(answer["version"])), up \(Output.text(answer["uptime_seconds"]))s, journal seq \(Output.text(answer["seq"]))"
        )
        if let journal = answer["journal"] as? String, journal != "ok" {
            print("JOURNAL FAILED — \(journal)")
        }
        if let tables = answer["journal_tables"] as? String, tables != "ok" {
            print(
                "JOURNAL TABLES FAILING — \(Output.text(answer["journal_backlog"])) events are in the journal's log only: \(tables)"
            )
        }
        let accounts = answer["accounts"] as? [[String: Any]] ?? []
        let rows = accounts.map { a in
            ["account", "broker", "connection", "trading_state", "open_orders", "unknown_orders"].map {
                Output.text(a[$0])
            }
        }
        print(Output.table(["ACCOUNT", "BROKER", "CONNECTION", "TRADING", "OPEN", "UNKNOWN"], rows))
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stream events as they happen (Ctrl-C to stop).")
    @Option(name: .customLong("after-seq"), help: "First replay the events journaled after this sequence number.")
    var afterSeq: Int?
    @Option(name: .long, parsing: .upToNextOption, help: "Only these kinds: order fill quote broker …")
    var kinds: [String] = []
    @Option(name: .long, help: "Stop after this many events.") var count: Int?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let session = try Session(global)
        var fields: [String: Any] = [:]
        fields["after_seq"] = afterSeq
        if !kinds.isEmpty { fields["kinds"] = kinds }
        _ = try session.call("subscribe", fields)
        var seen = 0
        while count.map({ seen < $0 }) ?? true {
            let line: String?
            do {
                line = try session.client.readLine()
            } catch {
                throw CommandFailure(status: ExitStatus.unreachable, message: "gatewayctl: \(error)")
            }
            guard let line else { return }
            if global.json {
                print(line)
            } else if let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                print(Output.eventLine(event))
            }
            fflush(nil)
            seen += 1
        }
    }
}

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Search, export, verify and back up the journal.",
        subcommands: [JournalSearch.self, JournalExport.self, JournalVerify.self, JournalBackup.self],
        defaultSubcommand: JournalSearch.self)
}

/// The journal verb's filters, shared by search and export.
struct JournalFilters: ParsableArguments {
    @Option(name: .long) var account: String?
    @Option(name: .long) var symbol: String?
    @Option(name: .long) var strategy: String?
    @Option(name: [.customLong("order"), .customLong("order-id")]) var orderID: String?
    @Option(name: .customLong("client-order-id")) var clientOrderID: String?
    @Option(name: .long, parsing: .upToNextOption, help: "Event kinds: order fill quote broker trading_state ...")
    var kinds: [String] = []
    @Option(name: .long, help: "RFC 3339 time or YYYY-MM-DD.") var since: String?
    @Option(name: .long, help: "RFC 3339 time or YYYY-MM-DD.") var until: String?
    @Option(name: .customLong("after-seq")) var afterSeq: Int?

    func fields(limit: Int?) -> [String: Any] {
        var fields: [String: Any] = [
            "account": account as Any?, "symbol": symbol as Any?, "strategy": strategy as Any?,
            "order_id": orderID as Any?, "client_order_id": clientOrderID as Any?, "since": since as Any?,
            "until": until as Any?, "after_seq": afterSeq as Any?, "limit": limit as Any?,
        ].compactMapValues { $0 }
        if !kinds.isEmpty { fields["kinds"] = kinds }
        return fields
    }
}

struct JournalSearch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search the journal: gatewayctl journal --symbol AAPL")
    @OptionGroup var filters: JournalFilters
    @Option(name: .long) var limit: Int?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let answer = try Session(global).call("journal", filters.fields(limit: limit))
        if global.json { return Output.printJSON(answer) }
        let events = answer["events"] as? [[String: Any]] ?? []
        guard !events.isEmpty else { return print("no events") }
        let rows = events.map {
            Output.eventLine($0).split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        print(Output.table(["SEQ", "TIME", "EVENT", "DETAIL"], rows))
    }
}
