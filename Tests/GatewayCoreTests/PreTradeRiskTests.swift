import GatewayCore
import Testing

@Suite struct PreTradeRiskTests {
    let aapl = Symbol("AAPL")!

    func buy(_ qty: String, limit: String? = "100", type: OrderType = .limit, symbol: String = "AAPL") -> RiskOrder {
        RiskOrder(
            symbol: Symbol(symbol)!, side: .buy, qty: Quantity(qty)!, type: type, limitPrice: limit.flatMap(Price.init))
    }

    func sell(_ qty: String, side: OrderSide = .sell) -> RiskOrder {
        RiskOrder(symbol: aapl, side: side, qty: Quantity(qty)!, type: .market)
    }

    func checks(
        _ order: RiskOrder, _ limits: RiskLimits, _ context: RiskContext = RiskContext(referencePrice: Price(100))
    ) -> [String] {
        PreTradeRisk.evaluate(order, limits: limits, context: context).map(\.check)
    }

    @Test(arguments: [("99", false), ("100", false), ("100.00000001", true)])
    func maxOrderQtyAtUnderAndOver(qty: String, fails: Bool) {
        #expect(
            checks(buy(qty, limit: "1"), RiskLimits(maxOrderQty: Quantity(100))) == (fails ? ["max_order_qty"] : []))
    }

    @Test(arguments: [("99.99", false), ("100", false), ("100.01", true)])
    func maxOrderNotionalAtUnderAndOver(price: String, fails: Bool) {
        #expect(
            checks(buy("100", limit: price), RiskLimits(maxOrderNotional: Money(10_000)))
                == (fails ? ["max_order_notional"] : []))
    }

    @Test func aMarketOrderIsValuedAtTheQuoteAndRefusedWithoutOne() {
        let limits = RiskLimits(maxOrderNotional: Money(1_000))
        #expect(checks(buy("11", limit: nil, type: .market), limits) == ["max_order_notional"])
        #expect(checks(buy("10", limit: nil, type: .market), limits) == [])
        let unpriced = PreTradeRisk.evaluate(
            buy("1", limit: nil, type: .market), limits: limits, context: RiskContext())
        #expect(unpriced.map(\.value) == ["unknown"])
    }

    @Test func maxPositionCountsWorkingOrdersOnTheSameSide() {
        let limits = RiskLimits(maxPositionQty: Quantity(100))
        let context = RiskContext(positionQty: Quantity(50), openBuyQty: Quantity(40), referencePrice: Price(100))
        #expect(checks(buy("10"), limits, context) == [])
        #expect(checks(buy("11"), limits, context) == ["max_position"])
        // Selling out of a position the limit already exceeds is always allowed.
        let over = RiskContext(positionQty: Quantity(150), referencePrice: Price(100))
        #expect(checks(sell("50"), limits, over) == [])
    }

    @Test func maxPositionNotionalUsesTheContractMultiplier() {
        let limits = RiskLimits(maxPositionNotional: Money(1_000))
        let option = RiskOrder(
            symbol: Symbol("AAPL  261218C00200000")!, side: .buyToOpen, qty: Quantity(3), type: .limit,
            limitPrice: Price("3.33"))
        #expect(checks(option, limits) == [])
        let more = RiskOrder(
            symbol: option.symbol, side: .buyToOpen, qty: Quantity(4), type: .limit, limitPrice: Price("3.33"))
        #expect(checks(more, limits) == ["max_position"])
    }

    @Test func exposureLimitsProjectTheOrder() {
        let limits = RiskLimits(maxGrossExposure: Money(50_000), maxNetExposure: Money(20_000))
        let context = RiskContext(referencePrice: Price(100), grossExposure: Money(40_000), netExposure: Money(15_000))
        #expect(checks(buy("50"), limits, context) == [])
        #expect(checks(buy("51"), limits, context) == ["max_exposure"])
        #expect(checks(buy("101"), limits, context) == ["max_exposure", "max_exposure"])
    }

    @Test(arguments: [(9, false), (10, true)])
    func maxOpenOrders(open: Int, fails: Bool) {
        #expect(
            checks(buy("1"), RiskLimits(maxOpenOrders: 10), RiskContext(openOrders: open))
                == (fails ? ["max_open_orders"] : []))
    }

    @Test func orderRatePerSecondAndPerDay() {
        let limits = RiskLimits(maxOrdersPerSecond: 5, maxOrdersPerDay: 100)
        #expect(checks(buy("1"), limits, RiskContext(ordersLastSecond: 4, ordersToday: 99)) == [])
        #expect(
            checks(buy("1"), limits, RiskContext(ordersLastSecond: 5, ordersToday: 100)) == [
                "order_rate", "order_rate",
            ])
    }

    @Test func dailyLossAndDrawdownStopNewRiskButNotExits() {
        let limits = RiskLimits(maxDailyLoss: Money(1_000), maxDrawdown: Money(5_000))
        let breached = RiskContext(
            positionQty: Quantity(10), referencePrice: Price(100), dailyPnL: Money(-1_000), drawdown: Money(5_000))
        #expect(checks(buy("1"), limits, breached) == ["daily_loss", "drawdown"])
        #expect(checks(sell("10"), limits, breached) == [])
        let under = RiskContext(referencePrice: Price(100), dailyPnL: Money("-999.99")!, drawdown: Money("4999.99")!)
        #expect(checks(buy("1"), limits, under) == [])
    }

    @Test(arguments: [("105", false), ("105.01", true), ("95", false), ("94.99", true)])
    func priceCollarAroundTheLastPrice(limit: String, fails: Bool) {
        #expect(checks(buy("1", limit: limit), RiskLimits(priceCollarPct: Price(5))) == (fails ? ["price_collar"] : []))
    }

    @Test func referencePriceRestrictedSymbolsAndOrderTypes() {
        #expect(
            checks(buy("1", limit: nil, type: .market), RiskLimits(requireReferencePrice: true), RiskContext()) == [
                "no_reference_price"
            ])
        #expect(checks(buy("1"), RiskLimits(restrictedSymbols: [aapl])) == ["restricted_symbol"])
        #expect(checks(buy("1"), RiskLimits(allowedSymbols: [Symbol("MSFT")!])) == ["restricted_symbol"])
        #expect(checks(buy("1"), RiskLimits(allowedOrderTypes: [.market])) == ["order_type_not_allowed"])
    }

    @Test func optionContractsAndShorts() {
        let option = RiskOrder(
            symbol: Symbol("AAPL  261218C00200000")!, side: .buyToOpen, qty: Quantity(11), type: .market)
        #expect(checks(option, RiskLimits(maxOptionContracts: Quantity(10))) == ["max_option_contracts"])
        let noShorts = RiskLimits(allowShort: false)
        #expect(checks(sell("5"), noShorts, RiskContext(positionQty: Quantity(5))) == [])
        #expect(checks(sell("6"), noShorts, RiskContext(positionQty: Quantity(5))) == ["short_not_allowed"])
        #expect(
            checks(sell("1", side: .sellShort), noShorts, RiskContext(positionQty: Quantity(5))) == [
                "short_not_allowed"
            ])
    }

    @Test(arguments: [("10000.01", false), ("10000", false), ("9999.99", true)])
    func buyingPowerCoversTheOrderAndOpenBuys(cash: String, fails: Bool) {
        // 50 shares already bid for and 50 more, all at 100: 10 000 is needed.
        let context = RiskContext(openBuyQty: Quantity(50), referencePrice: Price(100), cash: Money(cash)!)
        #expect(
            checks(buy("50"), RiskLimits(buyingPowerMultiplier: Price(1)), context) == (fails ? ["buying_power"] : []))
    }

    @Test func marginMultipliesBuyingPower() {
        let context = RiskContext(referencePrice: Price(100), cash: Money(2_500))
        #expect(checks(buy("50"), RiskLimits(buyingPowerMultiplier: Price(2)), context) == [])
        #expect(checks(buy("51"), RiskLimits(buyingPowerMultiplier: Price(2)), context) == ["buying_power"])
    }

    @Test func everyFailingCheckIsReportedAtOnce() {
        let limits = RiskLimits(
            maxOrderQty: Quantity(1), maxOrderNotional: Money(1), maxOpenOrders: 0, restrictedSymbols: [aapl])
        let failures = PreTradeRisk.evaluate(buy("2"), limits: limits, context: RiskContext(referencePrice: Price(100)))
        #expect(
            failures.map(\.check) == ["max_order_qty", "max_order_notional", "max_open_orders", "restricted_symbol"])
        #expect(failures[0].limit == "1" && failures[0].value == "2")
    }
}

@Suite struct TradingStateTests {
    @Test func haltedAllowsNoNewOrder() {
        #expect(TradingState.halted.denial(side: .sell, qty: Quantity(1), position: Quantity(10)) != nil)
    }

    @Test func reducingAllowsOnlyOrdersThatShrinkThePosition() {
        let state = TradingState.reducing
        #expect(state.denial(side: .sell, qty: Quantity(10), position: Quantity(10)) == nil)
        #expect(state.denial(side: .sell, qty: Quantity(11), position: Quantity(10)) != nil)
        #expect(state.denial(side: .buy, qty: Quantity(1), position: Quantity(10)) != nil)
        #expect(state.denial(side: .buyToCover, qty: Quantity(5), position: Quantity(-5)) == nil)
        #expect(state.denial(side: .buy, qty: Quantity(1), position: .zero) != nil)
    }

    @Test func theStricterStateWins() {
        #expect(TradingState.active.combined(with: .reducing) == .reducing)
        #expect(TradingState.reducing.combined(with: .halted) == .halted)
        #expect(TradingState.active.combined(with: .active) == .active)
    }
}
