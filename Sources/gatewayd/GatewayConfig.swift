import BrokerPaper
import Journal
import GatewayCore
import Yams

/// The daemon's configuration, decoded from YAML into typed values. Unknown keys are errors (a typo
/// must not silently turn a limit off), and every problem is reported at once.
struct GatewayConfig: Sendable {
    struct Account: Sendable {
        var id: AccountID
        var broker: String
        var currency: String
        var startingCash: Money
        var paper: Paper?
        var alpaca: Alpaca?
        var risk: RiskLimits
        var sizing: SizingPolicy?
        var strategyLimits: [String: RiskLimits] = [:]
        var strategySizing: [String: SizingPolicy] = [:]
        var session: TradingSession
        var reconcile = ReconcilePolicy()
    }

    struct Paper: Sendable {
        var ledger: String?
        var faults: PaperFaults
        var costs = CostModel()
        var rules = PaperRules()
        /// When the simulated market trades; `nil`: always (`calendar: always_open`).
        var calendar: MarketCalendar?
        var replay: PaperReplay.Settings?
        var retention = Retention()

        /// How many finished orders the paper broker keeps, and how many lines its ledger takes at the least
        /// between two rewrites (`ledger_keep_finished`, `ledger_rewrite_lines`).
        struct Retention: Sendable {
            var keepFinished = PaperBroker.finishedOrdersKept
            var rewriteLines = PaperBroker.ledgerRewriteLines
        }
    }

    var socket: String
    var socketMode: UInt32
    var journal: String
    /// Events between checkpoints of the engine's state (0: none; a restart then replays everything).
    var checkpointEvery: Int
    var logLevel: String
    var accounts: [Account]
    /// Where credential files are read from outside systemd (`$CREDENTIALS_DIRECTORY` wins).
    var credentialsDir: String?
    var alerts: [Alert] = []
    /// Who may do what on the control socket; `nil` when the file has no `access:`.
    var access: [Access]? = nil
    var metricsListen: MetricsAddress? = GatewayConfig.defaultMetricsAddress
    /// `journal_durability`: `durable` (the default) or `fast` (docs/configuration.md says what each keeps).
    var durability = EventJournal.Durability.durable

    static let brokers: Set<String> = ["paper", "alpaca"]
    static let checkpointEvery = 10_000
    static let logLevels: Set<String> = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Parses and validates `text`; throws `ConfigProblems` listing everything wrong.
    static func parse(_ text: String) throws(ConfigProblems) -> GatewayConfig {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw ConfigProblems(["the file is empty"]) }
            root = node
        } catch let problems as ConfigProblems {
            throw problems
        } catch {
            throw ConfigProblems(["not valid YAML: \(error)"])
        }
        var reader = ConfigReader()
        let config = reader.gateway(root)
        guard reader.problems.isEmpty, let config else { throw ConfigProblems(reader.problems) }
        return config
    }
}

/// Everything wrong with a configuration file.
struct ConfigProblems: Error, CustomStringConvertible {
    var problems: [String]
    init(_ problems: [String]) { self.problems = problems }
    var description: String { problems.map { "  - \($0)" }.joined(separator: "\n") }
}

/// Walks the YAML tree, collecting every problem instead of stopping at the first.
struct ConfigReader {
    var problems: [String] = []

    mutating func gateway(_ node: Node) -> GatewayConfig? {
        guard
            let map = mapping(
                node, at: "the top level",
                keys: [
                    "socket", "socket_mode", "journal", "journal_checkpoint_every", "log_level", "accounts",
                    "credentials_dir", "alerts", "access", "metrics_listen", "journal_durability",
                ])
        else {
            return nil
        }
        let socket = string(map["socket"], at: "socket") ?? "./var/gatewayd.sock"
        let journal = string(map["journal"], at: "journal") ?? "./var/journal.sqlite"
        let modeText = string(map["socket_mode"], at: "socket_mode") ?? "0660"
        let socketMode = UInt32(modeText, radix: 8)
        if socketMode == nil || socketMode! > 0o777 {
            problems.append("socket_mode: '\(modeText)' is not an octal file mode such as 0660")
        }
        let checkpointEvery =
            count(map["journal_checkpoint_every"], at: "journal_checkpoint_every") ?? GatewayConfig.checkpointEvery
        let durabilityText = string(map["journal_durability"], at: "journal_durability") ?? "durable"
        let durability = EventJournal.Durability(rawValue: durabilityText)
        if durability == nil {
            problems.append("journal_durability: '\(durabilityText)' is not durable or fast")
        }
        let logLevel = string(map["log_level"], at: "log_level") ?? "info"
        if !GatewayConfig.logLevels.contains(logLevel) {
            problems.append(
                "log_level: '\(logLevel)' is not one of \(GatewayConfig.logLevels.sorted().joined(separator: ", "))")
        }
        var accounts: [GatewayConfig.Account] = []
        if let list = map["accounts"] {
            if case .sequence(let items) = list {
                for (index, item) in items.enumerated() {
                    if let account = account(item, at: "accounts[\(index)]") { accounts.append(account) }
                }
            } else {
                problems.append("accounts: must be a list")
            }
        } else {
            problems.append("accounts: missing; configure at least one account")
        }
        var seen: Set<AccountID> = []
        for account in accounts where !seen.insert(account.id).inserted {
            problems.append("accounts: the name '\(account.id)' is used twice")
        }
        if map["accounts"] != nil, accounts.isEmpty, problems.isEmpty {
            problems.append("accounts: configure at least one account")
        }
        let credentialsDir = string(map["credentials_dir"], at: "credentials_dir")
        let alerts = self.alerts(map["alerts"], accounts: accounts)
        return GatewayConfig(
            socket: socket, socketMode: socketMode ?? 0o660, journal: journal, checkpointEvery: checkpointEvery,
            logLevel: logLevel, accounts: accounts, credentialsDir: credentialsDir, alerts: alerts,
            access: access(map["access"]), metricsListen: metricsListen(map["metrics_listen"]),
            durability: durability ?? .durable)
    }

