import BrokerAPI
import GatewayCore

/// The paper broker's state and rules, changed only through `PaperBroker`, which holds it under a lock: a
/// plain value, so that one call runs to its end on whichever thread makes it — a task's, or the engine's
/// own (`DirectBroker`). What it reports waits in `outbox` until `PaperBroker` passes it on.
struct PaperSimulator {
    static let brokerName = "paper"
    /// Reported and not yet passed on, oldest first.
    var outbox: [BrokerEvent] = []
    let clock: any WallClock
    private let ledger: PaperLedger?
    private let faults: PaperFaults
    private let costs: CostModel
    private let rules: PaperRules
    let calendar: MarketCalendar?
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
    /// The ledger lines of the operation under way, written when it ends (`finish`).
    private var unwritten: [UInt8] = []
    /// Lines appended to the ledger since it was read or last compacted, and how many of them (at least)
    /// make the next compaction due (`compactIfDue`).
    private var linesSinceCompaction = 0
    private var compactionDue = PaperBroker.ledgerRewriteLines
    /// Lines appended between two compactions at the least (`PaperBroker.ledgerRewriteLines`).
    private var compactEvery = PaperBroker.ledgerRewriteLines
    /// Finished orders past those the book keeps that one operation lets go of, at most (`PaperBook.shed`).
    static let shedPerOperation = 1_000
    /// Quotes' passes through their symbols' working orders that a step left unfinished, oldest first
    /// (`receive(_:step:)`).
    private var sweeps: [Sweep] = []

    /// A quote's pass through the orders that were working on its symbol when it came, in their priority,
    /// as far as `next`.
    private struct Sweep {
        let ids: [OrderID]
        var next = 0
    }

    /// Whether a quote's pass through its orders was cut short, its rest waiting for `continueSweeps`.
    var hasUnfinishedSweep: Bool { !sweeps.isEmpty }
    /// Orders one step of a quote's pass matches at most (`perform`, `continueSweeps`, `advance`).
    var sweepStep = PaperBroker.sweepStep

    /// Starts reading the ledger ahead of `connect()` (`PaperLedger.readAhead`).
    func readLedgerAhead() {
        ledger?.readAhead(cash: startingCash, finishedKept: book.finishedKept)
    }

    /// How many finished orders the book keeps, and how many lines at the least between two compactions
    /// (tests make both small).
    mutating func setRetention(finishedOrders: Int, compactEvery: Int) {
        book.finishedKept = max(1, finishedOrders)
        self.compactEvery = max(1, compactEvery)
        compactionDue = self.compactEvery
    }

    /// An order reaching the market: its acknowledgements, then the orders that start working.
    fileprivate struct Arrival {
        var at: Timestamp
        var ids: Set<OrderID>
        var events: [BrokerEvent]
        var working: [OrderID]
    }

    init(
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
        self.clock = clock
        self.ledger = ledgerPath.map { PaperLedger(path: $0, writesBeforeFailing: faults.ledgerWritesBeforeFailing) }
        self.faults = faults
    }

    /// Makes one call; an order report for `.orderReport`, else `nil`. A quote matches at most `sweepStep`
    /// of the orders it may fill (`receive(_:step:)`).
    mutating func perform(_ call: BrokerCall) throws(BrokerError) -> BrokerOrderReport? {
        switch call {
        case .submit(let order): try submit(order)
        case .cancel(let order): try cancel(order)
        case .replace(let order, let replacement): try replace(order, with: replacement)
        case .submitBracket(let entry, let stop, let target):
            try submitBracket(entry: entry, stop: stop, target: target)
        case .quote(let quote): receive(quote, step: sweepStep)
        case .reconcile(let tag, let since): try reconcile(tag: tag, since: since)
        case .orderReport(let id): return try orderReport(for: id)
        }
        return nil
    }

