public import GatewayCore

/// What a broker reports about orders and the connection. Orders are named by the gateway's `OrderID`.
public enum BrokerEvent: Sendable, Hashable {
    case acknowledged(OrderID, brokerOrderID: String, ts: Timestamp)
    case fill(BrokerFill)
    case canceled(OrderID, reason: String?, ts: Timestamp)
    case cancelRejected(OrderID, reason: String, ts: Timestamp)
    /// `old` was replaced by `new`, which the broker now works under `brokerOrderID`.
    case replaced(old: OrderID, new: OrderID, brokerOrderID: String, ts: Timestamp)
    case replaceRejected(old: OrderID, new: OrderID, reason: String, ts: Timestamp)
    case expired(OrderID, ts: Timestamp)
    case rejected(OrderID, reason: String, ts: Timestamp)
    case connection(BrokerConnectionState, detail: String?)
    /// What the broker holds, in answer to `reconcile()`.
    case snapshot(BrokerSnapshot)
    /// An option position ended at its expiry: expired worthless, or exercised (held long) or assigned
    /// (held short) into the underlying at the strike.
    case settlement(BrokerSettlement)
}

/// How an option position ended at its expiry, as the broker booked it.
public struct BrokerSettlement: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case expired, exercised, assigned
    }

    /// Unique per position and expiry (the contract and its expiry date): the same settlement reported
    /// twice is booked once.
    public var id: String
    public var kind: Kind
    public var option: Symbol
    /// The option position it ends, in contracts (positive: held long).
    public var contracts: Quantity
    /// What an exercise or assignment delivers: the underlying and its shares (positive: received).
    public var underlying: Symbol?
    public var shares: Quantity
    public var strike: Price
    public var ts: Timestamp

    public init(
        id: String, kind: Kind, option: Symbol, contracts: Quantity, underlying: Symbol?, shares: Quantity,
        strike: Price, ts: Timestamp
    ) {
        self.id = id
        self.kind = kind
        self.option = option
        self.contracts = contracts
        self.underlying = underlying
        self.shares = shares
        self.strike = strike
        self.ts = ts
    }
}

/// One execution as the broker reports it.
public struct BrokerFill: Sendable, Hashable, Codable {
    public var orderID: OrderID
    public var fillID: FillID
    public var qty: Quantity
    public var price: Price
    public var commission: Money
    public var ts: Timestamp
    /// For a multi-leg order: `qty` is in spreads, `price` the net price per spread (positive a debit,
    /// negative a credit), and this is what each leg traded at.
    public var legs: [BrokerLegFill]?

    public init(
        orderID: OrderID, fillID: FillID, qty: Quantity, price: Price, commission: Money = .zero, ts: Timestamp,
        legs: [BrokerLegFill]? = nil
    ) {
        self.legs = legs
        self.orderID = orderID
        self.fillID = fillID
        self.qty = qty
        self.price = price
        self.commission = commission
        self.ts = ts
    }
}

/// The state of a broker connection.
public enum BrokerConnectionState: String, Sendable, Hashable, Codable {
    case disconnected, connecting, connected
}

/// One leg's price in a multi-leg fill.
public struct BrokerLegFill: Sendable, Hashable, Codable {
    public var symbol: Symbol
    public var price: Price

    public init(symbol: Symbol, price: Price) {
        self.symbol = symbol
        self.price = price
    }
}
