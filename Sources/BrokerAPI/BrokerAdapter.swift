public import GatewayCore

/// A connection to one broker account. The engine is the only caller; it calls the order methods of one
/// adapter one at a time, in the order it journaled the requests, and never before the request is
/// durable in the journal. Orders are named to the broker by the gateway's `OrderID`, which the adapter
/// sends as the broker's client order id so that an order can always be found again after a crash.
///
/// Order methods return when the broker has taken the request (or refused it): what the broker then does
/// arrives on `events`. A method that cannot tell whether the broker received the request throws a
/// `BrokerError` of kind `.unknownOutcome`; the engine then asks `orderReport(for:)` and never sends again
/// blindly.
public protocol BrokerAdapter: Sendable {
    /// The broker's short name (`paper`, `alpaca`), as accounts report it.
    var brokerName: String { get }

    /// Everything the broker reports, in the order it reported it. One consumer (the engine).
    var events: AsyncStream<BrokerEvent> { get }

    /// Opens the connection; idempotent.
    func connect() async throws(BrokerError)

    /// Closes the connection; idempotent; finishes `events`.
    func disconnect() async

    /// Why the broker cannot take this order (order type, time in force, asset class), or `nil` when it
    /// can. Called before the order is accepted, so it must not block.
    func unsupportedReason(for order: Order) -> String?

    /// Sends a new order.
    func submit(_ order: Order) async throws(BrokerError)

    /// Asks the broker to cancel a working order; the outcome arrives as `.canceled` or `.cancelRejected`.
    func cancel(_ order: Order) async throws(BrokerError)

    /// Asks the broker to replace `order` with `replacement` (a new `OrderID`); the outcome arrives as
    /// `.replaced` or `.replaceRejected`.
    func replace(_ order: Order, with replacement: Order) async throws(BrokerError)

    /// What the broker knows of one order, with its fills, or `nil` when it has no record of it.
    func orderReport(for orderID: OrderID) async throws(BrokerError) -> BrokerOrderReport?

    /// The broker's open orders.
    func openOrders() async throws(BrokerError) -> [BrokerOrderReport]

    /// The broker's positions.
    func positions() async throws(BrokerError) -> [BrokerPositionReport]

    /// The broker's account figures.
    func accountReport() async throws(BrokerError) -> BrokerAccountReport

    /// Takes a snapshot for reconciliation — the broker's working orders (with their terms) and positions,
    /// after reporting on `events` any fill this adapter finds it missed — and emits it as `.snapshot` on
    /// `events`, after everything emitted before it, carrying `tag`. Throws when the broker cannot be
    /// read; no snapshot is emitted then. `since` is when the newest fill the journal holds happened (at
    /// start; `nil` otherwise): fills after it that the adapter has not reported are missed ones.
    func reconcile(tag: UInt64, since: Timestamp?) async throws(BrokerError)
}

/// An adapter whose broker holds brackets: an entry with a protective stop and a profit target that
/// become live when the entry fills and cancel each other when one of them fills.
public protocol BracketCapable: Sendable {
    /// Sends the three orders as one bracket. Events then arrive for each order by its own id.
    func submitBracket(entry: Order, stop: Order?, target: Order?) async throws(BrokerError)
}

/// An adapter that takes market prices: the paper simulator fills against them.
public protocol QuoteConsumer: Sendable {
    /// A new price for a symbol. Called by the engine after the quote is journaled.
    func receive(_ quote: Quote) async
}

/// An adapter that reports fills from an order's running totals (Alpaca reports an order's cumulative
/// quantity and average price): before it is asked about an order it is told what the journal already
/// holds of it, so that it reports only fills beyond those — also after a restart.
public protocol JournaledTotalsAware: Sendable {
    func know(_ order: Order) async
}
