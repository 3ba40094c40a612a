public import BrokerAPI
public import GatewayCore
import Synchronization

/// A scripted broker adapter: records every call, answers as the test says, and emits the events the
/// test gives it. By default a submit is acknowledged and nothing fills.
public actor FakeBroker: BrokerAdapter, QuoteConsumer {
    public nonisolated let brokerName = "fake"
    public nonisolated let events: AsyncStream<BrokerEvent>
    private let emitter: AsyncStream<BrokerEvent>.Continuation

    /// Called inside `submit`, before anything else; throw to fail the submit.
    public var onSubmit: @Sendable (Order) async throws(BrokerError) -> Void = { _ in }
    /// Whether a successful submit emits an acknowledgement.
    public var acknowledges = true
    /// What `orderReport(for:)` answers, set before the order exists; an error there is thrown, and `nil`
    /// (the default) means "no record".
    public var report: @Sendable (OrderID) -> Result<BrokerOrderReport?, BrokerError> = { _ in .success(nil) }
    public var unsupported: String?
    public var connectError: BrokerError?
    /// What `reconcile(tag:)` reports: the broker's working orders, its positions (`nil`: none to compare),
    /// fills it emits just before as missed, or the error it throws.
    public var snapshotOrders: [BrokerOrderReport] = []
    public var snapshotPositions: [BrokerPositionReport]?
    public var snapshotMissedFills: [BrokerFill] = []
    public var reconcileError: BrokerError?
    /// Awaited inside `reconcile(tag:)` before it reads anything: a test holds a reconciliation open.
    public var reconcileGate: (@Sendable () async -> Void)?
    /// When set, `reconcile` returns at once and the snapshot (taken then) is emitted only once this
    /// returns: later calls' events overtake it, as a slow event stream would let them.
    public var snapshotDelay: (@Sendable () async -> Void)?
    public private(set) var reconciliations = 0

    public private(set) var submitted: [Order] = []
    public private(set) var canceled: [Order] = []
    public private(set) var replaced: [(Order, Order)] = []
    public private(set) var asked: [OrderID] = []
    public private(set) var quotes: [Quote] = []
    private let calls: AsyncStream<String>.Continuation
    /// One element per call made: `submit <id>`, `cancel <id>`, `replace <id>`, `report <id>`,
    /// `quote <symbol>`.
    public nonisolated let callLog: AsyncStream<String>

    public init() {
        (events, emitter) = AsyncStream.makeStream(of: BrokerEvent.self)
        (callLog, calls) = AsyncStream.makeStream(of: String.self)
    }

    public func configure(_ body: @Sendable (isolated FakeBroker) -> Void) { body(self) }

    /// Emits an event as the broker would.
    public func emit(_ event: BrokerEvent) { emitter.yield(event) }

    public func connect() async throws(BrokerError) {
        if let connectError { throw connectError }
    }

    public func disconnect() async { emitter.finish() }

    public nonisolated func unsupportedReason(for order: Order) -> String? { nil }

    public func submit(_ order: Order) async throws(BrokerError) {
        submitted.append(order)
        calls.yield("submit \(order.orderID)")
        try await onSubmit(order)
        if acknowledges {
            emitter.yield(.acknowledged(order.orderID, brokerOrderID: "B-\(order.orderID)", ts: order.createdAt))
        }
    }

    public func cancel(_ order: Order) async throws(BrokerError) {
        canceled.append(order)
        calls.yield("cancel \(order.orderID)")
        emitter.yield(.canceled(order.orderID, reason: nil, ts: order.updatedAt))
    }

    public func replace(_ order: Order, with replacement: Order) async throws(BrokerError) {
        replaced.append((order, replacement))
        calls.yield("replace \(order.orderID)")
        emitter.yield(
            .replaced(
                old: order.orderID, new: replacement.orderID, brokerOrderID: "B-\(replacement.orderID)",
                ts: replacement.createdAt))
    }

    public func orderReport(for orderID: OrderID) async throws(BrokerError) -> BrokerOrderReport? {
        asked.append(orderID)
        calls.yield("report \(orderID)")
        return try report(orderID).get()
    }

    public func receive(_ quote: Quote) async {
        quotes.append(quote)
        calls.yield("quote \(quote.symbol)")
    }

    public func reconcile(tag: UInt64, since: Timestamp?) async throws(BrokerError) {
        reconciliations += 1
        calls.yield("reconcile")
        if let reconcileGate { await reconcileGate() }
        if let reconcileError { throw reconcileError }
        for fill in snapshotMissedFills { emitter.yield(.fill(fill)) }
        let snapshot = BrokerSnapshot(
            tag: tag, missedFills: snapshotMissedFills, openOrders: snapshotOrders, positions: snapshotPositions)
        snapshotMissedFills = []
        if let snapshotDelay {
            let emitter = emitter
            Task {
                await snapshotDelay()
                emitter.yield(.snapshot(snapshot))
            }
        } else {
            emitter.yield(.snapshot(snapshot))
        }
    }

    public func openOrders() async throws(BrokerError) -> [BrokerOrderReport] { snapshotOrders }
    public func positions() async throws(BrokerError) -> [BrokerPositionReport] { [] }
    public func accountReport() async throws(BrokerError) -> BrokerAccountReport {
        BrokerAccountReport(currency: "USD", cash: .zero, equity: .zero, buyingPower: .zero)
    }
}
