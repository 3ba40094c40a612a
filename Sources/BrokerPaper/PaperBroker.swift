public import BrokerAPI
public import GatewayCore
import Glibc

/// The built-in paper broker: a market order fills at the last quote (the ask for buys, the bid for
/// sells) or waits for the first quote; a limit order rests and fills when a quote crosses it; stop and
/// stop-limit orders trigger on the quote; a spread fills all legs or none at their touches' net. Every
/// fill is the whole order at one price, moved from the touch by the configured slippage (never past a
/// limit), and carries the account's costs (`CostModel`: commission and fees on sales).
///
/// Like a real broker it outlives the gateway when given a ledger file: it writes every order it
/// receives and everything that happens to it there before reporting it, and reads the file back on
/// `connect()`, so a gateway that crashed can ask it what became of an order.
public actor PaperBroker: BrokerAdapter, QuoteConsumer, BracketCapable {
    public nonisolated let brokerName = "paper"
    public nonisolated let events: AsyncStream<BrokerEvent>
    private let emit: AsyncStream<BrokerEvent>.Continuation
    private let clock: any WallClock
    private let ledger: PaperLedger?
    private let faults: PaperFaults
    private let costs: CostModel
    private let rules: PaperRules
    private var book = PaperBook()
    private let startingCash: Money?
    private var connected = false

    /// - Parameters:
    ///   - cash: the account's starting cash at this broker; with it, buys it cannot pay for are refused
    ///     and `accountReport` answers; `nil` (the default) keeps no cash and refuses nothing for it.
    ///   - ledgerPath: where the broker keeps its own record; `nil` keeps everything in memory.
    ///   - faults: failures to inject, for the gateway's crash tests.
    public init(
        clock: any WallClock, ledgerPath: String? = nil, faults: PaperFaults = PaperFaults(),
        costs: CostModel = CostModel(), rules: PaperRules = PaperRules(), cash: Money? = nil
    ) {
        self.startingCash = cash
        book.cash = cash
        self.costs = costs
        self.rules = rules
        (events, emit) = AsyncStream.makeStream(of: BrokerEvent.self)
        self.clock = clock
        self.ledger = ledgerPath.map(PaperLedger.init(path:))
        self.faults = faults
    }

    public func connect() async throws(BrokerError) {
        guard !connected else { return }
        if let ledger {
            do {
                book = try ledger.load(cash: startingCash)
            } catch {
                throw BrokerError(.fatal, code: "ledger", message: "cannot read the paper ledger: \(error)")
            }
        }
        connected = true
    }

    public func disconnect() async {
        connected = false
        emit.finish()
    }

    public nonisolated func unsupportedReason(for order: Order) -> String? {
        if order.legs != nil, order.type != .market, order.type != .limit {
            return "the paper broker fills spreads as market or limit orders at a net price"
        }
        return switch (order.type, order.tif) {
        case (_, .opg), (_, .cls): "the paper broker has no opening or closing auction"
        default: nil
        }
    }

    public func submit(_ order: Order) async throws(BrokerError) {
        guard connected else { throw .notConnected(brokerName) }
        guard book.orders[order.orderID] == nil else {
            throw BrokerError(
                .nonRetryable, code: "duplicate_order", message: "order \(order.orderID) already received")
        }
        try refuseLikeABroker(order)
        if faults.crashInSubmit == .beforeReceive { PaperFaults.die() }
        let brokerID = "paper-\(order.orderID)"
        try apply(.received(order, brokerOrderID: brokerID))
        if faults.crashInSubmit == .afterReceive { PaperFaults.die() }
        emit.yield(.acknowledged(order.orderID, brokerOrderID: brokerID, ts: clock.now()))
        try match(order.orderID, fresh: true)
    }

    /// Holds the stop and target until the entry fills, then works them as one-cancels-other; an OCO's
    /// limit and stop work at once.
    public func submitBracket(entry: Order, stop: Order?, target: Order?) async throws(BrokerError) {
        guard connected else { throw .notConnected(brokerName) }
        let children = [stop, target].compactMap { $0 }
        for order in [entry] + children where book.orders[order.orderID] != nil {
            throw BrokerError(
                .nonRetryable, code: "duplicate_order", message: "order \(order.orderID) already received")
        }
        for order in [entry] + children { try refuseLikeABroker(order) }
        if faults.crashInSubmit == .beforeReceive { PaperFaults.die() }
        try apply(.received(entry, brokerOrderID: "paper-\(entry.orderID)"))
        for child in children {
            let sibling = children.first { $0.orderID != child.orderID }?.orderID
            try apply(
                .receivedChild(child, brokerOrderID: "paper-\(child.orderID)", parent: entry.orderID, sibling: sibling))
        }
        if faults.crashInSubmit == .afterReceive { PaperFaults.die() }
        for order in [entry] + children {
            emit.yield(.acknowledged(order.orderID, brokerOrderID: "paper-\(order.orderID)", ts: clock.now()))
        }
        try match(entry.orderID, fresh: true)
        if entry.orderClass == .oco {
            for child in children { try match(child.orderID, fresh: true) }
        }
    }

    public func cancel(_ order: Order) async throws(BrokerError) {
        guard connected else { throw .notConnected(brokerName) }
        guard let resting = book.orders[order.orderID], resting.status.isOpen else {
            emit.yield(.cancelRejected(order.orderID, reason: "the order is not working", ts: clock.now()))
            return
        }
        try markCanceled(order.orderID, reason: nil)
        try cancelChildren(of: order.orderID, reason: "the bracket's entry was canceled")
        // Canceling either side of an OCO cancels the pair, as brokers do.
        if resting.order.orderClass == .oco, let sibling = resting.sibling, book.orders[sibling]?.status.isOpen == true
        {
            try markCanceled(sibling, reason: "one-cancels-other: \(order.orderID) was canceled")
        }
    }

    /// Cancels the held or working children of a bracket entry.
    private func cancelChildren(of parent: OrderID, reason: String) throws(BrokerError) {
        for child in book.children(of: parent) where book.orders[child]?.status.isOpen == true {
            try markCanceled(child, reason: reason)
        }
    }

    public func replace(_ order: Order, with replacement: Order) async throws(BrokerError) {
        guard connected else { throw .notConnected(brokerName) }
        guard let resting = book.orders[order.orderID], resting.status.isOpen else {
            emit.yield(
                .replaceRejected(
                    old: order.orderID, new: replacement.orderID, reason: "the order is not working",
                    ts: clock.now()))
            return
        }
        let brokerID = "paper-\(replacement.orderID)"
        try apply(.replaced(order.orderID, by: replacement, brokerOrderID: brokerID))
        emit.yield(.replaced(old: order.orderID, new: replacement.orderID, brokerOrderID: brokerID, ts: clock.now()))
        try match(replacement.orderID, fresh: true)
    }

    public func receive(_ quote: Quote) async {
        book.quotes[quote.symbol] = book.quotes[quote.symbol]?.merged(with: quote) ?? quote
        for id in book.working(symbol: quote.symbol) {
            do {
                try match(id, fresh: false)
            } catch {
                return  // the ledger failed: report nothing further
            }
        }
    }

    public func orderReport(for orderID: OrderID) async throws(BrokerError) -> BrokerOrderReport? {
        guard connected else { throw .notConnected(brokerName) }
        return book.orders[orderID]?.report
    }

    public func openOrders() async throws(BrokerError) -> [BrokerOrderReport] {
        guard connected else { throw .notConnected(brokerName) }
        return openReports
    }

    public func positions() async throws(BrokerError) -> [BrokerPositionReport] {
        guard connected else { throw .notConnected(brokerName) }
        return positionReports
    }

    /// Working orders, by id, with their terms.
    private var openReports: [BrokerOrderReport] {
        book.orders.values.filter(\.status.isOpen).sorted { $0.order.orderID < $1.order.orderID }.map(\.report)
    }

    /// Positions that are not flat, by symbol.
    private var positionReports: [BrokerPositionReport] {
        book.positions.values.filter { !$0.isFlat }.sorted { $0.symbol < $1.symbol }.map {
            BrokerPositionReport(symbol: $0.symbol, qty: $0.qty, avgPrice: $0.avgPrice)
        }
    }

    /// Its working orders with their terms, and its positions, read in one step (nothing can fill between
    /// the two): the paper broker reports every fill as it happens, so it never has missed ones. Without a
    /// ledger it remembers nothing from before this run, so it has no positions to compare.
    public func reconcile(tag: UInt64, since: Timestamp?) async throws(BrokerError) {
        guard connected else { throw .notConnected(brokerName) }
        emit.yield(
            .snapshot(
                BrokerSnapshot(tag: tag, openOrders: openReports, positions: ledger == nil ? nil : positionReports)))
    }

    public func accountReport() async throws(BrokerError) -> BrokerAccountReport {
        guard connected else { throw .notConnected(brokerName) }
        guard let cash = book.cash else {
            throw BrokerError(
                .nonRetryable, code: "not_supported", message: "the paper broker keeps no cash of its own")
        }
        var equity = cash
        for position in book.positions.values where !position.isFlat {
            let mark = book.quotes[position.symbol]?.mark ?? position.avgPrice ?? .zero
            let value = mark.notional(position.qty.magnitude, multiplier: position.symbol.multiplier) ?? .zero
            equity = position.qty.isPositive ? equity + value : equity - value
        }
        return BrokerAccountReport(
            currency: "USD", cash: cash, equity: equity, buyingPower: cash - book.committedToBuys)
    }

    private func reference(_ order: Order) -> Price? {
        let quote = book.quotes[order.symbol]
        return order.limitPrice ?? order.stopPrice ?? quote?.ask ?? quote?.last
    }

    /// Fills the order, or as much of it as the quote's size at the touch offers, if the current quote
    /// allows; an IOC order's rest and a FOK order that cannot fill whole now are canceled. What a fill
    /// takes is gone from the quote's size until the next quote of that side.
    private func match(_ id: OrderID, fresh: Bool) throws(BrokerError) {
        guard var resting = book.orders[id], resting.status.isOpen else { return }
        if resting.order.legs != nil { return try matchSpread(resting, fresh: fresh) }
        let quote = book.quotes[resting.order.symbol]
        let order = resting.order
        if order.type == .trailingStop, !resting.triggered, let quote {
            let (best, hit) = PaperMatching.trail(resting, quote: quote)
            if let best, best != resting.watermark { try apply(.watermark(id, best)) }
            if hit { try apply(.triggered(id)) }
            resting = book.orders[id] ?? resting
        }
        if let touch = PaperMatching.fillPrice(for: resting, quote: quote), let quote {
            let offered = PaperMatching.size(at: touch, buy: order.side.isBuy, quote: quote)
            let qty = min(resting.leaves, offered ?? resting.leaves)
            guard qty.isPositive, !(fresh && order.tif == .fok && qty < resting.leaves) else {
                if fresh && (order.tif == .ioc || order.tif == .fok) {
                    try markCanceled(id, reason: "\(order.tif.rawValue) order could not fill at once: \(qty) offered")
                }
                return
            }
            let price = PaperMatching.slipped(touch, order: order, quote: quote, slippage: rules.slippage)
            let commission = cost(order.symbol, order.side, qty, price)
            let fill = BrokerFill(
                orderID: id, fillID: FillID("\(id)-f\(resting.fills.count + 1)")!, qty: qty, price: price,
                commission: commission, ts: clock.now())
            try apply(.filled(fill))
            if let offered {
                if order.side.isBuy {
                    book.quotes[order.symbol]?.askSize = offered - qty
                } else {
                    book.quotes[order.symbol]?.bidSize = offered - qty
                }
            }
            emit.yield(.fill(fill))
            if fresh && order.tif == .ioc && qty < resting.leaves {
                try markCanceled(id, reason: "ioc order: the \(resting.leaves - qty) not offered at once canceled")
            }
            try afterFill(of: id)
        } else if PaperMatching.isTriggered(resting, quote: quote), !resting.triggered {
            try apply(.triggered(id))
        } else if fresh && (resting.order.tif == .ioc || resting.order.tif == .fok) {
            try markCanceled(id, reason: "\(resting.order.tif.rawValue) order could not fill at once")
        }
    }

    /// Records a cancel in the ledger and reports it.
    private func markCanceled(_ id: OrderID, reason: String?) throws(BrokerError) {
        try apply(.canceled(id))
        emit.yield(.canceled(id, reason: reason, ts: clock.now()))
    }

    /// What trading `qty` of `symbol` costs (commission and fees), counting the part that closes a
    /// position for models that charge nothing to close.
    private func cost(_ symbol: Symbol, _ side: OrderSide, _ qty: Quantity, _ price: Price) -> Money {
        let held = book.positions[symbol]?.qty ?? .zero
        let closing =
            side.isBuy
            ? (held.isNegative ? min(qty, held.magnitude) : .zero) : (held.isPositive ? min(qty, held) : .zero)
        return costs.cost(symbol: symbol, qty: qty, price: price, isSale: !side.isBuy, closingQty: closing)
    }

    /// A multi-leg order fills whole or not at all, every leg in the same step, at the net of the legs'
    /// touches; each leg carries its own costs (an option's per-contract commission, fees on sales).
    private func matchSpread(_ resting: PaperBook.Resting, fresh: Bool) throws(BrokerError) {
        let order = resting.order
        guard let (net, legs) = PaperMatching.spreadFill(for: order, quotes: book.quotes) else {
            if fresh && (order.tif == .ioc || order.tif == .fok) {
                try markCanceled(order.orderID, reason: "\(order.tif.rawValue) spread could not fill at once")
            }
            return
        }
        var commission = Money.zero
        for (leg, priced) in zip(order.legs ?? [], legs) {
            commission += cost(leg.symbol, leg.side, leg.quantity(resting.leaves), priced.price)
        }
        let fill = BrokerFill(
            orderID: order.orderID, fillID: FillID("\(order.orderID)-f\(resting.fills.count + 1)")!,
            qty: resting.leaves,
            price: net, commission: commission, ts: clock.now(), legs: legs)
        try apply(.filled(fill))
        emit.yield(.fill(fill))
    }

    /// A filled entry releases its bracket children; a filled child cancels its sibling in the same step,
    /// so both can never fill.
    private func afterFill(of id: OrderID) throws(BrokerError) {
        guard let filled = book.orders[id], filled.status == .filled else { return }
        if let sibling = filled.sibling, book.orders[sibling]?.status.isOpen == true {
            try markCanceled(sibling, reason: "one-cancels-other: \(id) filled")
        }
        let children = book.children(of: id).filter { book.orders[$0]?.held == true }
        for child in children { try apply(.activated(child)) }
        for child in children { try match(child, fresh: false) }
    }

    /// The refusals a US broker makes before taking an order: a quantity that is not whole where it must
    /// be, and a short sale of a symbol on the hard-to-borrow list.
    private func refuseLikeABroker(_ order: Order) throws(BrokerError) {
        if order.legs != nil {
            guard order.qty.isWhole else {
                throw BrokerError(
                    .nonRetryable, code: "rejected", message: "a spread's quantity is whole; \(order.qty) is not")
            }
            return
        }
        if let reason = rules.refusal(of: order, position: book.positions[order.symbol]?.qty ?? .zero) {
            throw BrokerError(.nonRetryable, code: "rejected", message: reason)
        }
        // A buy the cash left after the working buys cannot pay for, at its limit or the ask.
        if let cash = book.cash, order.side.isBuy, let price = reference(order),
            let cost = price.notional(order.qty, multiplier: order.symbol.multiplier)
        {
            let available = cash - book.committedToBuys
            if cost > available {
                throw BrokerError(
                    .nonRetryable, code: "rejected",
                    message: "insufficient buying power: the order needs \(cost), the account has \(available)")
            }
        }
    }

    /// Writes the change to the ledger, then to the book.
    private func apply(_ entry: PaperLedger.Entry) throws(BrokerError) {
        if let ledger {
            do {
                try ledger.append(entry)
            } catch {
                throw BrokerError(.unknownOutcome, code: "ledger", message: "cannot write the paper ledger: \(error)")
            }
        }
        book.apply(entry)
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

    public init(hardToBorrow: Set<Symbol> = [], fractional: Bool = false, slippage: PaperSlippage = .none) {
        self.hardToBorrow = hardToBorrow
        self.fractional = fractional
        self.slippage = slippage
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

/// Failures the paper broker can inject, so that tests can kill the gateway at the worst moment.
public struct PaperFaults: Sendable, Hashable {
    public enum CrashPoint: String, Sendable, Hashable, Codable {
        /// Inside `submit`, before the broker has recorded the order.
        case beforeReceive = "before_receive"
        /// Inside `submit`, after the broker recorded the order but before it answered.
        case afterReceive = "after_receive"
    }

    public var crashInSubmit: CrashPoint?

    public init(crashInSubmit: CrashPoint? = nil) { self.crashInSubmit = crashInSubmit }

    static func die() -> Never {
        kill(getpid(), SIGKILL)
        fatalError("SIGKILL did not end the process")
    }
}
