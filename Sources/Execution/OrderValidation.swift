import GatewayCore

/// The checks that make an order well-formed, whatever the risk limits: prices present where the type
/// needs them and absent where it does not, option sides on options only, whole option contracts.
enum OrderValidation {
    static func problem(with request: SubmitOrder) -> EngineError? {
        if request.extendedHours, let problem = extendedHoursProblem(request.type, request.tif, legs: request.legs) {
            return problem
        }
        return problem(
            symbol: request.symbol, side: request.side, qty: request.qty, type: request.type,
            limit: request.limitPrice, stop: request.stopPrice, trailPrice: request.trailPrice,
            trailPercent: request.trailPercent, strategy: request.strategy, tags: request.tags)
    }

    static func problem(with order: Order) -> EngineError? {
        if order.extendedHours == true, let problem = extendedHoursProblem(order.type, order.tif, legs: order.legs) {
            return problem
        }
        return problem(
            symbol: order.symbol, side: order.side, qty: order.qty, type: order.type, limit: order.limitPrice,
            stop: order.stopPrice, trailPrice: order.trailPrice, trailPercent: order.trailPercent,
            strategy: order.strategy, tags: order.tags)
    }

    /// `extended_hours` is taken on limit orders with tif day or gtc, as US brokers take it (never on a
    /// spread: options trade in the regular session only).
    static func extendedHoursProblem(_ type: OrderType, _ tif: TimeInForce, legs: [OrderLeg]?) -> EngineError? {
        guard legs == nil, type == .limit, tif == .day || tif == .gtc else {
            return .badRequest("extended_hours", "extended_hours is taken only on limit orders with tif day or gtc")
        }
        return nil
    }

    /// The largest quantity and order value the books can carry exactly (money has six decimals in
    /// 64 bits); anything larger is a typo, refused rather than overflowing an account.
    static let maxQty = Quantity(1_000_000_000)
    static let maxNotional = Money(1_000_000_000_000)

    static func sizeProblem(qty: Quantity, price: Price?, multiplier: Int) -> EngineError? {
        if qty > maxQty { return .badRequest("qty", "qty \(qty) is over the gateway's ceiling of \(maxQty)") }
        guard let price else { return nil }
        guard let value = price.notional(qty, multiplier: multiplier), value <= maxNotional else {
            return .badRequest("qty", "the order's value is over the gateway's ceiling of \(maxNotional)")
        }
        return nil
    }

    /// How much of one symbol an account may come to hold, its position and its working orders on one side
    /// together: ten orders at the ceiling. A tenth of what the books' 64 bits reach (about 92 billion),
    /// so that the gateway's own orders never bring an account's totals near the end of the range.
    static let maxSymbolQty = Quantity(10_000_000_000)

    /// Refuses an order for `qty` of `symbol` (a leg's quantity for a spread) that would take what the
    /// account could come to hold in it — its position, its working orders on the same side, and this one
    /// — past `maxSymbolQty`, unless that is no more than the position already is: an order that reduces a
    /// position is always taken, even where the position is past the ceiling (a broker's report).
    static func ceilingProblem(side: OrderSide, qty: Quantity, symbol: Symbol, context: RiskContext) -> EngineError? {
        let projected =
            side.isBuy
            ? context.positionQty + context.openBuyQty + qty : context.positionQty - context.openSellQty - qty
        guard projected.magnitude > maxSymbolQty, projected.magnitude > context.positionQty.magnitude else {
            return nil
        }
        return .badRequest(
            "qty",
            "\(symbol) would come to \(projected) in the account with its position and working orders, over the "
                + "gateway's ceiling of \(maxSymbolQty) for one symbol")
    }

