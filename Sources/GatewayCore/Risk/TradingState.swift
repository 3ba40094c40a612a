/// What an account (or the whole gateway) may do (the trading states of the kill switch).
public enum TradingState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Everything allowed.
    case active
    /// Only orders that reduce an existing position, and cancels.
    case reducing
    /// Cancels only.
    case halted

    /// The stricter of two states.
    public func combined(with other: TradingState) -> TradingState {
        switch (self, other) {
        case (.halted, _), (_, .halted): .halted
        case (.reducing, _), (_, .reducing): .reducing
        case (.active, .active): .active
        }
    }

    /// Why a new order with this side and quantity is not allowed against `position`, or `nil`.
    public func denial(side: OrderSide, qty: Quantity, position: Quantity) -> String? {
        switch self {
        case .active:
            return nil
        case .halted:
            return "trading is halted: only cancels are accepted"
        case .reducing:
            let reduces = !position.isZero && position.isPositive != side.isBuy && qty <= position.magnitude
            return reduces ? nil : "trading is reducing: only orders that reduce a position are accepted"
        }
    }
}

/// A change of trading state, as journaled, pushed in `trading_state` events and answered by `halt` and
/// `resume`. Without an account it applies to the whole gateway.
public struct TradingStateChange: Sendable, Hashable, Codable {
    public var scope: String
    public var account: AccountID?
    public var state: TradingState
    public var reason: String?
    /// For a halt with `cancel_open`: the orders now pending cancel.
    public var canceled: [OrderID]?
    /// What made the change: `operator` (halt, resume, SIGUSR1) or `risk_limit` (a loss or drawdown
    /// limit was reached). Absent in events journaled before it was recorded.
    public var cause: String?

    public init(
        account: AccountID?, state: TradingState, reason: String?, canceled: [OrderID]? = nil, cause: String? = nil
    ) {
        self.cause = cause
        self.scope = account == nil ? "gateway" : "account"
        self.account = account
        self.state = state
        self.reason = reason
        self.canceled = canceled
    }
}
