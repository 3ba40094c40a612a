import GatewayCore

/// When and at what price a resting paper order fills against a quote. Buys take the ask, sells the bid;
/// with only a last price, both use it.
enum PaperMatching {
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
            return nil
        }
    }

    /// Whether a stop order's trigger price has been reached: at or above it for buys, at or below for sells.
    static func isTriggered(_ resting: PaperBook.Resting, quote: Quote?) -> Bool {
        guard let stop = resting.order.stopPrice, let quote else { return false }
        let buy = resting.order.side.isBuy
        guard let reference = quote.last ?? (buy ? quote.ask : quote.bid) else { return false }
        return buy ? reference >= stop : reference <= stop
    }

    static func crosses(_ touch: Price, _ limit: Price?, buy: Bool) -> Bool {
        guard let limit else { return false }
        return buy ? touch <= limit : touch >= limit
    }
}
