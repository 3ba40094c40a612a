/// A market price for one symbol: any of bid, ask and last.
public struct Quote: Sendable, Hashable, Codable {
    public var symbol: Symbol
    public var bid: Price?
    public var ask: Price?
    public var last: Price?
    public var ts: Timestamp
    /// How much is offered at the bid and at the ask, where the source says (shares or contracts).
    public var bidSize: Quantity?
    public var askSize: Quantity?
    /// What traded since the previous quote (a bar's volume), where the source says; it bounds the paper
    /// broker's fills when the account sets a participation rate. Never carried into a later quote.
    public var volume: Quantity?

    enum CodingKeys: String, CodingKey {
        case symbol, bid, ask, last, ts, bidSize = "bid_size", askSize = "ask_size", volume
    }

    public init(
        symbol: Symbol, bid: Price? = nil, ask: Price? = nil, last: Price? = nil, ts: Timestamp,
        bidSize: Quantity? = nil, askSize: Quantity? = nil, volume: Quantity? = nil
    ) {
        self.volume = volume
        self.symbol = symbol
        self.bid = bid
        self.ask = ask
        self.last = last
        self.ts = ts
        self.bidSize = bidSize
        self.askSize = askSize
    }

    /// The price positions are marked at: last, else the mid of bid and ask, else whichever side there is.
    public var mark: Price? {
        if let last { return last }
        if let bid, let ask { return Price(units: Int64((Int128(bid.units) + Int128(ask.units)) / 2)) }
        return bid ?? ask
    }

    /// This quote with the sides `newer` carries replaced; a new bid or ask without a size has none.
    public func merged(with newer: Quote) -> Quote {
        Quote(
            symbol: symbol, bid: newer.bid ?? bid, ask: newer.ask ?? ask, last: newer.last ?? last, ts: newer.ts,
            bidSize: newer.bid != nil ? newer.bidSize : (newer.bidSize ?? bidSize),
            askSize: newer.ask != nil ? newer.askSize : (newer.askSize ?? askSize), volume: newer.volume)
    }
}
