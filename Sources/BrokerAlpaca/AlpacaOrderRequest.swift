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
    public var legs: [Leg]?

    /// One leg of an `mleg` order: the compact OCC symbol, the ratio, the side and the open/close intent.
    public struct Leg: Sendable, Hashable, Encodable {
        public var symbol: String
        public var ratioQty: String
        public var side: String
        public var positionIntent: String?
        enum CodingKeys: String, CodingKey {
            case symbol, ratioQty = "ratio_qty", side, positionIntent = "position_intent"
        }
    }

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
        case takeProfit = "take_profit", stopLoss = "stop_loss", positionIntent = "position_intent", legs
    }

    /// A simple order: the order's terms as Alpaca names them. Options go by their compact OCC symbol
    /// with the side's open/close intent.
    public init(_ order: Order) {
        qty = order.qty.description
        type = order.type.rawValue
        timeInForce = order.tif.rawValue
        limitPrice = order.limitPrice?.description
        stopPrice = order.stopPrice?.description
        trailPrice = order.trailPrice?.description
        trailPercent = order.trailPercent?.description
        clientOrderID = order.orderID.rawValue
        extendedHours = order.extendedHours
        if let legs = order.legs {
            // A spread: no symbol or side of its own; `limit_price` is the net (negative: a credit).
            orderClass = "mleg"
            self.legs = legs.map { leg in
                Leg(
                    symbol: Self.compact(leg.symbol), ratioQty: "\(leg.ratio)", side: leg.side.isBuy ? "buy" : "sell",
                    positionIntent: Self.intent(leg.side))
            }
            return
        }
        symbol = order.symbol.isOption ? Self.compact(order.symbol) : order.symbol.text
        side = order.side.isBuy ? "buy" : "sell"
        positionIntent = Self.intent(order.side)
    }

    /// An option side's open/close intent, as Alpaca's `position_intent`.
    static func intent(_ side: OrderSide) -> String? {
        switch side {
        case .buyToOpen, .buyToClose, .sellToOpen, .sellToClose: side.rawValue
        case .buy, .sell, .sellShort, .buyToCover: nil
        }
    }

    /// An entry with its protective stop and/or profit target as one Alpaca bracket (both) or OTO (one):
    /// the children carry only their prices; Alpaca names them itself. An OCO is a limit order (the
    /// target) with a stop: its own limit price goes both as `limit_price` and as `take_profit`, which
    /// satisfies both readings of the reference (the spec's limit order, alpaca-py's take_profit).
    public init(entry: Order, stop: Order?, target: Order?) {
        self.init(entry)
        if entry.orderClass == .oco {
            orderClass = "oco"
            takeProfit = entry.limitPrice.map { TakeProfit(limitPrice: $0.description) }
        } else {
            orderClass = stop != nil && target != nil ? "bracket" : "oto"
            takeProfit = target?.limitPrice.map { TakeProfit(limitPrice: $0.description) }
        }
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
        if let legs = order.legs {
            if order.tif != .day {
                return "Alpaca takes multi-leg orders with time in force day only, not \(order.tif.rawValue)"
            }
            if legs.contains(where: { leg in leg.side == .sellShort || leg.side == .buyToCover }) {
                return "Alpaca's multi-leg legs are options"
            }
            return nil
        }
        if let orderClass = order.orderClass, orderClass != .mleg {
            if order.symbol.isOption {
                return "Alpaca takes options as simple or multi-leg orders, not \(orderClass.rawValue)"
            }
            if order.tif != .day && order.tif != .gtc {
                return
                    "Alpaca takes \(orderClass.rawValue) orders with time in force day or gtc, not \(order.tif.rawValue)"
            }
            if order.type == .trailingStop {
                return "Alpaca does not take a trailing stop as the order of a \(orderClass.rawValue)"
            }
            if !order.qty.isWhole { return "Alpaca takes \(orderClass.rawValue) orders in whole shares" }
        }
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
