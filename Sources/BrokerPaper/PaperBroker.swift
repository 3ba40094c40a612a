public import BrokerAPI
public import GatewayCore
import Glibc
import Synchronization

/// The built-in paper broker. A market order fills at the touch (the ask for buys, the bid for sells) or
/// waits for the first quote; a marketable limit fills at the touch; a resting limit fills at its limit
/// when the market trades through it, and at the touch only by its place in the queue (a seeded chance
/// per quote); stop and stop-limit orders trigger on the quote; a spread fills all legs or none at their
/// touches' net. Fills are bounded by the size quoted at the touch and by a participation rate of the
/// volume traded, moved from the touch by the configured slippage (never past a limit), and carry the
/// account's costs (`CostModel`: commission and fees on sales).
///
/// With a market calendar it trades only in the session (and in extended hours for orders that ask for
/// it), expires day orders at the close, fills opening orders at the first quote of the session and
/// closing orders at the close, and refuses immediate orders while the market is closed. With latencies
/// its acknowledgements and reports arrive late, on the injected clock: `advance()` moves it to the
/// clock's time (gatewayd calls it on a timer; tests call it after moving their clock).
///
/// Like a real broker it outlives the gateway when given a ledger file: it writes every order it
/// receives and everything that happens to it there before reporting it, and reads the file back on
/// `connect()`, so a gateway that crashed can ask it what became of an order.
public final class PaperBroker: BrokerAdapter, QuoteConsumer, BracketCapable, DirectBroker {
    public let brokerName = PaperSimulator.brokerName
    public let events: AsyncStream<BrokerEvent>
    private let emit: AsyncStream<BrokerEvent>.Continuation
    private let calendar: MarketCalendar?
    /// The simulator, and where its reports go when they are not `callNow`'s.
    private let guarded: Mutex<Guarded>

    private struct Guarded {
        var simulator: PaperSimulator
        /// Set by `deliverEvents(to:)`; until then reports go to `events`.
        var sink: (@Sendable (BrokerEvent) -> Void)?
    }

    /// - Parameters:
    ///   - cash: the account's starting cash at this broker; with it, buys it cannot pay for are refused
    ///     and `accountReport` answers; `nil` (the default) keeps no cash and refuses nothing for it.
    ///   - ledgerPath: where the broker keeps its own record; `nil` keeps everything in memory.
    ///   - faults: failures to inject, for the gateway's crash tests.
    ///   - calendar: when the market trades; `nil` (the default) trades always and has no auctions.
    public init(
        clock: any WallClock, ledgerPath: String? = nil, faults: PaperFaults = PaperFaults(),
        costs: CostModel = CostModel(), rules: PaperRules = PaperRules(), cash: Money? = nil,
        calendar: MarketCalendar? = nil
    ) {
        (events, emit) = AsyncStream.makeStream(of: BrokerEvent.self)
        self.calendar = calendar
        guarded = Mutex(
            Guarded(
                simulator: PaperSimulator(
                    clock: clock, ledgerPath: ledgerPath, faults: faults, costs: costs, rules: rules, cash: cash,
                    calendar: calendar),
                sink: nil))
    }

    /// Runs `body` on the simulator as one operation (its ledger lines written together), then passes on
    /// what it reported, also when it threw. When the ledger could not take the lines, nothing of the
    /// operation stays and its error is thrown. Unless told not to, the operation first finishes every
    /// pass of a quote through its orders that a step of `callNow` left unfinished.
    private func withSimulator<T: Sendable>(
        finishingSweeps: Bool = true, _ body: (inout PaperSimulator) throws(BrokerError) -> T
    ) throws(BrokerError) -> T {
        try guarded.withLock { (guarded) throws(BrokerError) -> T in
            let start = guarded.simulator.start()
            if finishingSweeps { guarded.simulator.finishSweeps() }
            defer {
                let reported = guarded.simulator.takeOutbox()
                if let sink = guarded.sink {
                    for event in reported { sink(event) }
                } else {
                    for event in reported { emit.yield(event) }
                }
            }
            let result = Result { () throws(BrokerError) -> T in try body(&guarded.simulator) }
            if let failure = guarded.simulator.finish(start) { throw failure }
            return try result.get()
        }
    }

