import Foundation
public import GatewayCore

/// Renders answer lines: `{"id":…,"ok":true,…}` and `{"id":…,"ok":false,"error":{…}}`.
public struct AnswerWriter: Sendable {
    public init() {}

    private static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }

    /// A success whose fields are those of `body` (a JSON object).
    public func success(id: RequestID, body: some Encodable) -> String {
        if let body = body as? any JSONTextEncodable {
            // The order path's answers write themselves (JSONText); the same bytes, without JSONEncoder.
            var json = JSONText()
            body.write(to: &json)
            return json.withBytes { Self.splice(id: id.jsonText, body: $0) }
        }
        let encoder = Self.makeEncoder()
        let idText = id.jsonText
        guard let data = try? encoder.encode(body) else {
            return failure(id: id, code: "internal", message: "cannot encode the answer")
        }
        return Self.splice(id: idText, body: data)
    }

    /// A success whose fields are given as JSON object text already rendered.
    public func success(id: RequestID, rawBody: String) -> String {
        Self.splice(id: id.jsonText, body: rawBody.utf8)
    }

    /// `{"id":…,"ok":true` followed by the members of `body`, a JSON object's text (bytes, not
    /// characters: the order path's answers are long, and cutting a `String` by characters cost about
    /// 2 % of the engine's thread).
    static func splice(id: String, body: some Collection<UInt8>) -> String {
        let head = #"{"id":"#.utf8
        let ok = #","ok":true"#.utf8
        let members = body.count > 2 ? body.count : 1
        let count = head.count + id.utf8.count + ok.count + members
        // Written into the string's own storage: one allocation and one copy of the body.
        return String(unsafeUninitializedCapacity: count) { out in
            var at = out.initialize(fromContentsOf: head)
            at += UnsafeMutableBufferPointer(rebasing: out[at...]).initialize(fromContentsOf: id.utf8)
            at += UnsafeMutableBufferPointer(rebasing: out[at...]).initialize(fromContentsOf: ok)
            if body.count > 2 {
                out[at] = UInt8(ascii: ",")
                at += 1
                at += UnsafeMutableBufferPointer(rebasing: out[at...]).initialize(fromContentsOf: body.dropFirst())
            } else {
                out[at] = UInt8(ascii: "}")
                at += 1
            }
            return at
        }
    }

    /// The start of a success whose one member is the list `key`, up to its `[`:
    /// `{"id":…,"ok":true,"key":[`. The list's items follow, separated by commas, then `]}`: an answer
    /// written a piece at a time, as its items are made (`cancel_all`'s orders).
    public func successListHead(id: RequestID, key: StaticString) -> String {
        #"{"id":"# + id.jsonText + #","ok":true,""# + key.description + #"":["#
    }

    /// An error answer with a stable code.
    public func failure(id: RequestID, code: String, message: String, details: ErrorDetails? = nil) -> String {
        let answer = ErrorAnswer(id: id, error: .init(code: code, message: message, details: details))
        guard let data = try? Self.makeEncoder().encode(answer) else {
            return "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"internal\",\"message\":\"cannot encode an error\"}}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// What an error's `details` carries.
public enum ErrorDetails: Sendable, Hashable, Encodable {
    /// The request field at fault.
    case field(String)
    /// Each failed check of a risk rejection.
    case checks([RiskFailure])
    /// Everything wrong with a configuration file (`reload`).
    case problems([String])
    /// An `unauthorized` verb: the peer's role (`nil`: none) and the role the verb needs.
    case access(role: Role?, required: Role)

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .field(let name):
            var container = encoder.container(keyedBy: FieldKey.self)
            try container.encode(name, forKey: .field)
        case .checks(let checks):
            var container = encoder.singleValueContainer()
            try container.encode(checks)
        case .problems(let problems):
            var container = encoder.container(keyedBy: FieldKey.self)
            try container.encode(problems, forKey: .problems)
        case .access(let role, let required):
            var container = encoder.container(keyedBy: FieldKey.self)
            try container.encode(role?.rawValue ?? "none", forKey: .role)
            try container.encode(required, forKey: .required)
        }
    }

    enum FieldKey: String, CodingKey { case field, problems, role, required }
}

struct ErrorAnswer: Encodable {
    struct Body: Encodable {
        var code: String
        var message: String
        var details: ErrorDetails?
    }

    var id: RequestID
    var ok = false
    var error: Body
}

/// `hello`'s answer.
public struct HelloAnswer: Sendable, Encodable {
    public struct Server: Sendable, Encodable {
        public var name: String
        public var version: String
    }

    public var `protocol`: Int
    public var server: Server
    public var accounts: [AccountID]
    /// What this peer may do (`viewer`, `trader`, `admin`), or `nil` when it may do nothing but `hello`.
    public var role: Role?

    public init(server: String, version: String, accounts: [AccountID], role: Role? = .admin) {
        self.role = role
        self.protocol = protocolVersion
        self.server = Server(name: server, version: version)
        self.accounts = accounts
    }
}

extension HelloAnswer: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.key("accounts")
            json.array(accounts) { $0.string($1.rawValue) }
            json.member("protocol", Int64(`protocol`))
            json.member("role", role?.rawValue)
            json.key("server")
            json.object { json in
                json.member("name", server.name)
                json.member("version", server.version)
            }
        }
    }
}

