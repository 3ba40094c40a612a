public import GatewayCore

/// The protocol version this build speaks.
public let protocolVersion = 1

/// `hello`: who the client is and which protocol it speaks.
public struct HelloRequest: Sendable, Decodable, Equatable {
    public var client: String?
    public var `protocol`: Int?
}

/// One leg of a multi-leg order.
public struct LegRequest: Sendable, Decodable, Equatable {
    public var symbol: Symbol
    public var side: OrderSide
    public var ratio: Int?
}

/// A submit's profit target: a limit order on the other side.
public struct TakeProfitRequest: Sendable, Decodable, Equatable {
    public var limitPrice: Price

    enum CodingKeys: String, CodingKey { case limitPrice = "limit_price" }

    public init(from decoder: any Decoder) throws {
        limitPrice = try decoder.container(keyedBy: CodingKeys.self).requiredFixed(.limitPrice)
    }
}

/// A submit's protective stop: a stop, or a stop-limit with `limit_price`.
public struct StopLossRequest: Sendable, Decodable, Equatable {
    public var stopPrice: Price
    public var limitPrice: Price?

    enum CodingKeys: String, CodingKey { case stopPrice = "stop_price", limitPrice = "limit_price" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stopPrice = try c.requiredFixed(.stopPrice)
        limitPrice = try c.fixed(.limitPrice)
    }
}

/// `submit`: a new order (PROTOCOL.md "An order"), with optional linked exits (`take_profit`,
/// `stop_loss`, `order_class`: `bracket`, `oto` or `oco`) or legs.
public struct SubmitRequest: Sendable, Decodable, Equatable {
    public var account: AccountID
    public var clientOrderID: ClientOrderID?
    public var symbol: Symbol?
    public var side: OrderSide?
    public var legs: [LegRequest]?
    public var qty: Quantity
    public var type: OrderType
    public var limitPrice: Price?
    public var stopPrice: Price?
    public var trailPrice: Price?
    public var trailPercent: Price?
    public var tif: TimeInForce?
    public var strategy: String?
    public var tags: [String]?
    public var orderClass: OrderClass?
    public var takeProfit: TakeProfitRequest?
    public var stopLoss: StopLossRequest?
    public var extendedHours: Bool?

    enum CodingKeys: String, CodingKey {
        case account, clientOrderID = "client_order_id", symbol, side, legs, qty, type, limitPrice = "limit_price"
        case stopPrice = "stop_price", trailPrice = "trail_price", trailPercent = "trail_percent", tif, strategy, tags
        case orderClass = "order_class", takeProfit = "take_profit", stopLoss = "stop_loss"
        case extendedHours = "extended_hours"
    }

    /// A single-symbol order (`PlainLine`).
    init(
        account: AccountID, clientOrderID: ClientOrderID?, symbol: Symbol, side: OrderSide, qty: Quantity,
        type: OrderType, limitPrice: Price?, stopPrice: Price?, trailPrice: Price?, trailPercent: Price?,
        tif: TimeInForce?, strategy: String?, tags: [String]?, orderClass: OrderClass?, extendedHours: Bool?
    ) {
        self.account = account
        self.clientOrderID = clientOrderID
        self.symbol = symbol
        self.side = side
        self.legs = nil
        self.qty = qty
        self.type = type
        self.limitPrice = limitPrice
        self.stopPrice = stopPrice
        self.trailPrice = trailPrice
        self.trailPercent = trailPercent
        self.tif = tif
        self.strategy = strategy
        self.tags = tags
        self.orderClass = orderClass
        self.takeProfit = nil
        self.stopLoss = nil
        self.extendedHours = extendedHours
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        account = try c.decode(AccountID.self, forKey: .account)
        clientOrderID = try c.decodeIfPresent(ClientOrderID.self, forKey: .clientOrderID)
        legs = try c.decodeIfPresent([LegRequest].self, forKey: .legs)
        if legs == nil {
            symbol = try c.decode(Symbol.self, forKey: .symbol)
            side = try c.decode(OrderSide.self, forKey: .side)
        } else {
            symbol = try c.decodeIfPresent(Symbol.self, forKey: .symbol)
            side = try c.decodeIfPresent(OrderSide.self, forKey: .side)
        }
        qty = try c.requiredFixed(.qty)
        type = try c.decodeIfPresent(OrderType.self, forKey: .type) ?? .market
        limitPrice = try c.fixed(.limitPrice)
        stopPrice = try c.fixed(.stopPrice)
        trailPrice = try c.fixed(.trailPrice)
        trailPercent = try c.fixed(.trailPercent)
        tif = try c.decodeIfPresent(TimeInForce.self, forKey: .tif)
        strategy = try c.decodeIfPresent(String.self, forKey: .strategy)
        tags = try c.decodeIfPresent([String].self, forKey: .tags)
        orderClass = try c.decodeIfPresent(OrderClass.self, forKey: .orderClass)
        takeProfit = try c.decodeIfPresent(TakeProfitRequest.self, forKey: .takeProfit)
        stopLoss = try c.decodeIfPresent(StopLossRequest.self, forKey: .stopLoss)
        extendedHours = try c.decodeIfPresent(Bool.self, forKey: .extendedHours)
    }
}