    /// `withSimulator` for what cannot fail but by the ledger: a failed write leaves the broker as it
    /// was, which is all that is said of it (a quote or a timer's tick is tried again by the next).
    @discardableResult
    private func withSimulator<T: Sendable>(finishingSweeps: Bool = true, _ body: (inout PaperSimulator) -> T) -> T? {
        try? withSimulator(finishingSweeps: finishingSweeps) { (simulator) throws(BrokerError) -> T in body(&simulator)
        }
    }

    public func connect() async throws(BrokerError) {
        try withSimulator { (simulator) throws(BrokerError) in try simulator.connect() }
    }

    public func disconnect() async {
        withSimulator { $0.disconnect() }
        emit.finish()
    }

    public func unsupportedReason(for order: Order) -> String? {
        if order.legs != nil {
            if order.type != .market && order.type != .limit {
                return "the paper broker fills spreads as market or limit orders at a net price"
            }
            if order.tif == .opg || order.tif == .cls { return "the paper broker has no auction for spreads" }
        }
        if calendar == nil, order.tif == .opg || order.tif == .cls {
            return "the paper broker has no opening or closing auction without a market calendar"
        }
        return nil
    }

    public func submit(_ order: Order) async throws(BrokerError) {
        try withSimulator { (simulator) throws(BrokerError) in try simulator.submit(order) }
    }

    /// Holds the stop and target until the entry fills, then works them as one-cancels-other; an OCO's
    /// limit and stop work at once.
    public func submitBracket(entry: Order, stop: Order?, target: Order?) async throws(BrokerError) {
        try withSimulator { (simulator) throws(BrokerError) in
            try simulator.submitBracket(entry: entry, stop: stop, target: target)
        }
    }

    public func cancel(_ order: Order) async throws(BrokerError) {
        try withSimulator { (simulator) throws(BrokerError) in try simulator.cancel(order) }
    }

    public func replace(_ order: Order, with replacement: Order) async throws(BrokerError) {
        try withSimulator { (simulator) throws(BrokerError) in try simulator.replace(order, with: replacement) }
    }

    public func receive(_ quote: Quote) async {
        withSimulator { $0.receive(quote) }
    }

    /// Moves the broker to the clock's time: orders whose acknowledgement latency has passed reach the
    /// market, day orders past their session's close expire, closing orders fill at the close, and
    /// reports whose latency has passed are delivered.
    public func advance() async {
        withSimulator(finishingSweeps: false) { $0.advance() }
    }

    /// Orders on their way to the market and reports held back: what `advance()` has yet to deliver.
    public var pendingCount: Int {
        get async { guarded.withLock { $0.simulator.pendingCount } }
    }

