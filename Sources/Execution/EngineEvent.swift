import GatewayCore

/// The kinds of journaled event. The journal's `kind` column and the `event` field of pushed events.
enum EventKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// An account's opening cash, written once when the account is first configured.
    case accountOpened = "account_opened"
    /// An order changed; carries the whole order after the change.
    case order
    case fill
    case quote
    /// A broker connection changed state.
    case broker
    /// A broker report about an order or fill the gateway does not know; kept for reconciliation.
    case brokerUnmatched = "broker_unmatched"
    /// The trading state of an account or of the whole gateway changed.
    case tradingState = "trading_state"
    /// An alert destination dropped alerts (queue full while it was down, or it refused them).
    case alertDropped = "alert_dropped"
    /// A control-socket verb refused for the peer's role.
    case accessDenied = "access_denied"
    /// Risk limits, sizing or alert settings re-read from the configuration while running.
    case configReloaded = "config_reloaded"
    /// A difference between the journal and a broker, found by reconciliation, and what was done about it.
    case reconciliation
}

/// One event as the engine journals it: a kind and a payload whose JSON object is the event's body on
/// the wire (PROTOCOL.md "Positions, accounts, events").
enum EngineEvent: Sendable {
    case accountOpened(AccountOpened)
    case order(OrderChanged)
    case fill(FillPayload)
    case quote(QuotePayload)
    case broker(BrokerChanged)
    case brokerUnmatched(BrokerUnmatched)
    case tradingState(TradingStateChange)
    case alertDropped(AlertDropNote)
    case accessDenied(AccessDeniedNote)
    case configReloaded(ConfigReloadNote)
    case reconciliation(ReconciliationDifference)

    var kind: EventKind {
        switch self {
        case .accountOpened: .accountOpened
        case .order: .order
        case .fill: .fill
        case .quote: .quote
        case .broker: .broker
        case .brokerUnmatched: .brokerUnmatched
        case .tradingState: .tradingState
        case .alertDropped: .alertDropped
        case .accessDenied: .accessDenied
        case .configReloaded: .configReloaded
        case .reconciliation: .reconciliation
        }
    }
}

struct AccountOpened: Codable, Sendable {
    var account: AccountID
    var broker: String
    var currency: String
    var cash: Money
}

/// `change` names what happened (`accepted`, `submitted`, `acknowledged`, `partially_filled`, `filled`,
/// `cancel_requested`, `canceled`, `cancel_rejected`, `replace_requested`, `replaced`, `replace_rejected`,
/// `expired`, `rejected`, `unknown`), `reason` why, where there is one.
struct OrderChanged: Codable, Sendable {
    var order: Order
    var change: String
    var reason: String?
}

struct FillPayload: Codable, Sendable {
    var fill: Fill
}

struct QuotePayload: Codable, Sendable {
    var quote: Quote
}

struct BrokerChanged: Codable, Sendable {
    var account: AccountID
    var broker: String
    var state: String
    var detail: String?
}

struct BrokerUnmatched: Codable, Sendable {
    var account: AccountID
    var report: String
}

extension OrderChanged: JSONTextEncodable {
    func write(to json: inout JSONText) {
        json.object { json in
            json.member("change", change)
            json.member("order", order)
            json.member("reason", reason)
        }
    }
}

extension QuotePayload: JSONTextEncodable {
    func write(to json: inout JSONText) {
        json.object { json in json.member("quote", quote) }
    }
}

extension FillPayload: JSONTextEncodable {
    func write(to json: inout JSONText) {
        json.object { json in json.member("fill", fill) }
    }
}
