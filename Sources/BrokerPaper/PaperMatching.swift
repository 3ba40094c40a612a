import BrokerAPI
import GatewayCore

/// When and at what price a resting paper order fills against a quote. Buys take the ask, sells the bid;
/// with only a last price, both use it.
enum PaperMatching {
    /// A multi-leg order's fill, all legs or none: each leg at its touch (the ask for a leg bought, the bid
    /// for a leg sold; the last price when the quote has no side), the net per spread the sum of the legs
    /// bought less the legs sold, times their ratios (positive a debit). A limit order fills when the net
    /// is at or below its net limit (a credit spread's limit is negative: at least that credit).
    static func spreadFill(for order: Order.SharedTerms, quotes: [Symbol: Quote]) -> (
        net: Price, legs: [BrokerLegFill]
    )? {
        guard let legs = order.legs else { return nil }
        var net = Price.zero
        var priced: [BrokerLegFill] = []
        for leg in legs {
            guard let quote = quotes[leg.symbol],
                let touch = leg.side.isBuy ? (quote.ask ?? quote.last) : (quote.bid ?? quote.last)
            else { return nil }
            let signed = touch.times(leg.ratio)
            net = leg.side.isBuy ? net + signed : net - signed
            priced.append(BrokerLegFill(symbol: leg.symbol, price: touch))
        }
        switch order.type {
        case .market: return (net, priced)
        case .limit: return order.limitPrice.map { net <= $0 } == true ? (net, priced) : nil
        case .stop, .stopLimit, .trailingStop: return nil
        }
    }

    static func fillPrice(for resting: PaperBook.Resting, quote: Quote?) -> Price? {
        guard let quote else { return nil }
        let order = resting.order
        let buy = order.side.isBuy
        guard let touch = buy ? (quote.ask ?? quote.last) : (quote.bid ?? quote.last) else { return nil }
        let live = resting.triggered || isTriggered(resting, quote: quote)
        switch order.type {
        case .market:
            return touch
        case .limit:
            return crosses(touch, order.limitPrice, buy: buy) ? touch : nil
        case .stop:
            return live ? touch : nil
        case .stopLimit:
            return live && crosses(touch, order.limitPrice, buy: buy) ? touch : nil
        case .trailingStop:
            return resting.triggered ? touch : nil
        }
    }

    /// A trailing stop against a quote: its best price after it (the highest reference for a sell, the
    /// lowest for a buy; the reference is the last price, else the bid for a sell or the ask for a buy),
    /// and whether the reference has come back by the trail — a price, or a percent of the best price.
    static func trail(_ resting: PaperBook.Resting, quote: Quote) -> (watermark: Price?, triggered: Bool) {
        let order = resting.order
        let buy = order.side.isBuy
        guard let reference = quote.last ?? (buy ? quote.ask : quote.bid) else { return (resting.watermark, false) }
        let best = resting.watermark.map { buy ? min($0, reference) : max($0, reference) } ?? reference
        let offset: Price
        if let trail = order.trailPrice {
            offset = trail
        } else if let percent = order.trailPercent {
            offset = PaperSlippage.fraction(of: best, times: percent, over: 100)
        } else {
            return (best, false)
        }
        return (best, buy ? reference >= best + offset : reference <= best - offset)
    }

    /// How much the quote offers at `touch` for this side (the ask's size for a buy, the bid's for a sell);
    /// `nil` when it does not say (no size, or the touch was the last price), and then nothing bounds a fill.
    static func size(at touch: Price, buy: Bool, quote: Quote) -> Quantity? {
        buy ? (quote.ask == touch ? quote.askSize : nil) : (quote.bid == touch ? quote.bidSize : nil)
    }

    /// The fill price after slippage; a limit (or stop-limit) order's never past its limit.
    static func slipped(_ touch: Price, order: Order.SharedTerms, quote: Quote, slippage: PaperSlippage) -> Price {
        let buy = order.side.isBuy
        let price = slippage.price(touch: touch, buy: buy, quote: quote)
        guard let limit = order.limitPrice, order.type == .limit || order.type == .stopLimit else { return price }
        return buy ? min(price, limit) : max(price, limit)
    }

    /// Whether a stop order's trigger price has been reached: at or above it for buys, at or below for sells.
    static func isTriggered(_ resting: PaperBook.Resting, quote: Quote?) -> Bool {
        guard let stop = resting.order.stopPrice, let quote else { return false }
        let buy = resting.order.side.isBuy
        guard let reference = quote.last ?? (buy ? quote.ask : quote.bid) else { return false }
        return buy ? reference >= stop : reference <= stop
    }

    /// A limit order that has been working: a limit, or a stop-limit triggered before this quote.
    static func isRestingLimit(_ resting: PaperBook.Resting) -> Bool {
        resting.order.type == .limit || (resting.order.type == .stopLimit && resting.triggered)
    }

    /// `rate` of `volume`, rounded down (to whole shares with `whole`).
    static func share(of volume: Quantity, rate: Price, whole: Bool) -> Quantity {
        let product = Int128(volume.units) * Int128(rate.units) / Int128(Price.unitsPerOne)
        let units = Int64(clamping: product)
        return Quantity(units: whole ? units - units % Quantity.unitsPerOne : units)
    }

    static func crosses(_ touch: Price, _ limit: Price?, buy: Bool) -> Bool {
        guard let limit else { return false }
        return buy ? touch <= limit : touch >= limit
    }
}