    /// Calls `advance()` every `interval` until the task is canceled (gatewayd's timer).
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            await advance()
        }
    }

    public func orderReport(for orderID: OrderID) async throws(BrokerError) -> BrokerOrderReport? {
        try withSimulator { (simulator) throws(BrokerError) in try simulator.orderReport(for: orderID) }
    }

    public func openOrders() async throws(BrokerError) -> [BrokerOrderReport] {
        try withSimulator { (simulator) throws(BrokerError) in try simulator.openOrders() }
    }

    public func positions() async throws(BrokerError) -> [BrokerPositionReport] {
        try withSimulator { (simulator) throws(BrokerError) in try simulator.positions() }
    }

    /// Its working orders with their terms, and its positions, read in one step (nothing can fill between
    /// the two): the paper broker reports every fill as it happens, so it never has missed ones. Without a
    /// ledger it remembers nothing from before this run, so it has no positions to compare.
    public func reconcile(tag: UInt64, since: Timestamp?) async throws(BrokerError) {
        try withSimulator { (simulator) throws(BrokerError) in try simulator.reconcile(tag: tag, since: since) }
    }

    public func accountReport() async throws(BrokerError) -> BrokerAccountReport {
        try withSimulator { (simulator) throws(BrokerError) in try simulator.accountReport() }
    }

    /// Starts reading the ledger on a thread of its own, for `connect()` to take: a daemon calls it as
    /// it makes the broker, so that the read overlaps its other work at a start (gatewayd's journal replay).
    public func readLedgerAhead() {
        guarded.withLock { $0.simulator.readLedgerAhead() }
    }

    /// How many finished orders the broker keeps by default (`setRetention`; `PaperBook.finishedKept`).
    public static let finishedOrdersKept = 2_000
    /// How many lines its ledger takes at the least between two rewrites, by default (`setRetention`): a
    /// rewrite writes about as many lines as the book keeps orders, so it is due after this many lines or
    /// eight per order kept, whichever is more, and costs a fraction of a write per line appended.
    public static let ledgerRewriteLines = 20_000

    /// How many finished orders the broker keeps (at least one), and how many ledger lines at the least
    /// between two rewrites of its ledger (at least one; a rewrite also waits for eight lines per order
    /// kept); set before `readLedgerAhead()` and `connect()`. The crash tests make both small, so that
    /// kills land in rewrites.
    public func setRetention(finishedOrders: Int, compactEvery: Int) {
        guarded.withLock { $0.simulator.setRetention(finishedOrders: finishedOrders, compactEvery: compactEvery) }
    }

    /// Waits for a rewrite of the ledger under way on its own thread to end (tests read the file after).
    func waitForLedgerRewrite() {
        guarded.withLock { $0.simulator.waitForLedgerRewrite() }
    }

    public func deliverEvents(to sink: @escaping @Sendable (BrokerEvent) -> Void) {
        guarded.withLock { $0.sink = sink }
    }

    /// First finishes every pass of a quote left unfinished, as `withSimulator` does. A quote matches at
    /// most `sweepStep` of the orders it may fill here; the rest waits for `continueNow`, which the engine
    /// calls once its thread has read its sockets.
    public func callNow(
        _ call: BrokerCall, deliver: (Result<BrokerOrderReport?, BrokerError>, [BrokerEvent]) -> Void
    ) {
        guarded.withLock { guarded in
            let start = guarded.simulator.start()
            guarded.simulator.finishSweeps()
            var outcome: Result<BrokerOrderReport?, BrokerError>
            do throws(BrokerError) {
                outcome = .success(try guarded.simulator.perform(call))
            } catch {
                outcome = .failure(error)
            }
            if let failure = guarded.simulator.finish(start) { outcome = .failure(failure) }
            deliver(outcome, guarded.simulator.takeOutbox())
        }
    }

    public var hasUnfinishedWork: Bool {
        guarded.withLock { $0.simulator.hasUnfinishedSweep }
    }

    /// The next `sweepStep` orders of a quote's pass left unfinished, as one operation.
    public func continueNow(deliver: ([BrokerEvent]) -> Void) {
        guarded.withLock { guarded in
            let start = guarded.simulator.start()
            guarded.simulator.continueSweeps()
            _ = guarded.simulator.finish(start)
            deliver(guarded.simulator.takeOutbox())
        }
    }

    /// How many orders one step of a quote's pass matches at most, by default: about 3 ms of matching
    /// on the 2-core machine, against the 0.6–0.8 s a quote through 100 000 resting orders took in one
    /// call. With 1 000 a step, `status` waited 19–29 ms (median) during that pass; with 500, 9–10 ms,
    /// the whole pass taking about a tenth longer (docs/performance.md).
    public static let sweepStep = 500

    /// How many orders one step of a quote's pass matches at most (at least one); tests make it small.
    public func setSweepStep(_ orders: Int) {
        guarded.withLock { $0.simulator.sweepStep = max(1, orders) }
    }
}

/// How far a paper fill lands from the touch, always against the trader: the market moving between the
/// quote and the fill.
public enum PaperSlippage: Sendable, Hashable {
    case none
    /// Basis points of the touch price (10 = 0.10 %).
    case basisPoints(Price)
    /// A fraction of the quoted spread, ask − bid (0.5 = half the spread); none without both sides.
    case spreadFraction(Price)

    /// The price a fill at `touch` pays (a buy) or receives (a sell) after slippage, never below one
    /// unit of price; truncated to the price's eight decimals.
    public func price(touch: Price, buy: Bool, quote: Quote) -> Price {
        let slip: Price
        switch self {
        case .none:
            return touch
        case .basisPoints(let points):
            slip = Self.fraction(of: touch, times: points, over: 10_000)
        case .spreadFraction(let fraction):
            guard let bid = quote.bid, let ask = quote.ask, ask > bid else { return touch }
            slip = Self.fraction(of: ask - bid, times: fraction, over: 1)
        }
        return buy ? touch + slip : max(Price(units: 1), touch - slip)
    }

    /// `value × factor ÷ divisor` at `value`'s scale, in full width so that large prices do not overflow.
    static func fraction(of value: Price, times factor: Price, over divisor: Int64) -> Price {
        let product = value.units.multipliedFullWidth(by: factor.units)
        let (quotient, _) = (divisor * Price.unitsPerOne).dividingFullWidth(product)
        return Price(units: quotient)
    }
}