    static func problem(
        symbol: Symbol, side: OrderSide, qty: Quantity, type: OrderType, limit: Price?, stop: Price?,
        trailPrice: Price?, trailPercent: Price?, strategy: String?, tags: [String]?
    ) -> EngineError? {
        guard qty.isPositive else { return .badRequest("qty", "qty must be greater than zero") }
        if side.isOptionSide && !symbol.isOption {
            return .badRequest("side", "\(side.rawValue) is for options; \(symbol) is an equity")
        }
        if symbol.isOption && !qty.isWhole {
            return .badRequest("qty", "options trade in whole contracts")
        }
        if type.needsLimitPrice && limit == nil {
            return .badRequest("limit_price", "a \(type.rawValue) order needs limit_price")
        }
        if !type.needsLimitPrice && limit != nil {
            return .badRequest("limit_price", "a \(type.rawValue) order takes no limit_price")
        }
        if type.needsStopPrice && stop == nil {
            return .badRequest("stop_price", "a \(type.rawValue) order needs stop_price")
        }
        if !type.needsStopPrice && stop != nil {
            return .badRequest("stop_price", "a \(type.rawValue) order takes no stop_price")
        }
        if type == .trailingStop && (trailPrice == nil) == (trailPercent == nil) {
            return .badRequest(
                "trail_price", "a trailing_stop order needs exactly one of trail_price and trail_percent")
        }
        if type != .trailingStop && (trailPrice != nil || trailPercent != nil) {
            return .badRequest("trail_price", "only a trailing_stop order takes trail_price or trail_percent")
        }
        for (field, price) in [
            ("limit_price", limit), ("stop_price", stop), ("trail_price", trailPrice), ("trail_percent", trailPercent),
        ] {
            if let price, !price.isPositive { return .badRequest(field, "\(field) must be greater than zero") }
        }
        return labelProblem(strategy: strategy, tags: tags)
    }

    static func labelProblem(strategy: String?, tags: [String]?) -> EngineError? {
        if let strategy, strategy.isEmpty || strategy.utf8.count > 64 {
            return .badRequest("strategy", "strategy must be 1 to 64 characters")
        }
        if let tags, tags.count > 16 || tags.contains(where: { $0.isEmpty || $0.utf8.count > 64 }) {
            return .badRequest("tags", "at most 16 tags of 1 to 64 characters each")
        }
        return nil
    }

    /// A multi-leg order checked: 2 to 4 different option contracts on one underlying, ratios 1 to 100,
    /// market or limit (the limit is the net price per spread: positive a debit, negative a credit, zero
    /// even), whole spreads, no exits. Returns the order's symbol (the underlying) and side (`sell` for a
    /// credit, `buy` otherwise).
    static func multiLeg(_ request: SubmitOrder) -> Result<(Symbol, OrderSide), EngineError> {
        func bad(_ field: String, _ message: String) -> Result<(Symbol, OrderSide), EngineError> {
            .failure(.badRequest(field, message))
        }
        guard let legs = request.legs, (2...4).contains(legs.count) else {
            return bad("legs", "a multi-leg order needs 2 to 4 legs")
        }
        if request.takeProfit != nil || request.stopLoss != nil || (request.orderClass ?? .mleg) != .mleg {
            return bad("order_class", "a multi-leg order takes no take_profit, stop_loss or other order_class")
        }
        var root: String?
        for (index, leg) in legs.enumerated() {
            guard case .option(let contract) = leg.symbol.kind else {
                return bad(
                    "legs", "leg \(index + 1): \(leg.symbol) is not an option; multi-leg orders are option spreads")
            }
            if let root, root != contract.root {
                return bad("legs", "the legs must share one underlying, not \(root) and \(contract.root)")
            }
            root = contract.root
            if leg.side == .sellShort || leg.side == .buyToCover {
                return bad("legs", "leg \(index + 1): \(leg.side.rawValue) is for equities")
            }
            guard (1...100).contains(leg.ratio) else {
                return bad("legs", "leg \(index + 1): ratio must be 1 to 100, not \(leg.ratio)")
            }
        }
        if Set(legs.map(\.symbol)).count != legs.count {
            return bad("legs", "each leg must be a different contract")
        }
        guard request.type == .market || request.type == .limit else {
            return bad("type", "a multi-leg order is market or limit, not \(request.type.rawValue)")
        }
        if request.type == .limit && request.limitPrice == nil {
            return bad("limit_price", "a limit multi-leg order needs limit_price, the net price per spread")
        }
        if request.type == .market && request.limitPrice != nil {
            return bad("limit_price", "a market order takes no limit_price")
        }
        if request.stopPrice != nil || request.trailPrice != nil || request.trailPercent != nil {
            return bad("stop_price", "a multi-leg order takes no stop_price, trail_price or trail_percent")
        }
        guard request.qty.isPositive, request.qty.isWhole else {
            return bad("qty", "qty is a whole number of spreads greater than zero")
        }
        if let problem = labelProblem(strategy: request.strategy, tags: request.tags) { return .failure(problem) }
        guard let root, let underlying = Symbol(root) else {
            return bad("legs", "the legs' underlying is not a symbol the gateway can name")
        }
        return .success((underlying, (request.limitPrice?.isNegative ?? false) ? .sell : .buy))
    }
}
