import ArgumentParser
import ControlProtocol

/// The order options `buy` and `sell` share.
struct OrderOptions: ParsableArguments {
    @Argument(help: "Ticker or OCC option symbol (quote it if it has spaces).")
    var symbol: String

    @Argument(help: "Quantity (shares or contracts).")
    var qty: String

    @Option(name: .long, help: "Limit price: makes it a limit order (a stop_limit with --stop).")
    var limit: String?

    @Option(name: .long, help: "Stop price: makes it a stop order (a stop_limit with --limit).")
    var stop: String?

    @Option(name: .long, help: "Time in force: day, gtc, ioc, fok, opg, cls.")
    var tif: String = "day"

    @Option(name: .long, help: "The account (default: the daemon's first).")
    var account: String?

    @Option(name: [.customLong("client-order-id"), .customLong("id")], help: "Your idempotency key for this order.")
    var clientOrderID: String?

    @Option(name: .long, help: "The strategy this order belongs to.")
    var strategy: String?

    @Option(name: .long, help: "A more precise side: sell_short, buy_to_cover, buy_to_open, sell_to_close, …")
    var side: String?

    @Flag(name: .customLong("extended-hours"), help: "Let a limit day or gtc order work pre-market and after-hours.")
    var extendedHours = false

    @OptionGroup var global: GlobalOptions

    func submit(defaultSide: String) throws {
        let session = try Session(global)
        let account = try self.account ?? defaultAccount(session)
        let type: String =
            switch (limit, stop) {
            case (nil, nil): "market"
            case (_?, nil): "limit"
            case (nil, _?): "stop"
            case (_?, _?): "stop_limit"
            }
        let answer = try session.call(
            "submit",
            [
                "account": account, "symbol": symbol, "side": side ?? defaultSide, "qty": qty, "type": type,
                "limit_price": limit as Any?, "stop_price": stop as Any?, "tif": tif,
                "client_order_id": clientOrderID as Any?, "strategy": strategy as Any?,
                "extended_hours": extendedHours ? (true as Any?) : nil,
            ].compactMapValues { $0 })
        if global.json { return Output.printJSON(answer) }
        let order = answer["order"] as? [String: Any] ?? [:]
        print((answer["duplicate"] as? Bool == true ? "duplicate, existing order: " : "") + Output.orderLine(order))
    }
}

/// The daemon's first account, for verbs where it is optional.
func defaultAccount(_ session: Session) throws -> String {
    let hello = try session.call("hello", ["client": "gatewayctl", "protocol": protocolVersion])
    guard let first = (hello["accounts"] as? [String])?.first else {
        throw CommandFailure(status: ExitStatus.refused, message: "gatewayctl: the daemon has no accounts")
    }
    return first
}

struct Buy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Buy: gatewayctl buy AAPL 100 [--limit 190.50] [--stop 195] [--tif gtc]")
    @OptionGroup var order: OrderOptions
    func run() throws { try order.submit(defaultSide: "buy") }
}

struct Sell: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sell: gatewayctl sell AAPL 50 [--limit 191] [--side sell_short]")
    @OptionGroup var order: OrderOptions
    func run() throws { try order.submit(defaultSide: "sell") }
}

/// Names an order by its order id, or by client order id with --client-order-id.
struct OrderNaming: ParsableArguments {
    @Argument(help: "The order's order_id (or its client_order_id with --by-client-id).")
    var order: String

    @Flag(name: .customLong("by-client-id"), help: "The argument is a client_order_id.")
    var byClientID = false

    @Option(name: .long, help: "The account (default: the daemon's first).")
    var account: String?

    func fields(_ session: Session) throws -> [String: Any] {
        [
            "account": try account ?? defaultAccount(session),
            byClientID ? "client_order_id" : "order_id": order,
        ]
    }
}

struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel one order: gatewayctl cancel <order_id>")
    @OptionGroup var naming: OrderNaming
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let session = try Session(global)
        let answer = try session.call("cancel", try naming.fields(session))
        if global.json { return Output.printJSON(answer) }
        print(Output.orderLine(answer["order"] as? [String: Any] ?? [:]))
    }
}

struct Replace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace an order's terms: gatewayctl replace <order_id> [--qty N] [--limit P] [--stop P] [--tif T]")
    @OptionGroup var naming: OrderNaming
    @Option(name: .long) var qty: String?
    @Option(name: .long) var limit: String?
    @Option(name: .long) var stop: String?
    @Option(name: .long) var tif: String?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if qty == nil && limit == nil && stop == nil && tif == nil {
            throw ValidationError("name at least one of --qty, --limit, --stop, --tif")
        }
    }

    func run() throws {
        let session = try Session(global)
        var fields = try naming.fields(session)
        fields["qty"] = qty
        fields["limit_price"] = limit
        fields["stop_price"] = stop
        fields["tif"] = tif
        let answer = try session.call("replace", fields)
        if global.json { return Output.printJSON(answer) }
        print(Output.orderLine(answer["order"] as? [String: Any] ?? [:]))
    }
}

struct CancelAll: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel-all", abstract: "Cancel every open order, optionally of one account or symbol.")
    @Option(name: .long) var account: String?
    @Option(name: .long) var symbol: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let session = try Session(global)
        let answer = try session.call(
            "cancel_all", ["account": account as Any?, "symbol": symbol as Any?].compactMapValues { $0 })
        if global.json { return Output.printJSON(answer) }
        let orders = answer["orders"] as? [[String: Any]] ?? []
        print(orders.isEmpty ? "no open orders to cancel" : Output.orderRows(orders))
    }
}

struct QuoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quote", abstract: "Give the paper simulator a price: gatewayctl quote AAPL --bid 190 --ask 190.05"
    )
    @Argument var symbol: String
    @Option(name: .long) var bid: String?
    @Option(name: .long) var ask: String?
    @Option(name: .long) var last: String?
    @Option(name: .customLong("bid-size"), help: "How much is bid (shares or contracts).") var bidSize: String?
    @Option(name: .customLong("ask-size"), help: "How much is offered.") var askSize: String?
    @Option(name: .long, help: "What traded since the last quote (bounds fills under a participation rate).")
    var volume: String?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if bid == nil && ask == nil && last == nil {
            throw ValidationError("name at least one of --bid, --ask, --last")
        }
    }

    func run() throws {
        let session = try Session(global)
        let answer = try session.call(
            "quote",
            [
                "symbol": symbol, "bid": bid as Any?, "ask": ask as Any?, "last": last as Any?,
                "bid_size": bidSize as Any?, "ask_size": askSize as Any?, "volume": volume as Any?,
            ].compactMapValues { $0 })
        if global.json { return Output.printJSON(answer) }
        let quote = answer["quote"] as? [String: Any] ?? [:]
        print(
            "\(Output.text(quote["symbol"])) bid \(Output.text(quote["bid"])) ask \(Output.text(quote["ask"])) last \(Output.text(quote["last"]))"
        )
    }
}