/// The refusals the paper broker makes as a real broker would, and how far its fills slip.
public struct PaperRules: Sendable, Hashable {
    /// Symbols that cannot be sold short (no shares to borrow).
    public var hardToBorrow: Set<Symbol>
    /// Whether fractional equity quantities are taken (market and limit orders, day only, as US brokers
    /// offer them); options are always whole contracts.
    public var fractional: Bool
    /// Slippage from the touch on every fill (a limit order's fill never past its limit).
    public var slippage: PaperSlippage
    /// The chance, from 0 to 1, that a resting limit order fills on a quote whose touch is exactly its
    /// limit (the orders queued ahead of it at that price having traded); through its limit it always fills.
    public var queueFillProbability: Price
    /// The largest fraction of a quote's `volume` the account's fills may take; `nil` bounds nothing.
    public var participation: Price?
    /// The seed of the broker's chances (the queue), so that a session replays exactly.
    public var seed: UInt64
    /// How long acknowledgements and reports take.
    public var latency: PaperLatency

    public init(
        hardToBorrow: Set<Symbol> = [], fractional: Bool = false, slippage: PaperSlippage = .none,
        queueFillProbability: Price = Price(1), participation: Price? = nil, seed: UInt64 = 1,
        latency: PaperLatency = PaperLatency()
    ) {
        self.hardToBorrow = hardToBorrow
        self.fractional = fractional
        self.slippage = slippage
        self.queueFillProbability = queueFillProbability
        self.participation = participation
        self.seed = seed
        self.latency = latency
    }

    /// Why a broker would refuse `order` while the account holds `position` of its symbol, or `nil`.
    public func refusal(of order: Order, position: Quantity) -> String? {
        if !order.qty.isWhole {
            if order.symbol.isOption { return "option quantities are whole contracts; \(order.qty) is not" }
            if !fractional { return "this account trades whole shares only; \(order.qty) is not" }
            if ![.market, .limit].contains(order.type) || order.tif != .day {
                return "fractional quantities are taken only on market and limit day orders"
            }
        }
        if hardToBorrow.contains(order.symbol), !order.side.isBuy {
            let long = position.isPositive ? position : .zero
            if order.side == .sellShort || order.qty > long {
                return "\(order.symbol) is hard to borrow: short sales are refused"
            }
        }
        return nil
    }
}

/// How long the paper broker takes: from a submit (or replace) to the order reaching the market and being
/// acknowledged, and from a fill, cancel or expiry to its report.
public struct PaperLatency: Sendable, Hashable {
    public var acknowledgement: Duration
    public var report: Duration

    public init(acknowledgement: Duration = .zero, report: Duration = .zero) {
        self.acknowledgement = acknowledgement
        self.report = report
    }
}

extension Timestamp {
    /// This instant `span` later, to the nanosecond.
    static func + (lhs: Timestamp, span: Duration) -> Timestamp {
        let (seconds, attoseconds) = span.components
        return Timestamp(
            nanosecondsSinceEpoch: lhs.nanosecondsSinceEpoch + seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same chances, run after run.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p` (0 never, 1 always; drawn to the price's eight decimals).
    mutating func chance(_ p: Price) -> Bool {
        if p.units >= Price.unitsPerOne { return true }
        if p.units <= 0 { return false }
        return Int64(next() % UInt64(Price.unitsPerOne)) < p.units
    }
}

/// Failures the paper broker can inject, so that tests can kill the gateway at the worst moment.
public struct PaperFaults: Sendable, Hashable {
    public enum CrashPoint: String, Sendable, Hashable, Codable {
        /// Inside `submit`, before the broker has recorded the order.
        case beforeReceive = "before_receive"
        /// Inside `submit`, after the broker recorded the order but before it answered.
        case afterReceive = "after_receive"
    }

    public var crashInSubmit: CrashPoint?
    /// How many of the ledger's writes succeed before every later one fails, as on a full disk; `nil`:
    /// all succeed.
    public var ledgerWritesBeforeFailing: Int?

    public init(crashInSubmit: CrashPoint? = nil, ledgerWritesBeforeFailing: Int? = nil) {
        self.crashInSubmit = crashInSubmit
        self.ledgerWritesBeforeFailing = ledgerWritesBeforeFailing
    }

    static func die() -> Never {
        kill(getpid(), SIGKILL)
        fatalError("SIGKILL did not end the process")
    }
}
