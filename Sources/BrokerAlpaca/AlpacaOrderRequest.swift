public import GatewayCore

/// The body of `POST /v2/orders` (the reference's §2), made from a gateway order. Decimals go as strings,
/// as Alpaca's own examples send them; the gateway's `OrderID` goes as `client_order_id`, so Alpaca itself
/// refuses a second order with the same id and an order can always be found again after a crash.
public struct AlpacaOrderRequest: Sendable, Hashable, Encodable {
    public var symbol: String?
    public var qty: String
    public var side: String?
    public var type: String
    public var timeInForce: String
    public var limitPrice: String?
    public var stopPrice: String?
    public var trailPrice: String?
    public var trailPercent: String?
    public var extendedHours: Bool?
    public var clientOrderID: String
    public var orderClass: String?
    public var takeProfit: TakeProfit?
    public var stopLoss: StopLoss?
    public var positionIntent: String?

    public struct TakeProfit: Sendable, Hashable, Encodable {
        public var limitPrice: String
        enum CodingKeys: String, CodingKey { case limitPrice = "limit_price" }
    }

    public struct StopLoss: Sendable, Hashable, Encodable {
        public var stopPrice: String
        public var limitPrice: String?
        enum CodingKeys: String, CodingKey { case stopPrice = "stop_price", limitPrice = "limit_price" }
    }

    enum CodingKeys: String, CodingKey {
        case symbol, qty, side, type, timeInForce = "time_in_force", limitPrice = "limit_price"
        case stopPrice = "stop_price", trailPrice = "trail_price", trailPercent = "trail_percent"
        case extendedHours = "extended_hours", clientOrderID = "client_order_id", orderClass = "order_class"
        case takeProfit = "take_profit", stopLoss = "stop_loss", positionIntent = "position_intent"
    }

    /// A simple order: the order's terms as Alpaca names them. Options go by their compact OCC symbol
    /// with the side's open/close intent.
    public init(_ order: Order) {
        symbol = order.symbol.isOption ? Self.compact(order.symbol) : order.symbol.text
        qty = order.qty.description
        side = order.side.isBuy ? "buy" : "sell"
        type = order.type.rawValue
        timeInForce = order.tif.rawValue
        limitPrice = order.limitPrice?.description
        stopPrice = order.stopPrice?.description
        trailPrice = order.trailPrice?.description
        trailPercent = order.trailPercent?.description
        clientOrderID = order.orderID.rawValue
        switch order.side {
        case .buyToOpen, .buyToClose, .sellToOpen, .sellToClose: positionIntent = order.side.rawValue
        case .buy, .sell, .sellShort, .buyToCover: positionIntent = nil
        }
    }

    /// An entry with its protective stop and/or profit target as one Alpaca bracket (both) or OTO (one):
    /// the children carry only their prices; Alpaca names them itself.
    public init(entry: Order, stop: Order?, target: Order?) {
        self.init(entry)
        orderClass = stop != nil && target != nil ? "bracket" : "oto"
        takeProfit = target?.limitPrice.map { TakeProfit(limitPrice: $0.description) }
        stopLoss = stop.flatMap { stop in
            stop.stopPrice.map { StopLoss(stopPrice: $0.description, limitPrice: stop.limitPrice?.description) }
        }
    }

    /// `AAPL  261218C00200000` → `AAPL261218C00200000`, as Alpaca takes option symbols.
    static func compact(_ symbol: Symbol) -> String {
        guard case .option(let contract) = symbol.kind else { return symbol.text }
        return contract.compactSymbol
    }
}

/// What Alpaca cannot take, checked before an order is accepted so that nothing is sent (the reference's
/// §2 "per asset class"). Where the reference is unsure (`gtc` for options), the stricter reading wins.
public enum AlpacaSupport {
    public static func unsupportedReason(for order: Order) -> String? {
        if order.symbol.isOption {
            if ![.market, .limit, .stop, .stopLimit].contains(order.type) {
                return "Alpaca takes options as market, limit, stop or stop_limit orders, not \(order.type.rawValue)"
            }
            if order.tif != .day {
                return "Alpaca takes options with time in force day only, not \(order.tif.rawValue)"
            }
            if !order.qty.isWhole { return "option quantities are whole contracts" }
            return nil
        }
        switch order.side {
        case .buyToOpen, .buyToClose, .sellToOpen, .sellToClose:
            return "\(order.side.rawValue) is for options; \(order.symbol.text) is an equity"
        case .buy, .sell, .sellShort, .buyToCover: break
        }
        if !order.qty.isWhole && (order.type != .market || order.tif != .day) {
            return "Alpaca takes fractional quantities only on market orders with time in force day"
        }
        return nil
    }
}