/// `cancel`: one order, by `order_id` or `client_order_id`.
public struct CancelRequest: Sendable, Decodable, Equatable {
    public var account: AccountID
    public var orderID: OrderID?
    public var clientOrderID: ClientOrderID?

    enum CodingKeys: String, CodingKey { case account, orderID = "order_id", clientOrderID = "client_order_id" }
}

/// `replace`: new terms for an order.
public struct ReplaceRequest: Sendable, Decodable, Equatable {
    public var account: AccountID
    public var orderID: OrderID?
    public var clientOrderID: ClientOrderID?
    public var qty: Quantity?
    public var limitPrice: Price?
    public var stopPrice: Price?
    public var tif: TimeInForce?

    enum CodingKeys: String, CodingKey {
        case account, orderID = "order_id", clientOrderID = "client_order_id", qty, limitPrice = "limit_price"
        case stopPrice = "stop_price", tif
    }

    /// A replace read by hand (`PlainLine`).
    init(
        account: AccountID, orderID: OrderID?, clientOrderID: ClientOrderID?, qty: Quantity?, limitPrice: Price?,
        stopPrice: Price?, tif: TimeInForce?
    ) {
        self.account = account
        self.orderID = orderID
        self.clientOrderID = clientOrderID
        self.qty = qty
        self.limitPrice = limitPrice
        self.stopPrice = stopPrice
        self.tif = tif
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        account = try c.decode(AccountID.self, forKey: .account)
        orderID = try c.decodeIfPresent(OrderID.self, forKey: .orderID)
        clientOrderID = try c.decodeIfPresent(ClientOrderID.self, forKey: .clientOrderID)
        qty = try c.fixed(.qty)
        limitPrice = try c.fixed(.limitPrice)
        stopPrice = try c.fixed(.stopPrice)
        tif = try c.decodeIfPresent(TimeInForce.self, forKey: .tif)
    }
}

/// `cancel_all`: every open order, optionally of one account or symbol.
public struct CancelAllRequest: Sendable, Decodable, Equatable {
    public var account: AccountID?
    public var symbol: Symbol?
}

/// `orders`: open (default) or all orders.
public struct OrdersRequest: Sendable, Decodable {
    public enum Status: String, Sendable, Decodable { case open, all }
    public var account: AccountID?
    public var status: Status?
    public var symbol: Symbol?
    public var strategy: String?
}

/// `positions`.
public struct PositionsRequest: Sendable, Decodable {
    public var account: AccountID?
}

/// `account`.
public struct AccountRequest: Sendable, Decodable {
    public var account: AccountID
}

/// `subscribe`: events after `after_seq` (none when absent), then live ones.
public struct SubscribeRequest: Sendable, Decodable {
    public var afterSeq: Int64?
    public var kinds: [String]?

    enum CodingKeys: String, CodingKey { case afterSeq = "after_seq", kinds }
}

/// `journal`: journaled events by filter.
public struct JournalRequest: Sendable, Decodable {
    public var account: AccountID?
    public var symbol: Symbol?
    public var strategy: String?
    public var orderID: OrderID?
    public var clientOrderID: ClientOrderID?
    public var kinds: [String]?
    public var since: Timestamp?
    public var until: Timestamp?
    public var afterSeq: Int64?
    public var limit: Int?

    enum CodingKeys: String, CodingKey {
        case account, symbol, strategy, orderID = "order_id", clientOrderID = "client_order_id", kinds, since, until
        case afterSeq = "after_seq", limit
    }
}

/// `journal_verify`: with `state: true`, also compare the engine's state with a fresh replay.
public struct VerifyRequest: Sendable, Decodable {
    public var state: Bool?
}

/// `journal_backup`: where to write a consistent copy of the journal.
public struct BackupRequest: Sendable, Decodable {
    public var path: String
}

/// `report`: performance figures over an account, strategy, symbol and time range, all optional.
public struct ReportRequest: Sendable, Decodable {
    public var account: AccountID?
    public var strategy: String?
    public var symbol: Symbol?
    public var since: Timestamp?
    public var until: Timestamp?
}

/// `quote`: a market price for the paper simulator and for marks.
public struct QuoteRequest: Sendable, Decodable, Equatable {
    public var symbol: Symbol
    public var bid: Price?
    public var ask: Price?
    public var last: Price?
    public var ts: Timestamp?
    public var bidSize: Quantity?
    public var askSize: Quantity?
    public var volume: Quantity?

