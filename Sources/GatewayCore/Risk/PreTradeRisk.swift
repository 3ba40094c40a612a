/// The pre-trade checks as one pure function: every check runs, and every failing one is reported with
/// its code, the limit, the value seen and a sentence (DESIGN.md contract 3). An order that only
/// reduces an existing position is never stopped by the exposure, loss or buying-power checks, so a
/// trader can always get out.
public enum PreTradeRisk {
    public static func evaluate(_ order: RiskOrder, limits: RiskLimits, context: RiskContext) -> [RiskFailure] {
        var failures: [RiskFailure] = []
        func fail(_ check: String, _ limit: String, _ value: String, _ message: String) {
            failures.append(RiskFailure(check: check, limit: limit, value: value, message: message))
        }
        let multiplier = order.symbol.multiplier
        let price = order.limitPrice ?? order.stopPrice ?? context.referencePrice
        let notional = price?.notional(order.qty, multiplier: multiplier)
        let signed = order.side.isBuy ? order.qty : -order.qty
        let sameSideOpen = order.side.isBuy ? context.openBuyQty : -context.openSellQty
        let projected = context.positionQty + sameSideOpen + signed
        let reducing =
            !context.positionQty.isZero && context.positionQty.isPositive != order.side.isBuy
            && order.qty <= context.positionQty.magnitude
        // Messages are built only for a failing check: the passing path allocates nothing.
        func unpriced() -> String { "no limit price and no quote for \(order.symbol)" }

        if let limit = limits.maxOrderQty, order.qty > limit {
            fail(
                "max_order_qty", "\(limit)", "\(order.qty)", "order quantity \(order.qty) is over the limit of \(limit)"
            )
        }
        if let limit = limits.maxOrderNotional {
            if let notional {
                if notional > limit {
                    fail(
                        "max_order_notional", "\(limit)", "\(notional)",
                        "order value \(notional) is over the limit of \(limit)")
                }
            } else {
                fail("max_order_notional", "\(limit)", "unknown", "cannot value the order: \(unpriced())")
            }
        }
        if let limit = limits.maxPositionQty, projected.magnitude > limit, !reducing {
            fail(
                "max_position", "\(limit)", "\(projected)",
                "the position would reach \(projected), over the limit of \(limit)")
        }
        if let limit = limits.maxPositionNotional, !reducing {
            if let price, let value = price.notional(projected.magnitude, multiplier: multiplier) {
                if value > limit {
                    fail(
                        "max_position", "\(limit)", "\(value)",
                        "the position would be worth \(value), over the limit of \(limit)")
                }
            } else {
                fail("max_position", "\(limit)", "unknown", "cannot value the position: \(unpriced())")
            }
        }
        if (limits.maxGrossExposure != nil || limits.maxNetExposure != nil) && !reducing {
            if let notional {
                let gross = context.grossExposure + notional
                let net = context.netExposure + (order.side.isBuy ? notional : -notional)
                if let limit = limits.maxGrossExposure, gross > limit {
                    fail(
                        "max_exposure", "\(limit)", "\(gross)",
                        "gross exposure would reach \(gross), over the limit of \(limit)")
                }
                if let limit = limits.maxNetExposure, net.magnitude > limit,
                    net.magnitude > context.netExposure.magnitude
                {
                    fail(
                        "max_exposure", "\(limit)", "\(net)",
                        "net exposure would reach \(net), over the limit of \(limit)")
                }
            } else {
                fail(
                    "max_exposure", "\(limits.maxGrossExposure ?? limits.maxNetExposure!)", "unknown",
                    "cannot value the order: \(unpriced())")
            }
        }
        if let limit = limits.maxOpenOrders, context.openOrders + 1 > limit {
            fail(
                "max_open_orders", "\(limit)", "\(context.openOrders + 1)",
                "\(context.openOrders) orders are already working; the limit is \(limit)")
        }
        if let limit = limits.maxOrdersPerSecond, context.ordersLastSecond + 1 > limit {
            fail(
                "order_rate", "\(limit)/s", "\(context.ordersLastSecond + 1)/s",
                "more than \(limit) orders in one second")
        }
        if let limit = limits.maxOrdersPerDay, context.ordersToday + 1 > limit {
            fail(
                "order_rate", "\(limit)/day", "\(context.ordersToday + 1)/day",
                "more than \(limit) orders since the session start")
        }
        if let limit = limits.maxDailyLoss, -context.dailyPnL >= limit, !reducing {
            fail(
                "daily_loss", "\(limit)", "\(-context.dailyPnL)",
                "today's loss \(-context.dailyPnL) has reached the limit of \(limit)")
        }
        if let limit = limits.maxDrawdown, context.drawdown >= limit, !reducing {
            fail(
                "drawdown", "\(limit)", "\(context.drawdown)",
                "the drawdown \(context.drawdown) has reached the limit of \(limit)")
        }
        if let collar = limits.priceCollarPct, let reference = context.referencePrice, reference.isPositive {
            // |candidate − reference| × 100 / reference, compared without division: a × 100 > pct × ref.
            let allowed = Int128(collar.units) * Int128(reference.units) / Int128(Price.unitsPerOne)
            func check(_ name: String, _ candidate: Price?) {
                guard let candidate, Int128((candidate - reference).magnitude.units) * 100 > allowed else { return }
                fail(
                    "price_collar", "\(collar)%", "\(candidate)",
                    "the \(name) price \(candidate) is more than \(collar)% from the last price \(reference)")
            }
            check("limit", order.limitPrice)
            check("stop", order.stopPrice)
        }
        if limits.requireReferencePrice && context.referencePrice == nil {
            fail("no_reference_price", "a quote", "none", "no quote is known for \(order.symbol)")
        }
        // Short lists are scanned rather than hashed: cheaper, and the same answer.
        let restricted =
            limits.restrictedSymbols.count <= 16
            ? limits.restrictedSymbols.contains { $0 == order.symbol } : limits.restrictedSymbols.contains(order.symbol)
        if restricted {
            fail("restricted_symbol", "restricted", "\(order.symbol)", "\(order.symbol) is on the restricted list")
        } else if let allowed = limits.allowedSymbols, !allowed.contains(order.symbol) {
            fail("restricted_symbol", "allowed list", "\(order.symbol)", "\(order.symbol) is not on the allowed list")
        }
        if let allowed = limits.allowedOrderTypes, !allowed.contains(where: { $0 == order.type }) {
            fail(
                "order_type_not_allowed", allowed.map(\.rawValue).sorted().joined(separator: ","), order.type.rawValue,
                "\(order.type.rawValue) orders are not allowed on this account")
        }
        if let limit = limits.maxOptionContracts, order.symbol.isOption, order.qty > limit {
            fail(
                "max_option_contracts", "\(limit)", "\(order.qty)",
                "\(order.qty) contracts is over the limit of \(limit)")
        }
        if !limits.allowShort, !order.side.isBuy,
            order.side == .sellShort || order.side == .sellToOpen || projected.isNegative
        {
            fail(
                "short_not_allowed", "no shorts", "\(projected)",
                "the order would leave a short position of \(projected)")
        }
        if let factor = limits.buyingPowerMultiplier, order.side.isBuy, !reducing {
            let power = Money(
                units: Int64(Int128(context.cash.units) * Int128(factor.units) / Int128(Price.unitsPerOne)))
            if let notional {
                let committed = (price?.notional(context.openBuyQty, multiplier: multiplier) ?? .zero) + notional
                if committed > power {
                    fail(
                        "buying_power", "\(power)", "\(committed)",
                        "the order needs \(committed); buying power is \(power)")
                }
            } else {
                fail("buying_power", "\(power)", "unknown", "cannot value the order: \(unpriced())")
            }
        }
        return failures
    }
}