    mutating func account(_ node: Node, at path: String) -> GatewayConfig.Account? {
        guard
            let map = mapping(
                node, at: path,
                keys: [
                    "name", "broker", "currency", "starting_cash", "paper", "alpaca", "risk", "sizing", "strategies",
                    "session", "reconcile",
                ])
        else {
            return nil
        }
        let name = string(map["name"], at: "\(path).name", required: true)
        let id = name.flatMap(AccountID.init)
        if let name, id == nil { problems.append("\(path).name: '\(name)' is not valid: \(AccountID.rule)") }
        let broker = string(map["broker"], at: "\(path).broker", required: true)
        if let broker, !GatewayConfig.brokers.contains(broker) {
            problems.append(
                "\(path).broker: '\(broker)' is not one of \(GatewayConfig.brokers.sorted().joined(separator: ", "))")
        }
        let currency = string(map["currency"], at: "\(path).currency") ?? "USD"
        if currency.utf8.count != 3 || !currency.allSatisfy(\.isUppercase) {
            problems.append("\(path).currency: '\(currency)' is not a three-letter ISO currency code")
        }
        let cashText = string(map["starting_cash"], at: "\(path).starting_cash") ?? "0"
        let cash = Money(cashText)
        if cash == nil || cash!.isNegative {
            problems.append("\(path).starting_cash: '\(cashText)' is not a decimal amount of zero or more")
        }
        var paper: GatewayConfig.Paper?
        if let paperNode = map["paper"] {
            paper = self.paper(paperNode, at: "\(path).paper")
            if broker != "paper" { problems.append("\(path).paper: only a paper account takes paper settings") }
        } else if broker == "paper" {
            paper = self.paper(nil, at: "\(path).paper")
        }
        var alpaca: GatewayConfig.Alpaca?
        if let alpacaNode = map["alpaca"] {
            alpaca = self.alpaca(alpacaNode, at: "\(path).alpaca")
            if broker != "alpaca" { problems.append("\(path).alpaca: only an alpaca account takes alpaca settings") }
        } else if broker == "alpaca" {
            problems.append(
                "\(path).alpaca: missing; an alpaca account needs rest_url, stream_url, key_id_credential, secret_credential"
            )
        }
        let risk = map["risk"].map { self.risk($0, at: "\(path).risk") } ?? RiskLimits.none
        let sizing = map["sizing"].flatMap { self.sizing($0, at: "\(path).sizing") }
        let strategies = map["strategies"].map { self.strategies($0, at: "\(path).strategies") }
        let session = self.session(map["session"], at: "\(path).session")
        let reconcile = self.reconcile(map["reconcile"], at: "\(path).reconcile")
        guard let id, let broker, let cash else { return nil }
        return GatewayConfig.Account(
            id: id, broker: broker, currency: currency, startingCash: cash, paper: paper, alpaca: alpaca, risk: risk,
            sizing: sizing,
            strategyLimits: strategies?.limits ?? [:], strategySizing: strategies?.sizing ?? [:], session: session,
            reconcile: reconcile)
    }

    /// A mapping with string keys, every key one of `keys`.
    mutating func mapping(_ node: Node, at path: String, keys: Set<String>) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            problems.append("\(path): must be a mapping of keys to values")
            return nil
        }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                problems.append("\(path): keys must be plain strings")
                continue
            }
            if keys.contains(name) {
                result[name] = value
            } else {
                problems.append("\(path): unknown key '\(name)' (known: \(keys.sorted().joined(separator: ", ")))")
            }
        }
        return result
    }

    mutating func string(_ node: Node?, at path: String, required: Bool = false) -> String? {
        guard let node else {
            if required { problems.append("\(path): missing") }
            return nil
        }
        guard let scalar = node.scalar else {
            problems.append("\(path): must be a single value")
            return nil
        }
        return scalar.string
    }
}
