/// Which way an order trades. Option sides say whether they open or close.
public enum OrderSide: String, Sendable, Hashable, Codable, CaseIterable {
    case buy, sell
    case sellShort = "sell_short"
    case buyToCover = "buy_to_cover"
    case buyToOpen = "buy_to_open"
    case buyToClose = "buy_to_close"
    case sellToOpen = "sell_to_open"
    case sellToClose = "sell_to_close"

    /// Whether the order adds to (buys) or takes from (sells) the position.
    public var isBuy: Bool {
        switch self {
        case .buy, .buyToCover, .buyToOpen, .buyToClose: true
        case .sell, .sellShort, .sellToOpen, .sellToClose: false
        }
    }

    /// Whether this side is for option orders only.
    public var isOptionSide: Bool {
        switch self {
        case .buyToOpen, .buyToClose, .sellToOpen, .sellToClose: true
        case .buy, .sell, .sellShort, .buyToCover: false
        }
    }
}

/// The gateway's order types; each adapter maps them to its broker's (DESIGN.md contract 6).
public enum OrderType: String, Sendable, Hashable, Codable, CaseIterable {
    case market, limit, stop
    case stopLimit = "stop_limit"
    case trailingStop = "trailing_stop"

    public var needsLimitPrice: Bool { self == .limit || self == .stopLimit }
    public var needsStopPrice: Bool { self == .stop || self == .stopLimit }
}

/// How long an order works.
public enum TimeInForce: String, Sendable, Hashable, Codable, CaseIterable {
    case day, gtc, ioc, fok, opg, cls
}

/// One leg of a multi-leg (spread) order: a contract, the way it trades, and how many of it make one
/// unit of the spread. A spread of `qty` units trades `qty × ratio` of each leg.
public struct OrderLeg: Sendable, Hashable, Codable {
    public var symbol: Symbol
    public var side: OrderSide
    public var ratio: Int

    public init(symbol: Symbol, side: OrderSide, ratio: Int = 1) {
        self.symbol = symbol
        self.side = side
        self.ratio = ratio
    }

    /// How much of this leg `spreads` units of the spread trade: `spreads × ratio`.
    public func quantity(_ spreads: Quantity) -> Quantity { spreads.times(ratio) }
}

/// How an order is tied to others, as brokers name it. `nil` on an order is a simple order.
/// - `bracket`: an entry with a stop and a target, held until the entry fills, then one-cancels-other.
/// - `oto`: an entry with one exit, held until the entry fills (one-triggers-other).
/// - `oco`: a limit (the target) and a stop, both working at once; when one fills the other is
///   canceled (one-cancels-other). The stop names the limit as its parent.
/// - `mleg`: a multi-leg spread filled all-or-none at a net price.
public enum OrderClass: String, Sendable, Hashable, Codable, CaseIterable {
    case bracket, oto, oco, mleg
}
