public import BrokerAPI
public import GatewayCore
import Glibc

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
public actor PaperBroker: BrokerAdapter, QuoteConsumer, BracketCapable {
    public nonisolated let brokerName = "paper"
    public nonisolated let events: AsyncStream<BrokerEvent>
    private let emit: AsyncStream<BrokerEvent>.Continuation
    private let clock: any WallClock
    private let ledger: PaperLedger?
    private let faults: PaperFaults
    private let costs: CostModel
    private let rules: PaperRules
    private nonisolated let calendar: MarketCalendar?
    private var book = PaperBook()
    private let startingCash: Money?
    private var connected = false
    private var random: SplitMix64
    /// Orders on their way to the market (the acknowledgement latency), oldest first.
    private var arriving: [Arrival] = []
    private var inFlight: Set<OrderID> = []
    /// Reports held back by the report latency, in the order they happened.
    private var held: [(due: Timestamp, event: BrokerEvent)] = []
    /// The next session end at which day orders may expire or closing orders fill.
    private var nextSessionEnd = Timestamp(nanosecondsSinceEpoch: .min)

    /// An order reaching the market: its acknowledgements, then the orders that start working.
    private struct Arrival {
        var at: Timestamp
        var ids: Set<OrderID>
        var events: [BrokerEvent]
        var working: [OrderID]
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
        self.startingCash = cash
        book.cash = cash
        self.costs = costs
        self.rules = rules
        self.calendar = calendar
        self.random = SplitMix64(seed: rules.seed)
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
        try tick()
    }

    public func disconnect() async {
        connected = false
        emit.finish()
    }

    public nonisolated func unsupportedReason(for order: Order) -> String? {
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
        guard connected else { throw .notConnected(brokerName) }
        try tick()
        guard book.orders[order.orderID] == nil else {
            throw BrokerError(
                .nonRetryable, code: "duplicate_order", message: "order \(order.orderID) already received")
        }
        try refuseLikeABroker(order)
        if faults.crashInSubmit == .beforeReceive { PaperFaults.die() }
        let brokerID = "paper-\(order.orderID)"
        try apply(.received(order, brokerOrderID: brokerID))
        if faults.crashInSubmit == .afterReceive { PaperFaults.die() }
        try send(
            [order.orderID], [.acknowledged(order.orderID, brokerOrderID: brokerID, ts: clock.now())],
            working: [order.orderID])
    }

    /// Holds the stop and target until the entry fills, then works them as one-cancels-other; an OCO's
    /// limit and stop work at once.
    public func submitBracket(entry: Order, stop: Order?, target: Order?) async throws(BrokerError) {
        guard connected else { throw .notConnected(brokerName) }
        try tick()
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
        let all = [entry] + children
        try send(
            Set(all.map(\.orderID)),
            all.map { .acknowledged($0.orderID, brokerOrderID: "paper-\($0.orderID)", ts: clock.now()) },
            working: [entry.orderID] + (entry.orderClass == .oco ? children.map(\.orderID) : []))
    }

    /// Acknowledges orders and starts working them now, or after the acknowledgement latency.
    private func send(_ ids: Set<OrderID>, _ acknowledgements: [BrokerEvent], working: [OrderID]) throws(BrokerError) {
        let arrival = Arrival(
            at: clock.now() + rules.latency.acknowledgement, ids: ids, events: acknowledgements, working: working)
        guard rules.latency.acknowledgement > .zero else { return try land(arrival) }
        arriving.append(arrival)
        inFlight.formUnion(ids)
    }

    private func land(_ arrival: Arrival) throws(BrokerError) {
        inFlight.subtract(arrival.ids)
        for event in arrival.events { emit.yield(event) }
        for id in arrival.working { try match(id, fresh: true) }
    }

    /// An order still on its way reaches the market before anything else happens to it.
    private func landNow(_ id: OrderID) throws(BrokerError) {
        guard inFlight.contains(id), let index = arriving.firstIndex(where: { $0.ids.contains(id) }) else { return }
        try land(arriving.remove(at: index))
    }

    public func cancel(_ order: Order) async throws(BrokerError) {
        guard connected else { throw .notConnected(brokerName) }
        try tick()
        try landNow(order.orderID)
        guard let resting = book.orders[order.orderID], resting.status.isOpen else {
            report(.cancelRejected(order.orderID, reason: "the order is not working", ts: clock.now()))
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
        try tick()
        try landNow(order.orderID)
        guard let resting = book.orders[order.orderID], resting.status.isOpen else {
            report(
                .replaceRejected(
                    old: order.orderID, new: replacement.orderID, reason: "the order is not working",
                    ts: clock.now()))
            return
        }
        let brokerID = "paper-\(replacement.orderID)"
        try apply(.replaced(order.orderID, by: replacement, brokerOrderID: brokerID))
        try send(
            [replacement.orderID],
            [.replaced(old: order.orderID, new: replacement.orderID, brokerOrderID: brokerID, ts: clock.now())],
            working: [replacement.orderID])
    }

    public func receive(_ quote: Quote) async {
        do {
            try tick()
            book.quotes[quote.symbol] = book.quotes[quote.symbol]?.merged(with: quote) ?? quote
            if let rate = rules.participation, let volume = quote.volume {
                book.volumeLeft[quote.symbol] = PaperMatching.share(of: volume, rate: rate, whole: !rules.fractional)
            }
            for id in book.working(symbol: quote.symbol) {
                // An opening order is filled by the session's first quote, as an auction would.
                try match(id, fresh: false, auction: book.orders[id]?.order.tif == .opg)
            }
        } catch {
            return  // the ledger failed: report nothing further
        }
    }

    /// Moves the broker to the clock's time: orders whose acknowledgement latency has passed reach the
    /// market, day orders past their session's close expire, closing orders fill at the close, and
    /// reports whose latency has passed are delivered.
    public func advance() async {
        guard connected else { return }
        try? tick()
    }

    /// Orders on their way to the market and reports held back: what `advance()` has yet to deliver.
    public var pendingCount: Int { arriving.count + held.count }

    /// Calls `advance()` every `interval` until the task is canceled (gatewayd's timer).
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            await advance()
        }
    }

    private func tick() throws(BrokerError) {
        let now = clock.now()
        while let first = arriving.first, first.at <= now {
            arriving.removeFirst()
            try land(first)
        }
        try endSessions(now)
        while let first = held.first, first.due <= now {
            held.removeFirst()
            emit.yield(first.event)
        }
    }

    /// At a session's end: closing orders fill at the last quote, as the closing auction would; day and
    /// opening orders of that session expire; options of that day settle. Without a calendar a day ends at
    /// midnight UTC, and only options settle. Between session ends this costs one comparison.
    private func endSessions(_ now: Timestamp) throws(BrokerError) {
        guard now >= nextSessionEnd else { return }
        guard let calendar else {
            try settleExpiredOptions(nil, now)
            let day = PaperBroker.nanosPerDay
            nextSessionEnd = Timestamp(nanosecondsSinceEpoch: (now.nanosecondsSinceEpoch / day + 1) * day)
            return
        }
        for id in book.arrival {
            guard let resting = book.orders[id], resting.status.isOpen else { continue }
            let order = resting.order
            switch order.tif {
            case .cls where calendar.nextClose(after: order.createdAt) <= now:
                try match(id, fresh: true, auction: true)
            case .day, .opg:
                if calendar.dayOrderExpiry(placedAt: order.createdAt, extended: order.extendedHours == true) <= now {
                    try apply(.expired(id))
                    report(.expired(id, ts: now))
                    try cancelChildren(of: id, reason: "the bracket's entry expired")
                }
            default:
                break
            }
        }
        try settleExpiredOptions(calendar, now)
        nextSessionEnd = min(calendar.nextClose(after: now), calendar.dayOrderExpiry(placedAt: now, extended: true))
    }

    /// At the close of an option's expiry day, as the OCC does: one out of the money (or in it by less than
    /// a cent) expires worthless; one in the money is exercised if held long, assigned if held short, into
    /// 100 shares of the underlying per contract at the strike. The underlying's last quote decides; an
    /// option whose underlying has no quote yet stays until one comes.
    /// Without a calendar, an option settles at the end of its expiry date, UTC.
    private func settleExpiredOptions(_ calendar: MarketCalendar?, _ now: Timestamp) throws(BrokerError) {
        for position in book.positions.values.sorted(by: { $0.symbol < $1.symbol }) where !position.isFlat {
            guard case .option(let contract) = position.symbol.kind else { continue }
            let expiry = contract.expiration
            let deadline =
                calendar?.instant(expiry, minute: calendar!.closeMinute(expiry))
                ?? Timestamp(nanosecondsSinceEpoch: (expiry.daysSinceEpoch + 1) * PaperBroker.nanosPerDay)
            guard deadline <= now,
                let underlying = Symbol(contract.root), let spot = book.quotes[underlying]?.mark
            else { continue }
            let call = contract.right == .call
            let moneyness = call ? spot - contract.strike : contract.strike - spot
            let inTheMoney = moneyness >= Price("0.01")!
            let contracts = position.qty
            let shares = Quantity(units: contracts.units * Int64(position.symbol.multiplier) * (call ? 1 : -1))
            let settlement = BrokerSettlement(
                id: "\(contract.compactSymbol)-\(expiry)",
                kind: !inTheMoney ? .expired : contracts.isPositive ? .exercised : .assigned,
                option: position.symbol, contracts: contracts, underlying: inTheMoney ? underlying : nil,
                shares: inTheMoney ? shares : .zero, strike: contract.strike, ts: now)
            try apply(.settled(settlement))
            report(.settlement(settlement))
        }
    }

    static let nanosPerDay: Int64 = 86_400_000_000_000

    /// Reports an event now, or after the report latency.
    private func report(_ event: BrokerEvent) {
        guard rules.latency.report > .zero else {
            emit.yield(event)
            return
        }
        held.append((clock.now() + rules.latency.report, event))
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
        report(
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

    /// Whether the market is open for this order now: the regular session, or extended hours for an
    /// order that asked for them; always without a calendar.
    private func inSession(_ order: Order.SharedTerms) -> Bool {
        guard let calendar else { return true }
        switch calendar.phase(at: clock.now()) {
        case .regular: return true
        case .preMarket, .afterHours: return order.extendedHours == true
        case .closed: return false
        }
    }

    /// Fills the order, or as much of it as the quote's size at the touch (and the participation rate)
    /// offers, if the current quote allows; an IOC order's rest and a FOK order that cannot fill whole now
    /// are canceled. What a fill takes is gone from the quote's size until the next quote of that side.
    /// An `auction` is an opening or closing order's one chance: it fills what it can then, like an IOC.
    private func match(_ id: OrderID, fresh: Bool, auction: Bool = false) throws(BrokerError) {
        guard var resting = book.orders[id], resting.status.isOpen, !inFlight.contains(id) else { return }
        let order = resting.order
        if order.tif == .opg || order.tif == .cls {
            guard auction, order.tif == .cls || calendar?.phase(at: clock.now()) == .regular else { return }
        } else if !inSession(order) {
            return
        }
        if order.legs != nil { return try matchSpread(resting, fresh: fresh) }
        let immediate = auction || (fresh && (order.tif == .ioc || order.tif == .fok))
        let quote = book.quotes[order.symbol]
        if order.type == .trailingStop, !resting.triggered, let quote {
            let (best, hit) = PaperMatching.trail(resting, quote: quote)
            if let best, best != resting.watermark { try apply(.watermark(id, best)) }
            if hit { try apply(.triggered(id)) }
            resting = book.orders[id] ?? resting
        }
        if let touch = PaperMatching.fillPrice(for: resting, quote: quote), let quote {
            // A limit that was resting fills at its limit: the market came to it. At the touch exactly,
            // only if the orders ahead of it in the queue have traded (a seeded chance per quote).
            let restingLimit = !fresh && !auction && PaperMatching.isRestingLimit(resting)
            if restingLimit, touch == order.limitPrice, !random.chance(rules.queueFillProbability) { return }
            let offered = PaperMatching.size(at: touch, buy: order.side.isBuy, quote: quote)
            let volume = rules.participation == nil ? nil : book.volumeLeft[order.symbol]
            let qty = min(resting.leaves, offered ?? resting.leaves, volume ?? resting.leaves)
            guard qty.isPositive, !(fresh && order.tif == .fok && qty < resting.leaves) else {
                if immediate {
                    try markCanceled(id, reason: "\(order.tif.rawValue) order could not fill at once: \(qty) offered")
                }
                return
            }
            let price =
                restingLimit
                ? order.limitPrice ?? touch
                : PaperMatching.slipped(touch, order: order, quote: quote, slippage: rules.slippage)
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
            if let volume { book.volumeLeft[order.symbol] = volume - qty }
            report(.fill(fill))
            if immediate && qty < resting.leaves {
                try markCanceled(
                    id, reason: "\(order.tif.rawValue) order: the \(resting.leaves - qty) not offered at once canceled")
            }
            try afterFill(of: id)
        } else if PaperMatching.isTriggered(resting, quote: quote), !resting.triggered {
            try apply(.triggered(id))
        } else if immediate {
            try markCanceled(id, reason: "\(order.tif.rawValue) order could not fill at once")
        }
    }

    /// Records a cancel in the ledger and reports it.
    private func markCanceled(_ id: OrderID, reason: String?) throws(BrokerError) {
        try apply(.canceled(id))
        report(.canceled(id, reason: reason, ts: clock.now()))
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
        report(.fill(fill))
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
        // A released child reaches the market as a new order: marketable, it takes the touch.
        for child in children { try match(child, fresh: true) }
    }

    /// The refusals a US broker makes before taking an order: a quantity that is not whole where it must
    /// be, a short sale of a symbol on the hard-to-borrow list, an immediate or auction order the market's
    /// hours cannot take now, and a buy the cash cannot pay for.
    private func refuseLikeABroker(_ order: Order) throws(BrokerError) {
        if let reason = marketClosedReason(order) {
            throw BrokerError(.nonRetryable, code: "rejected", message: reason)
        }
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

    /// Why the market's hours refuse the order now: an IOC or FOK order outside the regular session, an
    /// opening order once the open is two minutes away or past, a closing order in the last ten minutes
    /// before the close.
    private func marketClosedReason(_ order: Order) -> String? {
        guard let calendar else { return nil }
        let now = clock.now()
        let (date, minute) = calendar.local(now)
        let tradingDay = calendar.isTradingDay(date)
        let close = calendar.closeMinute(date)
        switch order.tif {
        case .ioc, .fok:
            guard calendar.phase(at: now) != .regular else { return nil }
            return "market closed: \(order.tif.rawValue) orders are taken only in the session (\(calendar.hours))"
        case .opg:
            guard tradingDay, minute >= calendar.open - 2, minute < close else { return nil }
            return "market closed for opg: opening orders are taken until "
                + "\(MarketCalendar.clock(calendar.open - 2)) for the next open"
        case .cls:
            guard tradingDay, minute >= close - 10, minute < close else { return nil }
            return "market closed for cls: closing orders are taken until \(MarketCalendar.clock(close - 10))"
        case .day, .gtc:
            return nil
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

    public init(crashInSubmit: CrashPoint? = nil) { self.crashInSubmit = crashInSubmit }

    static func die() -> Never {
        kill(getpid(), SIGKILL)
        fatalError("SIGKILL did not end the process")
    }
}
