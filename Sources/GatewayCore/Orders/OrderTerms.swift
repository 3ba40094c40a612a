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
