/// What an account does about a difference between the journal and its broker (`reconcile:` in the
/// configuration).
public enum ReconcileAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Take the broker's side into the journal, marked external, and keep trading.
    case adopt
    /// Record the difference, tell the subscribers, keep trading.
    case alert
    /// Record it and move the account to `halted` until an operator resumes it.
    case halt
}

/// An account's reconciliation policy: what it does about orders the journal does not hold and about
/// positions that do not match, and how often it compares outside starts and reconnects.
public struct ReconcilePolicy: Sendable, Hashable {
    public var externalOrders: ReconcileAction
    public var positionMismatch: ReconcileAction
    /// How often the periodic comparison runs; `nil` never (starts, reconnects and `reconcile` still do).
    public var every: Duration?

    public init(
        externalOrders: ReconcileAction = .adopt, positionMismatch: ReconcileAction = .halt,
        every: Duration? = .seconds(60)
    ) {
        self.externalOrders = externalOrders
        self.positionMismatch = positionMismatch
        self.every = every
    }
}

/// One difference a reconciliation found, as journaled (event `reconciliation`), pushed to subscribers
/// and answered by `reconcile`: what differs, the journal's value and the broker's, and what was done.
public struct ReconciliationDifference: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// An order the broker works that the journal does not hold (placed by hand or another program).
        case externalOrder = "external_order"
        /// A position the broker holds that the journal's fills do not add up to.
        case positionMismatch = "position_mismatch"
        /// A fill the broker reports that the journal lacked (a dropped stream frame, an outage, a crash).
        case fillMissing = "fill_missing"
        /// An order the journal and the broker disagree about (working at one, ended at the other).
        case orderStatus = "order_status"
    }

    /// What was done about it.
    public enum Action: String, Sendable, Hashable, Codable {
        /// Taken into the journal, marked external.
        case adopted
        /// Recorded only; trading goes on.
        case alerted
        /// The account was halted.
        case halted
        /// The broker was asked about the order, and its answer is journaled.
        case settled
        /// The missing fill was journaled.
        case journaled
    }

    public var account: AccountID
    /// What started the reconciliation: `start`, `reconnect`, `periodic` or `operator`.
    public var trigger: String
    public var difference: Kind
    public var symbol: Symbol?
    public var orderID: OrderID?
    public var brokerOrderID: String?
    /// The journal's value (a quantity, a status), `nil` where the journal has nothing.
    public var journal: String?
    /// The broker's value.
    public var broker: String?
    public var action: Action
    public var detail: String

    enum CodingKeys: String, CodingKey {
        case account, trigger, difference, symbol, orderID = "order_id", brokerOrderID = "broker_order_id"
        case journal, broker, action, detail
    }

    public init(
        account: AccountID, trigger: String, difference: Kind, symbol: Symbol? = nil, orderID: OrderID? = nil,
        brokerOrderID: String? = nil, journal: String?, broker: String?, action: Action, detail: String
    ) {
        self.account = account
        self.trigger = trigger
        self.difference = difference
        self.symbol = symbol
        self.orderID = orderID
        self.brokerOrderID = brokerOrderID
        self.journal = journal
        self.broker = broker
        self.action = action
        self.detail = detail
    }

    /// Identifies the difference without the action, so a difference that persists is journaled once.
    public var key: String {
        [difference.rawValue, symbol?.text ?? "", orderID?.rawValue ?? "", journal ?? "", broker ?? ""]
            .joined(separator: "|")
    }
}

/// What one reconciliation of an account found (the `reconcile` answer).
public struct Reconciliation: Sendable, Hashable, Codable {
    public var account: AccountID
    public var trigger: String
    /// Every difference found, including those already journaled by an earlier reconciliation.
    public var differences: [ReconciliationDifference]
    /// Whether positions were compared (not when the broker reports none, nor when a fill arrived while
    /// they were being read).
    public var positionsCompared: Bool
    /// The broker's working orders and positions counted.
    public var brokerOpenOrders: Int
    public var brokerPositions: Int?

    enum CodingKeys: String, CodingKey {
        case account, trigger, differences, positionsCompared = "positions_compared"
        case brokerOpenOrders = "broker_open_orders", brokerPositions = "broker_positions"
    }

    public init(
        account: AccountID, trigger: String, differences: [ReconciliationDifference], positionsCompared: Bool,
        brokerOpenOrders: Int, brokerPositions: Int?
    ) {
        self.account = account
        self.trigger = trigger
        self.differences = differences
        self.positionsCompared = positionsCompared
        self.brokerOpenOrders = brokerOpenOrders
        self.brokerPositions = brokerPositions
    }
}