    /// What was reported since the last time, oldest first; the outbox is left empty.
    mutating func takeOutbox() -> [BrokerEvent] {
        guard !outbox.isEmpty else { return [] }
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    mutating func connect() throws(BrokerError) {
        guard !connected else { return }
        if let ledger {
            do {
                let finishedKept = book.finishedKept
                let read =
                    try ledger.takeReadAhead(cash: startingCash, finishedKept: finishedKept)
                    ?? ledger.loadCounting(cash: startingCash, finishedKept: finishedKept)
                (book, linesSinceCompaction) = (read.book, read.lines)
            } catch {
                throw BrokerError(.fatal, code: "ledger", message: "cannot read the paper ledger: \(error)")
            }
            compactIfDue()
        }
        connected = true
        try tick()
    }

    /// Rewrites the ledger as the book stands once enough lines have been appended since it was last
    /// rewritten, on a thread of its own from a copy of the book (`PaperLedger.compactInBackground`), so
    /// that a start reads a bounded number of lines. A rewrite that cannot start, or fails, leaves the
    /// ledger as it was; the next is tried after as many lines more.
    ///
    /// Not while a quote's pass is under way (`sweeps`): each step changes the orders the copy holds, and
    /// the copy kept the old version of each (with 100 000 resting orders, its dictionary alone is about
    /// 6 MiB). The pass's last step rewrites it, with the orders it finished shed.
    private mutating func compactIfDue() {
        guard let ledger, sweeps.isEmpty, linesSinceCompaction >= max(compactionDue, 8 * book.orders.count) else {
            return
        }
        if ledger.compactInBackground(book, startingCash: startingCash) {
            linesSinceCompaction = 0
            compactionDue = compactEvery
        } else {
            compactionDue = linesSinceCompaction + compactEvery
        }
    }

    /// Waits for a rewrite of the ledger under way to end.
    func waitForLedgerRewrite() {
        ledger?.waitForRewrite()
    }

    /// Stops trading; a rewrite of the ledger under way ends first.
    mutating func disconnect() {
        connected = false
        sweeps.removeAll()
        ledger?.waitForRewrite()
    }

    mutating func submit(_ order: Order) throws(BrokerError) {
        guard connected else { throw .notConnected(Self.brokerName) }
        try tick()
        guard book.orders[order.orderID] == nil else {
            throw BrokerError(
                .nonRetryable, code: "duplicate_order", message: "order \(order.orderID) already received")
        }
        try refuseLikeABroker(order)
        if faults.crashInSubmit == .beforeReceive {
            writeBeforeDying()
            PaperFaults.die()
        }
        let brokerID = "paper-\(order.orderID)"
        try apply(.received(order, brokerOrderID: brokerID))
        if faults.crashInSubmit == .afterReceive {
            writeBeforeDying()
            PaperFaults.die()
        }
        try send(
            CollectionOfOne(order.orderID),
            CollectionOfOne(.acknowledged(order.orderID, brokerOrderID: brokerID, ts: clock.now())),
            working: CollectionOfOne(order.orderID))
    }

    /// Holds the stop and target until the entry fills, then works them as one-cancels-other; an OCO's
    /// limit and stop work at once.
    mutating func submitBracket(entry: Order, stop: Order?, target: Order?) throws(BrokerError) {
        guard connected else { throw .notConnected(Self.brokerName) }
        try tick()
        let children = [stop, target].compactMap { $0 }
        for order in [entry] + children where book.orders[order.orderID] != nil {
            throw BrokerError(
                .nonRetryable, code: "duplicate_order", message: "order \(order.orderID) already received")
        }
        for order in [entry] + children { try refuseLikeABroker(order) }
        if faults.crashInSubmit == .beforeReceive {
            writeBeforeDying()
            PaperFaults.die()
        }
        try apply(.received(entry, brokerOrderID: "paper-\(entry.orderID)"))
        for child in children {
            let sibling = children.first { $0.orderID != child.orderID }?.orderID
            try apply(
                .receivedChild(child, brokerOrderID: "paper-\(child.orderID)", parent: entry.orderID, sibling: sibling))
        }
        if faults.crashInSubmit == .afterReceive {
            writeBeforeDying()
            PaperFaults.die()
        }
        let all = [entry] + children
        try send(
            Set(all.map(\.orderID)),
            all.map { .acknowledged($0.orderID, brokerOrderID: "paper-\($0.orderID)", ts: clock.now()) },
            working: [entry.orderID] + (entry.orderClass == .oco ? children.map(\.orderID) : []))
    }

    /// Acknowledges orders and starts working them now, or after the acknowledgement latency. Without a
    /// latency no arrival is made (a set and two lists, three allocations for a single order's submit).
    private mutating func send(
        _ ids: some Collection<OrderID>, _ acknowledgements: some Collection<BrokerEvent>,
        working: some Collection<OrderID>
    ) throws(BrokerError) {
        guard rules.latency.acknowledgement > .zero else { return try reach(acknowledgements, working: working) }
        arriving.append(
            Arrival(
                at: clock.now() + rules.latency.acknowledgement, ids: Set(ids), events: Array(acknowledgements),
                working: Array(working)))
        inFlight.formUnion(ids)
    }

    private mutating func land(_ arrival: Arrival) throws(BrokerError) {
        inFlight.subtract(arrival.ids)
        try reach(arrival.events, working: arrival.working)
    }

    /// Orders reaching the market: their acknowledgements go out, then those to work are matched.
    private mutating func reach(_ acknowledgements: some Sequence<BrokerEvent>, working: some Sequence<OrderID>)
        throws(BrokerError)
    {
        for event in acknowledgements { outbox.append(event) }
        for id in working { try match(id, fresh: true) }
    }

    /// An order still on its way reaches the market before anything else happens to it.
    private mutating func landNow(_ id: OrderID) throws(BrokerError) {
        guard inFlight.contains(id), let index = arriving.firstIndex(where: { $0.ids.contains(id) }) else { return }
        try land(arriving.remove(at: index))
    }

    mutating func cancel(_ order: Order) throws(BrokerError) {
        guard connected else { throw .notConnected(Self.brokerName) }
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
    private mutating func cancelChildren(of parent: OrderID, reason: String) throws(BrokerError) {
        for child in book.children(of: parent) where book.orders[child]?.status.isOpen == true {
            try markCanceled(child, reason: reason)
        }
    }

    mutating func replace(_ order: Order, with replacement: Order) throws(BrokerError) {
        guard connected else { throw .notConnected(Self.brokerName) }
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
            CollectionOfOne(replacement.orderID),
            CollectionOfOne(
                .replaced(old: order.orderID, new: replacement.orderID, brokerOrderID: brokerID, ts: clock.now())),
            working: CollectionOfOne(replacement.orderID))
    }

    /// Takes a quote, then matches the orders working on its symbol against it, oldest first, at most
    /// `step` of them: the rest wait for `continueSweeps`, so that a quote through a hundred thousand
    /// resting orders (about 0.6 s of matching on the 2-core machine, docs/performance.md) does not hold
    /// the engine's thread, which calls the broker, for all of that. Every operation but the next step
    /// and the clock's first finishes the passes left unfinished (`finishSweeps`, in `PaperBroker`), a
    /// later quote's included: each order is matched against the quotes in the order they came and every
    /// call meets the book as a whole pass would have left it, so fills and their prices do not depend on
    /// when the steps ran.
    mutating func receive(_ quote: Quote, step: Int = .max) {
        do {
            try tick()
            book.quotes[quote.symbol] = book.quotes[quote.symbol]?.merged(with: quote) ?? quote
            if let rate = rules.participation, let volume = quote.volume {
                book.volumeLeft[quote.symbol] = PaperMatching.share(of: volume, rate: rate, whole: !rules.fractional)
            }
            let working = book.working(symbol: quote.symbol)
            if !working.isEmpty { sweeps.append(Sweep(ids: working)) }
        } catch {
            return  // the ledger failed: report nothing further
        }
        continueSweeps(step: step)
    }

    /// Matches the next `step` (by default `sweepStep`) orders of the passes left unfinished, oldest pass
    /// first. When the ledger fails the passes are dropped, as a whole pass stopped there: the orders not
    /// reached keep working, for the next quote.
    mutating func continueSweeps(step: Int? = nil) {
        var left = step ?? sweepStep
        do {
            while left > 0, !sweeps.isEmpty {
                while left > 0, sweeps[0].next < sweeps[0].ids.count {
                    let id = sweeps[0].ids[sweeps[0].next]
                    sweeps[0].next += 1
                    left -= 1
                    // An opening order is filled by the session's first quote, as an auction would.
                    try match(id, fresh: false, auction: book.orders[id]?.order.tif == .opg)
                }
                if sweeps[0].next == sweeps[0].ids.count { sweeps.removeFirst() }
            }
        } catch {
            sweeps.removeAll()
        }
    }

    /// Finishes every pass a quote left unfinished.
    mutating func finishSweeps() {
        if !sweeps.isEmpty { continueSweeps(step: .max) }
    }

    /// Moves the broker to the clock's time (see `PaperBroker.advance()`).
    /// A pass a quote left unfinished goes first, a step of it (the engine may have stopped taking its
    /// steps); the clock's other work waits until it is done, since an order reaching the market
    /// meanwhile would be matched ahead of older ones the pass has yet to reach.
    mutating func advance() {
        guard connected else { return }
        if !sweeps.isEmpty {
            continueSweeps()
            guard sweeps.isEmpty else { return }
        }
        try? tick()
    }

    /// Orders on their way to the market and reports held back.
    var pendingCount: Int { arriving.count + held.count }

    private mutating func tick() throws(BrokerError) {
        let now = clock.now()
        while let first = arriving.first, first.at <= now {
            arriving.removeFirst()
            try land(first)
        }
        try endSessions(now)
        while let first = held.first, first.due <= now {
            held.removeFirst()
            outbox.append(first.event)
        }
    }

    /// At a session's end: closing orders fill at the last quote, as the closing auction would; day and
    /// opening orders of that session expire; options of that day settle. Without a calendar a day ends at
    /// midnight UTC, and only options settle. Between session ends this costs one comparison.
    private mutating func endSessions(_ now: Timestamp) throws(BrokerError) {
        guard now >= nextSessionEnd else { return }
        guard let calendar else {
            try settleExpiredOptions(nil, now)
            let day = PaperSimulator.nanosPerDay
            nextSessionEnd = Timestamp(nanosecondsSinceEpoch: (now.nanosecondsSinceEpoch / day + 1) * day)
            return
        }
        for id in book.arrival.ids {
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
    private mutating func settleExpiredOptions(_ calendar: MarketCalendar?, _ now: Timestamp) throws(BrokerError) {
        for position in book.positions.values.sorted(by: { $0.symbol < $1.symbol }) where !position.isFlat {
            guard case .option(let contract) = position.symbol.kind else { continue }
            let expiry = contract.expiration
            let deadline =
                calendar?.instant(expiry, minute: calendar!.closeMinute(expiry))
                ?? Timestamp(nanosecondsSinceEpoch: (expiry.daysSinceEpoch + 1) * PaperSimulator.nanosPerDay)
            guard deadline <= now,
                let underlying = Symbol(contract.root), let spot = book.quotes[underlying]?.mark
            else { continue }
            let call = contract.right == .call
            let moneyness = call ? spot - contract.strike : contract.strike - spot
            let inTheMoney = moneyness >= Price("0.01")!
            let contracts = position.qty
            let shares = contracts.times(position.symbol.multiplier * (call ? 1 : -1))
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
    private mutating func report(_ event: BrokerEvent) {
        guard rules.latency.report > .zero else {
            outbox.append(event)
            return
        }
        held.append((clock.now() + rules.latency.report, event))
    }

    func orderReport(for orderID: OrderID) throws(BrokerError) -> BrokerOrderReport? {
        guard connected else { throw .notConnected(Self.brokerName) }
        return book.orders[orderID]?.report
    }

    func openOrders() throws(BrokerError) -> [BrokerOrderReport] {
        guard connected else { throw .notConnected(Self.brokerName) }
        return openReports
    }

    func positions() throws(BrokerError) -> [BrokerPositionReport] {
        guard connected else { throw .notConnected(Self.brokerName) }
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
    mutating func reconcile(tag: UInt64, since: Timestamp?) throws(BrokerError) {
        guard connected else { throw .notConnected(Self.brokerName) }
        report(
            .snapshot(
                BrokerSnapshot(tag: tag, openOrders: openReports, positions: ledger == nil ? nil : positionReports)))
    }

    func accountReport() throws(BrokerError) -> BrokerAccountReport {
        guard connected else { throw .notConnected(Self.brokerName) }
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
    private mutating func match(_ id: OrderID, fresh: Bool, auction: Bool = false) throws(BrokerError) {
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
    private mutating func markCanceled(_ id: OrderID, reason: String?) throws(BrokerError) {
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
    private mutating func matchSpread(_ resting: PaperBook.Resting, fresh: Bool) throws(BrokerError) {
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
    private mutating func afterFill(of id: OrderID) throws(BrokerError) {
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

    /// Makes the change in the book; its line is written with the rest of the call's (`finish`).
    private mutating func apply(_ entry: PaperLedger.Entry) throws(BrokerError) {
        if let ledger {
            do {
                unwritten += try ledger.line(entry)
                linesSinceCompaction += 1
            } catch {
                throw BrokerError(.unknownOutcome, code: "ledger", message: "cannot write the paper ledger: \(error)")
            }
        }
        book.apply(entry)
    }

    /// What an operation may change besides the book and the ledger, as it was when the operation began.
    struct Start {
        fileprivate let arriving: [Arrival]
        fileprivate let inFlight: Set<OrderID>
        fileprivate let held: [(due: Timestamp, event: BrokerEvent)]
        fileprivate let random: SplitMix64
        fileprivate let nextSessionEnd: Timestamp
        fileprivate let reported: Int
    }

    /// Where an operation (one call, one quote, one timer's tick) begins: `finish` puts everything back
    /// here when the ledger cannot take what the operation did.
    func start() -> Start {
        Start(
            arriving: arriving, inFlight: inFlight, held: held, random: random, nextSessionEnd: nextSessionEnd,
            reported: outbox.count)
    }

    /// Ends the operation begun at `start`: writes its ledger lines in one `write`, before anything it
    /// reported leaves (one `write` a call, where each line cost one). When the write fails the ledger is
    /// left as it was, and so is the broker: its book is read back from the ledger and what the operation
    /// reported is taken back; the error says so (`unknownOutcome`: the caller settles the order, and
    /// finds nothing of this call). Should the ledger not read back either, the broker disconnects.
    mutating func finish(_ start: Start) -> BrokerError? {
        book.shed(atMost: Self.shedPerOperation)
        guard let ledger, !unwritten.isEmpty else { return nil }
        defer { unwritten.removeAll(keepingCapacity: true) }
        do {
            try ledger.write(unwritten)
            compactIfDue()
            return nil
        } catch {
            arriving = start.arriving
            inFlight = start.inFlight
            held = start.held
            random = start.random
            nextSessionEnd = start.nextSessionEnd
            // The book goes back to the ledger's: a pass under way starts again only with the next quote.
            sweeps.removeAll()
            outbox.removeSubrange(min(start.reported, outbox.count)...)
            do {
                book = try ledger.load(cash: startingCash, finishedKept: book.finishedKept)
            } catch {
                connected = false
                return BrokerError(
                    .fatal, code: "ledger",
                    message: "cannot write the paper ledger, nor read it back: \(error); the paper broker stopped")
            }
            return BrokerError(
                .unknownOutcome, code: "ledger",
                message: "cannot write the paper ledger: \(error); nothing of this call was recorded")
        }
    }

    /// The lines of the operation so far, written before the process dies at a crash point, as each was
    /// written at once before lines were written a call at a time.
    private mutating func writeBeforeDying() {
        guard let ledger, !unwritten.isEmpty else { return }
        try? ledger.write(unwritten)
        unwritten.removeAll()
    }
}
