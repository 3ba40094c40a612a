/// One execution: some quantity of an order traded at one price.
public struct Fill: Sendable, Hashable, Codable {
    public var fillID: FillID
    public var orderID: OrderID
    public var clientOrderID: ClientOrderID
    public var account: AccountID
    public var symbol: Symbol
    public var side: OrderSide
    /// Always positive; `side` gives the direction.
    public var qty: Quantity
    public var price: Price
    public var commission: Money
    public var ts: Timestamp
    /// For one leg of a multi-leg order's fill, the broker's id of the whole fill (each leg's own
    /// `fill_id` is that id with `/` and the leg's number appended).
    public var spreadFillID: FillID?

    enum CodingKeys: String, CodingKey {
        case fillID = "fill_id", orderID = "order_id", clientOrderID = "client_order_id", account, symbol, side, qty
        case price, commission, ts, spreadFillID = "spread_fill_id"
    }

    public init(
        fillID: FillID, orderID: OrderID, clientOrderID: ClientOrderID, account: AccountID, symbol: Symbol,
        side: OrderSide, qty: Quantity, price: Price, commission: Money = .zero, ts: Timestamp
    ) {
        self.fillID = fillID
        self.orderID = orderID
        self.clientOrderID = clientOrderID
        self.account = account
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.price = price
        self.commission = commission
        self.ts = ts
    }

    /// The signed quantity: positive for buys, negative for sells.
    public var signedQty: Quantity { side.isBuy ? qty : -qty }
}