    enum CodingKeys: String, CodingKey {
        case symbol, bid, ask, last, ts, bidSize = "bid_size", askSize = "ask_size", volume
    }

    /// A quote read by hand (`PlainLine`): without `ts`, which that reader leaves to `JSONDecoder`.
    init(
        symbol: Symbol, bid: Price?, ask: Price?, last: Price?, bidSize: Quantity?, askSize: Quantity?,
        volume: Quantity?
    ) {
        self.symbol = symbol
        self.bid = bid
        self.ask = ask
        self.last = last
        self.bidSize = bidSize
        self.askSize = askSize
        self.volume = volume
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try c.decode(Symbol.self, forKey: .symbol)
        bid = try c.fixed(.bid)
        ask = try c.fixed(.ask)
        last = try c.fixed(.last)
        ts = try c.decodeIfPresent(Timestamp.self, forKey: .ts)
        bidSize = try c.fixed(.bidSize)
        askSize = try c.fixed(.askSize)
        volume = try c.fixed(.volume)
    }
}

/// `halt`: the kill switch, for one account or (without one) the whole gateway.
public struct HaltRequest: Sendable, Decodable {
    public var account: AccountID?
    public var reason: String?
    public var cancelOpen: Bool?

    enum CodingKeys: String, CodingKey { case account, reason, cancelOpen = "cancel_open" }
}

/// `reconcile`: compare the journal with the broker now, for one account or (without one) every account.
public struct ReconcileRequest: Sendable, Decodable {
    public var account: AccountID?
}

/// `resume`: back to `active` (the default) or `reducing`.
public struct ResumeRequest: Sendable, Decodable {
    public var account: AccountID?
    public var state: TradingState?
    public var reason: String?
}

/// `signal`: what a plugin wants; the gateway sizes it (PROTOCOL.md "A signal").
public struct SignalRequest: Sendable, Decodable, Equatable {
    public struct Entry: Sendable, Decodable, Equatable {
        public var type: OrderType?
        public var price: Price?

        enum CodingKeys: String, CodingKey { case type, price }

        /// An entry read by hand (`PlainLine`).
        init(type: OrderType?, price: Price?) {
            self.type = type
            self.price = price
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decodeIfPresent(OrderType.self, forKey: .type)
            price = try c.fixed(.price)
        }
    }

    public var account: AccountID
    public var signalID: ClientOrderID
    public var strategy: String?
    public var symbol: Symbol
    public var side: OrderSide
    public var entry: Entry?
    public var stopPrice: Price?
    public var atr: Price?
    public var atrMultiple: Price?
    public var takeProfit: Price?
    public var riskFraction: Price?
    public var qty: Quantity?
    public var tif: TimeInForce?
    public var tags: [String]?

    enum CodingKeys: String, CodingKey {
        case account, signalID = "signal_id", strategy, symbol, side, entry, stopPrice = "stop_price", atr
        case atrMultiple = "atr_multiple", takeProfit = "take_profit", riskFraction = "risk_fraction", qty, tif, tags
    }

    /// A signal read by hand (`PlainLine`).
    init(
        account: AccountID, signalID: ClientOrderID, strategy: String?, symbol: Symbol, side: OrderSide,
        entry: Entry?, stopPrice: Price?, atr: Price?, atrMultiple: Price?, takeProfit: Price?, riskFraction: Price?,
        qty: Quantity?, tif: TimeInForce?, tags: [String]?
    ) {
        self.account = account
        self.signalID = signalID
        self.strategy = strategy
        self.symbol = symbol
        self.side = side
        self.entry = entry
        self.stopPrice = stopPrice
        self.atr = atr
        self.atrMultiple = atrMultiple
        self.takeProfit = takeProfit
        self.riskFraction = riskFraction
        self.qty = qty
        self.tif = tif
        self.tags = tags
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        account = try c.decode(AccountID.self, forKey: .account)
        signalID = try c.decode(ClientOrderID.self, forKey: .signalID)
        strategy = try c.decodeIfPresent(String.self, forKey: .strategy)
        symbol = try c.decode(Symbol.self, forKey: .symbol)
        side = try c.decode(OrderSide.self, forKey: .side)
        entry = try c.decodeIfPresent(Entry.self, forKey: .entry)
        stopPrice = try c.fixed(.stopPrice)
        atr = try c.fixed(.atr)
        atrMultiple = try c.fixed(.atrMultiple)
        takeProfit = try c.fixed(.takeProfit)
        riskFraction = try c.fixed(.riskFraction)
        qty = try c.fixed(.qty)
        tif = try c.decodeIfPresent(TimeInForce.self, forKey: .tif)
        tags = try c.decodeIfPresent([String].self, forKey: .tags)
    }
}

/// `alert_test`: a test message to one alert destination, or to every one when `destination` is absent.
public struct AlertTestRequest: Sendable, Decodable {
    public var destination: String?
}
