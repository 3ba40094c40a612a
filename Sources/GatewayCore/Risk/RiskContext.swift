/// What the pre-trade checks need to know about the account when an order arrives, gathered by the
/// engine so that the checks themselves are a pure function.
public struct RiskContext: Sendable, Hashable {
    /// The signed position in the order's symbol.
    public var positionQty: Quantity
    /// Open (unfilled) quantity of working orders in the symbol: buys and sells.
    public var openBuyQty: Quantity
    public var openSellQty: Quantity
    /// The last quote's reference price for the symbol, if any.
    public var referencePrice: Price?
    /// Gross and net exposure of the account now, at marks, including working orders' projection.
    public var grossExposure: Money
    public var netExposure: Money
    public var openOrders: Int
    /// Orders accepted in the last second and since the session start.
    public var ordersLastSecond: Int
    public var ordersToday: Int
    /// Realized plus unrealized profit since the session start (negative is a loss).
    public var dailyPnL: Money
    /// Equity below its peak (zero or positive).
    public var drawdown: Money
    public var cash: Money

    public init(
        positionQty: Quantity = .zero, openBuyQty: Quantity = .zero, openSellQty: Quantity = .zero,
        referencePrice: Price? = nil, grossExposure: Money = .zero, netExposure: Money = .zero, openOrders: Int = 0,
        ordersLastSecond: Int = 0, ordersToday: Int = 0, dailyPnL: Money = .zero, drawdown: Money = .zero,
        cash: Money = .zero
    ) {
        self.positionQty = positionQty
        self.openBuyQty = openBuyQty
        self.openSellQty = openSellQty
        self.referencePrice = referencePrice
        self.grossExposure = grossExposure
        self.netExposure = netExposure
        self.openOrders = openOrders
        self.ordersLastSecond = ordersLastSecond
        self.ordersToday = ordersToday
        self.dailyPnL = dailyPnL
        self.drawdown = drawdown
        self.cash = cash
    }
}

/// The order as the checks see it.
public struct RiskOrder: Sendable, Hashable {
    public var symbol: Symbol
    public var side: OrderSide
    public var qty: Quantity
    public var type: OrderType
    public var limitPrice: Price?
    public var stopPrice: Price?

    /// The order's terms as the checks see them.
    public init(_ order: Order) {
        self.init(
            symbol: order.symbol, side: order.side, qty: order.qty, type: order.type, limitPrice: order.limitPrice,
            stopPrice: order.stopPrice)
    }

    public init(
        symbol: Symbol, side: OrderSide, qty: Quantity, type: OrderType, limitPrice: Price? = nil,
        stopPrice: Price? = nil
    ) {
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.type = type
        self.limitPrice = limitPrice
        self.stopPrice = stopPrice
    }
}
