/// An account's pre-trade limits (issue: pre-trade risk). Every limit is optional: absent means no limit.
public struct RiskLimits: Sendable, Hashable {
    public var maxOrderQty: Quantity?
    public var maxOrderNotional: Money?
    public var maxPositionQty: Quantity?
    public var maxPositionNotional: Money?
    public var maxGrossExposure: Money?
    public var maxNetExposure: Money?
    public var maxOpenOrders: Int?
    public var maxOrdersPerSecond: Int?
    public var maxOrdersPerDay: Int?
    public var maxDailyLoss: Money?
    public var maxDrawdown: Money?
    /// How far (percent of the reference price) a limit or stop price may stray from the last quote.
    public var priceCollarPct: Price?
    public var requireReferencePrice: Bool
    public var restrictedSymbols: Set<Symbol>
    public var allowedSymbols: Set<Symbol>?
    public var allowedOrderTypes: Set<OrderType>?
    public var maxOptionContracts: Quantity?
    public var allowShort: Bool
    /// Cash × this must cover a buy's cost (1 is a cash account); `nil` skips the check.
    public var buyingPowerMultiplier: Price?
    /// The state an account moves to on its own when its daily loss or drawdown reaches the limit.
    public var onLossBreach: TradingState = .halted

    public init(
        maxOrderQty: Quantity? = nil, maxOrderNotional: Money? = nil, maxPositionQty: Quantity? = nil,
        maxPositionNotional: Money? = nil, maxGrossExposure: Money? = nil, maxNetExposure: Money? = nil,
        maxOpenOrders: Int? = nil, maxOrdersPerSecond: Int? = nil, maxOrdersPerDay: Int? = nil,
        maxDailyLoss: Money? = nil, maxDrawdown: Money? = nil, priceCollarPct: Price? = nil,
        requireReferencePrice: Bool = false, restrictedSymbols: Set<Symbol> = [], allowedSymbols: Set<Symbol>? = nil,
        allowedOrderTypes: Set<OrderType>? = nil, maxOptionContracts: Quantity? = nil, allowShort: Bool = true,
        buyingPowerMultiplier: Price? = nil
    ) {
        self.maxOrderQty = maxOrderQty
        self.maxOrderNotional = maxOrderNotional
        self.maxPositionQty = maxPositionQty
        self.maxPositionNotional = maxPositionNotional
        self.maxGrossExposure = maxGrossExposure
        self.maxNetExposure = maxNetExposure
        self.maxOpenOrders = maxOpenOrders
        self.maxOrdersPerSecond = maxOrdersPerSecond
        self.maxOrdersPerDay = maxOrdersPerDay
        self.maxDailyLoss = maxDailyLoss
        self.maxDrawdown = maxDrawdown
        self.priceCollarPct = priceCollarPct
        self.requireReferencePrice = requireReferencePrice
        self.restrictedSymbols = restrictedSymbols
        self.allowedSymbols = allowedSymbols
        self.allowedOrderTypes = allowedOrderTypes
        self.maxOptionContracts = maxOptionContracts
        self.allowShort = allowShort
        self.buyingPowerMultiplier = buyingPowerMultiplier
    }

    /// No limits at all.
    public static var none: RiskLimits { RiskLimits() }

    /// The limits a strategy's orders face: the strategy's own overriding the account's for what concerns
    /// one order (its quantity and value, the position in its symbol, the price collar, order types,
    /// option contracts), and the stricter of the two for what concerns the whole account (exposure,
    /// open orders, order rate, daily loss, drawdown, buying power), so no strategy can take the account
    /// past the account's own limits. Symbol lists only narrow: a symbol restricted by either is
    /// restricted, and one must be on both allowed lists; shorting and the need for a quote are likewise
    /// the stricter of the two.
    public func overridden(by strategy: RiskLimits) -> RiskLimits {
        func stricter<T: Comparable>(_ a: T?, _ b: T?) -> T? {
            guard let a else { return b }
            guard let b else { return a }
            return Swift.min(a, b)
        }
        var merged = self
        merged.maxOrderQty = strategy.maxOrderQty ?? maxOrderQty
        merged.maxOrderNotional = strategy.maxOrderNotional ?? maxOrderNotional
        merged.maxPositionQty = strategy.maxPositionQty ?? maxPositionQty
        merged.maxPositionNotional = strategy.maxPositionNotional ?? maxPositionNotional
        merged.priceCollarPct = strategy.priceCollarPct ?? priceCollarPct
        merged.allowedOrderTypes = strategy.allowedOrderTypes ?? allowedOrderTypes
        merged.maxOptionContracts = strategy.maxOptionContracts ?? maxOptionContracts
        merged.maxGrossExposure = stricter(maxGrossExposure, strategy.maxGrossExposure)
        merged.maxNetExposure = stricter(maxNetExposure, strategy.maxNetExposure)
        merged.maxOpenOrders = stricter(maxOpenOrders, strategy.maxOpenOrders)
        merged.maxOrdersPerSecond = stricter(maxOrdersPerSecond, strategy.maxOrdersPerSecond)
        merged.maxOrdersPerDay = stricter(maxOrdersPerDay, strategy.maxOrdersPerDay)
        merged.maxDailyLoss = stricter(maxDailyLoss, strategy.maxDailyLoss)
        merged.maxDrawdown = stricter(maxDrawdown, strategy.maxDrawdown)
        merged.buyingPowerMultiplier = stricter(buyingPowerMultiplier, strategy.buyingPowerMultiplier)
        merged.restrictedSymbols = restrictedSymbols.union(strategy.restrictedSymbols)
        switch (allowedSymbols, strategy.allowedSymbols) {
        case (let a?, let b?): merged.allowedSymbols = a.intersection(b)
        case (let a, let b): merged.allowedSymbols = a ?? b
        }
        merged.allowShort = allowShort && strategy.allowShort
        merged.requireReferencePrice = requireReferencePrice || strategy.requireReferencePrice
        return merged
    }
}

/// One failed pre-trade check: a stable code, the limit, the value seen, and words for a person.
public struct RiskFailure: Sendable, Hashable, Codable {
    public var check: String
    public var limit: String
    public var value: String
    public var message: String

    public init(check: String, limit: String, value: String, message: String) {
        self.check = check
        self.limit = limit
        self.value = value
        self.message = message
    }
}