/// `submit`'s answer.
public struct SubmitAnswer: Sendable, Encodable {
    public var order: Order
    public var duplicate: Bool
    /// The exits placed with the order (bracket, OTO, OCO); left out when there are none.
    public var linkedOrders: [Order]?

    enum CodingKeys: String, CodingKey { case order, duplicate, linkedOrders = "linked_orders" }

    public init(order: Order, duplicate: Bool, linked: [Order] = []) {
        self.order = order
        self.duplicate = duplicate
        self.linkedOrders = linked.isEmpty ? nil : linked
    }
}

extension SubmitAnswer: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.member("duplicate", duplicate)
            json.member("linked_orders", linkedOrders)
            json.member("order", order)
        }
    }
}

/// The answer of `cancel` and `replace`.
public struct OrderAnswer: Sendable, Encodable {
    public var order: Order
    public init(order: Order) { self.order = order }
}

/// The answer of `orders` and `cancel_all`.
public struct OrdersAnswer: Sendable, Encodable {
    public var orders: [Order]
    public init(orders: [Order]) { self.orders = orders }
}

// The order path's other answers write themselves too (`AnswerWriter.success`).
extension OrderAnswer: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in json.member("order", order) }
    }
}

extension OrdersAnswer: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in json.member("orders", orders) }
    }
}

/// `reconcile`'s answer: per account, the differences found and what was done about each.
public struct ReconcileAnswer: Sendable, Encodable {
    public var reconciliations: [Reconciliation]
    public init(reconciliations: [Reconciliation]) { self.reconciliations = reconciliations }
}

/// `positions`' answer.
public struct PositionsAnswer: Sendable, Encodable {
    public var positions: [PositionSnapshot]
    public init(positions: [PositionSnapshot]) { self.positions = positions }
}

/// `account`'s answer.
public struct AccountAnswer: Sendable, Encodable {
    public var account: AccountSnapshot
    public init(account: AccountSnapshot) { self.account = account }
}

/// `quote`'s answer: the merged quote now in force.
public struct QuoteAnswer: Sendable, Encodable {
    public var quote: Quote
    public init(quote: Quote) { self.quote = quote }
}

extension QuoteAnswer: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in json.member("quote", quote) }
    }
}

/// `subscribe`'s answer: the sequence number live events continue from.
public struct SubscribeAnswer: Sendable, Encodable {
    public var subscribed: Bool
    public var afterSeq: Int64?

    enum CodingKeys: String, CodingKey { case subscribed, afterSeq = "after_seq" }

    public init(afterSeq: Int64?) {
        self.subscribed = true
        self.afterSeq = afterSeq
    }
}

/// `status`' answer.
public struct StatusAnswer: Sendable, Encodable {
    public var server: String
    public var version: String
    public var protocolVersion: Int
    public var uptimeSeconds: Int64
    public var seq: Int64
    public var accounts: [AccountStatus]
    /// `ok`, or why the journal failed and trading stopped.
    public var journal: String
    /// `ok`, or why the journal's tables cannot take the events its log holds (docs/journal.md): trading
    /// goes on, and every read of the journal fails naming this.
    public var journalTables: String
    /// Events the journal's log holds that its tables do not yet (normally a few, for a few milliseconds).
    public var journalBacklog: Int

    enum CodingKeys: String, CodingKey {
        case server, version, protocolVersion = "protocol", uptimeSeconds = "uptime_seconds", seq, accounts, journal
        case journalTables = "journal_tables", journalBacklog = "journal_backlog"
    }

    public init(
        server: String, version: String, uptimeSeconds: Int64, seq: Int64, accounts: [AccountStatus],
        journal: String = "ok", journalTables: String = "ok", journalBacklog: Int = 0
    ) {
        self.journal = journal
        self.journalTables = journalTables
        self.journalBacklog = journalBacklog
        self.server = server
        self.version = version
        self.protocolVersion = ControlProtocol.protocolVersion
        self.uptimeSeconds = uptimeSeconds
        self.seq = seq
        self.accounts = accounts
    }
}

extension StatusAnswer: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.member("accounts", accounts)
            json.member("journal", journal)
            json.member("journal_backlog", Int64(journalBacklog))
            json.member("journal_tables", journalTables)
            json.member("protocol", Int64(protocolVersion))
            json.member("seq", seq)
            json.member("server", server)
            json.member("uptime_seconds", uptimeSeconds)
            json.member("version", version)
        }
    }
}

/// The answer of `halt` and `resume`.
public struct TradingStateAnswer: Sendable, Encodable {
    public var tradingState: TradingStateChange

    enum CodingKeys: String, CodingKey { case tradingState = "trading_state" }

    public init(tradingState: TradingStateChange) { self.tradingState = tradingState }
}

/// `signal`'s answer.
public struct SignalAnswer: Sendable, Encodable {
    public var orders: [Order]
    public var sizing: SizingResult?
    public var duplicate: Bool
    public var bracket: String?

    public init(orders: [Order], sizing: SizingResult?, duplicate: Bool, bracket: String?) {
        self.orders = orders
        self.sizing = sizing
        self.duplicate = duplicate
        self.bracket = bracket
    }
}

extension SignalAnswer: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.member("bracket", bracket)
            json.member("duplicate", duplicate)
            json.member("orders", orders)
            json.member("sizing", sizing)
        }
    }
}
