public import BrokerAPI
public import Foundation
public import GatewayCore
public import Logging

/// Where an Alpaca account is and how it signs in (the config's `alpaca:` keys, credentials read).
public struct AlpacaSettings: Sendable {
    public var restURL: URL
    public var streamURL: String
    public var keyID: String
    public var secret: String

    public init(restURL: URL, streamURL: String, keyID: String, secret: String) {
        self.restURL = restURL
        self.streamURL = streamURL
        self.keyID = keyID
        self.secret = secret
    }
}

/// Alpaca behind the `BrokerAdapter` protocol: orders over REST, what happens to them from the
/// `trade_updates` stream.
///
/// `connect` answers for the first connection; after it, each drop and return of the stream is an
/// event (`disconnected`, `connected`), so the engine's view never goes back to an older state.
///
/// The stream is kept up by one task: connect, authenticate, listen, then catch up — every order this
/// adapter knows to be working is read back over REST and what changed while the stream was down is
/// reported — and only then is the account `connected`. When the stream drops, the account is
/// `disconnected` (the engine then refuses new orders with `broker_unavailable`) and the task reconnects
/// after a backoff of 2, 4, 8, 16, then 30 s. Refused credentials stop it for good.
///
/// Fills are counted by each order's cumulative filled quantity, whichever way they arrive: a stream
/// event, the same event sent twice, or the catch-up read — so a fill is reported once, for exactly the
/// quantity beyond what was reported before, at the price that moves the order's average to Alpaca's.
///
/// The totals live in memory; after a restart the engine tells the adapter what the journal holds of
/// each working order (`JournaledTotalsAware`) before asking about it, so a fill is never reported twice
/// across a restart.
public actor AlpacaAdapter: BrokerAdapter, BracketCapable, JournaledTotalsAware {
    public nonisolated let brokerName = "alpaca"
    public nonisolated let events: AsyncStream<BrokerEvent>
    private let emit: AsyncStream<BrokerEvent>.Continuation
    let rest: AlpacaREST
    let stream: AlpacaStream
    let clock: any WallClock
    let logger: Logger
    let backoff: @Sendable (Int) async -> Void
    let connectTimeout: Duration

    /// Per order the adapter has sent: Alpaca's id, and how much of it was reported filled at what
    /// notional. Kept after the order ends (the most recent `keptFinished` of them), so that an event
    /// Alpaca repeats later is still recognised as reported.
    struct Tracked {
        var alpacaID: String?
        var filled: Quantity = .zero
        var notional: Money = .zero
        /// For a multi-leg order, each leg's reported notional by contract, for pricing the next fill.
        var legNotional: [Symbol: Money] = [:]
    }
    var tracked: [OrderID: Tracked] = [:]
    /// Orders still working: what a catch-up reads back.
    var working: Set<OrderID> = []
    var finishedOrder: [OrderID] = []
    static let keptFinished = 100_000
    var byAlpacaID: [String: OrderID] = [:]
    /// Alpaca's ids of multi-leg orders' legs: their events are read through the parent's.
    var legIDs: Set<String> = []
    /// Replacements asked for and not yet answered on the stream: the old order → the new one.
    var replacing: [OrderID: OrderID] = [:]
    var seenExecutions: Set<String> = []
    /// When the newest fill this adapter reported happened, and when the stream first listened: a
    /// catch-up asks Alpaca for fill activities after the first of them that is known.
    var lastFillAt: Timestamp?
    var firstListenedAt: Timestamp?
    var healthy = false
    /// Fills reported from stream events, counted so a reconciliation can tell one arrived while it read.
    var streamedFills = 0
    var streamTask: Task<Void, Never>?
    var firstConnect: CheckedContinuation<Result<Void, BrokerError>, Never>?

    public init(
        settings: AlpacaSettings, clock: any WallClock, logger: Logger,
        transport: any AlpacaTransport = URLSessionAlpacaTransport(),
        connectTimeout: Duration = .seconds(15),
        backoff: @escaping @Sendable (Int) async -> Void = { attempt in
            try? await Task.sleep(for: .seconds(min(30, 1 << min(attempt, 5))))
        }
    ) {
        self.connectTimeout = connectTimeout
        rest = AlpacaREST(base: settings.restURL, keyID: settings.keyID, secret: settings.secret, transport: transport)
        stream = AlpacaStream(url: settings.streamURL, keyID: settings.keyID, secret: settings.secret, logger: logger)
        self.clock = clock
        self.logger = logger
        self.backoff = backoff
        (events, emit) = AsyncStream.makeStream(of: BrokerEvent.self)
    }

    // MARK: Connection

    /// Returns once the stream listens and has caught up, or throws when the first attempt fails (the
    /// task goes on trying in the background unless the credentials were refused).
    public func connect() async throws(BrokerError) {
        guard streamTask == nil else { return }
        let result = await withCheckedContinuation { continuation in
            firstConnect = continuation
            streamTask = Task { await self.keepStreaming() }
            Task {
                try? await Task.sleep(for: connectTimeout)
                self.connectTimedOut()
            }
        }
        try result.get()
    }

    public func disconnect() async {
        streamTask?.cancel()
        await streamTask?.value
        streamTask = nil
        emit.yield(.connection(.disconnected, detail: "disconnected"))
        emit.finish()
    }

    func keepStreaming() async {
        var attempt = 0
        while !Task.isCancelled {
            do throws(AlpacaStreamEnd) {
                try await stream.run(
                    onListening: { await self.listening() },
                    onUpdate: { await self.handle($0) })
            } catch {
                healthy = false
                let detail = error.description
                if Task.isCancelled { return }
                logger.warning("Alpaca's trade_updates stream is down", metadata: ["error": "\(detail)"])
                let fatal = error == .unauthorized
                // The first attempt's outcome is `connect`'s answer; later ones are events.
                if firstConnect != nil {
                    finishFirstConnect(
                        .failure(BrokerError(fatal ? .fatal : .retryable, code: "stream_down", message: detail)))
                } else {
                    emit.yield(.connection(.disconnected, detail: detail))
                }
                if fatal { return }
            }
            attempt += 1
            await backoff(attempt)
        }
    }

    /// The stream listens: catch up on what was missed, then declare the account connected.
    func listening() async {
        await catchUp()
        healthy = true
        if firstConnect != nil {
            finishFirstConnect(.success(()))
        } else {
            emit.yield(.connection(.connected, detail: nil))
        }
    }

    /// The first connection took too long: `connect` reports it and the task goes on trying.
    func connectTimedOut() {
        finishFirstConnect(
            .failure(BrokerError(.retryable, code: "stream_timeout", message: "Alpaca's stream did not answer in time"))
        )
    }

    private func finishFirstConnect(_ result: Result<Void, BrokerError>) {
        firstConnect?.resume(returning: result)
        firstConnect = nil
    }

    /// What was missed while the stream was down: first the fill activities since the newest fill seen
    /// (each reported at its own price, counted by its order's cumulative quantity so that nothing is
    /// reported twice), then every working order read back over REST, its remaining fills and its end
    /// reported as if streamed.
    func catchUp() async {
        do {
            _ = try await recoverFills()
        } catch {
            logger.warning(
                "could not read Alpaca's fill activities after the stream returned", metadata: ["error": "\(error)"])
        }
        firstListenedAt = firstListenedAt ?? clock.now()
        _ = await readBackWorking()
    }

    /// Reports the fills of the fill activities since the newest fill seen (else since the newest fill
    /// the journal holds, else since the stream first listened), and returns them.
    func recoverFills(journaledUntil journaled: Timestamp? = nil) async throws(BrokerError) -> [BrokerFill] {
        guard let since = lastFillAt ?? journaled ?? firstListenedAt else { return [] }
        return try await catchUpFills(after: since)
    }

    /// Reads back every order this adapter knows to be working and reports what changed (fills first,
    /// then its end), as if streamed; returns the fills reported.
    func readBackWorking() async -> [BrokerFill] {
        var fills: [BrokerFill] = []
        for orderID in working.sorted() {
            do {
                guard let order = try await read(orderID) else { continue }
                let ts = order.lastChanged ?? clock.now()
                if let fill = apply(order, event: nil, executionID: nil, ts: ts) { fills.append(fill) }
            } catch {
                logger.warning(
                    "could not read an order back", metadata: ["order.id": "\(orderID)", "error": "\(error)"])
            }
        }
        return fills
    }

    /// Fill activities after `since` (less a second, as the query is exclusive and clocks differ; what
    /// was already reported is skipped by cumulative quantity), reported and returned. Activities of
    /// orders this adapter did not send, and of multi-leg legs (their parent is read back whole), are left
    /// to the order read-back.
    func catchUpFills(after since: Timestamp) async throws(BrokerError) -> [BrokerFill] {
        let seconds = Double(since.nanosecondsSinceEpoch - 1_000_000_000) / 1_000_000_000
        let activities = try await rest.fills(after: Date(timeIntervalSince1970: seconds))
        var fills: [BrokerFill] = []
        for activity in activities {
            guard !legIDs.contains(activity.orderID), let orderID = byAlpacaID[activity.orderID],
                let cumulative = activity.cumQty.flatMap({ Quantity($0) }), let price = Price(activity.price)
            else { continue }
            let known = tracked[orderID] ?? Tracked()
            guard cumulative > known.filled, let notional = price.notional(cumulative - known.filled) else { continue }
            let qty = cumulative - known.filled
            let ts = activity.transactionTime.flatMap { Timestamp(rfc3339: $0) } ?? clock.now()
            tracked[orderID, default: Tracked()].filled = cumulative
            tracked[orderID, default: Tracked()].notional = known.notional + notional
            noteFill(at: ts)
            if let id = FillID("\(activity.orderID)@\(cumulative)") {
                let fill = BrokerFill(orderID: orderID, fillID: id, qty: qty, price: price, ts: ts)
                emit.yield(.fill(fill))
                fills.append(fill)
            }
        }
        return fills
    }

    // MARK: Reconciliation

    /// Reads the account's positions, its open orders, the fills missed since the newest one seen and
    /// the working orders back, then its positions again: the snapshot is consistent when the two reads
    /// of the positions agree and no fill arrived on the stream meanwhile (a fill in between would put
    /// the positions out of step with the journal for a moment). Fills found missed are reported first.
    public func reconcile(tag: UInt64, since: Timestamp?) async throws(BrokerError) {
        guard healthy else { throw .notConnected(brokerName) }
        let streamedBefore = streamedFills
        let before = try await positions()
        let open = try await rest.openOrders()
        var missed = try await recoverFills(journaledUntil: since)
        missed += await readBackWorking()
        let after = try await positions()
        let reports = open.filter { !legIDs.contains($0.id) }.map { order in
            let orderID = byAlpacaID[order.id] ?? OrderID(order.clientOrderID) ?? OrderID("ext-\(order.id)")!
            var report = order.report(for: orderID)
            report.terms = order.terms
            return report
        }
        emit.yield(
            .snapshot(
                BrokerSnapshot(
                    tag: tag, missedFills: missed, openOrders: reports, positions: after,
                    consistent: before == after && streamedFills == streamedBefore)))
    }

    func noteFill(at ts: Timestamp) {
        if lastFillAt.map({ ts > $0 }) ?? true { lastFillAt = ts }
    }

    // MARK: Orders

    public nonisolated func unsupportedReason(for order: Order) -> String? {
        AlpacaSupport.unsupportedReason(for: order)
    }

    public func submit(_ order: Order) async throws(BrokerError) {
        try await place(AlpacaOrderRequest(order), id: order.orderID)
    }

    /// The entry, and its stop and target as the legs Alpaca makes of them (matched by type: the stop
    /// leg is the stop or stop-limit, the target the limit).
    public func submitBracket(entry: Order, stop: Order?, target: Order?) async throws(BrokerError) {
        let placed = try await place(AlpacaOrderRequest(entry: entry, stop: stop, target: target), id: entry.orderID)
        for leg in placed.legs ?? [] {
            let child = (leg.type == "limit") ? target : stop
            if let child {
                tracked[child.orderID] = Tracked()
                working.insert(child.orderID)
                remember(leg, as: child.orderID)
            }
        }
    }

    @discardableResult
    func place(_ request: AlpacaOrderRequest, id: OrderID) async throws(BrokerError) -> AlpacaOrder {
        guard healthy else { throw .notConnected(brokerName) }
        // Tracked before the call, so that an unknown outcome is read back at the next catch-up.
        tracked[id] = Tracked()
        working.insert(id)
        do {
            let placed = try await rest.submit(request)
            remember(placed, as: id)
            emit.yield(.acknowledged(id, brokerOrderID: placed.id, ts: clock.now()))
            return placed
        } catch {
            if error.kind != .unknownOutcome {
                tracked[id] = nil
                working.remove(id)
            }
            throw error
        }
    }

    public func cancel(_ order: Order) async throws(BrokerError) {
        guard healthy else { throw .notConnected(brokerName) }
        try await rest.cancel(alpacaID: try await alpacaID(of: order.orderID, known: order.brokerOrderID))
    }

    public func replace(_ order: Order, with replacement: Order) async throws(BrokerError) {
        guard healthy else { throw .notConnected(brokerName) }
        let id = try await alpacaID(of: order.orderID, known: order.brokerOrderID)
        let changes = AlpacaReplaceRequest(
            qty: replacement.qty == order.qty ? nil : replacement.qty.description,
            timeInForce: replacement.tif == order.tif ? nil : replacement.tif.rawValue,
            limitPrice: replacement.limitPrice == order.limitPrice ? nil : replacement.limitPrice?.description,
            stopPrice: replacement.stopPrice == order.stopPrice ? nil : replacement.stopPrice?.description,
            clientOrderID: replacement.orderID.rawValue)
        replacing[order.orderID] = replacement.orderID
        let new = try await rest.replace(alpacaID: id, with: changes)
        tracked[replacement.orderID] = Tracked()
        working.insert(replacement.orderID)
        remember(new, as: replacement.orderID)
    }

    public func orderReport(for orderID: OrderID) async throws(BrokerError) -> BrokerOrderReport? {
        guard let order = try await read(orderID) else { return nil }
        remember(order, as: orderID)
        let fills = newFill(of: order, orderID: orderID, executionID: nil, ts: clock.now()).map { [$0] } ?? []
        return order.report(for: orderID, fills: fills)
    }

    /// The order by its client order id, else by Alpaca's id when known: an order adopted from the broker
    /// may carry a client order id that is not the gateway's id of it.
    func read(_ orderID: OrderID) async throws(BrokerError) -> AlpacaOrder? {
        if let order = try await rest.order(clientOrderID: orderID.rawValue) { return order }
        guard let alpacaID = tracked[orderID]?.alpacaID else { return nil }
        return try await rest.order(alpacaID: alpacaID)
    }

    public func openOrders() async throws(BrokerError) -> [BrokerOrderReport] {
        try await rest.openOrders().compactMap { order in
            OrderID(order.clientOrderID).map { order.report(for: $0) }
        }
    }

    public func positions() async throws(BrokerError) -> [BrokerPositionReport] {
        try await rest.positions().compactMap { position in
            guard let symbol = Symbol(position.symbol), let qty = Quantity(position.qty) else { return nil }
            return BrokerPositionReport(
                symbol: symbol, qty: qty, avgPrice: position.avgEntryPrice.flatMap { Price($0) })
        }
    }

    public func accountReport() async throws(BrokerError) -> BrokerAccountReport {
        let account = try await rest.account()
        return BrokerAccountReport(
            currency: account.currency ?? "USD", cash: Money(account.cash) ?? .zero,
            equity: Money(account.equity) ?? .zero, buyingPower: Money(account.buyingPower) ?? .zero)
    }

    func alpacaID(of orderID: OrderID, known: String?) async throws(BrokerError) -> String {
        if let id = tracked[orderID]?.alpacaID ?? known { return id }
        guard let order = try await rest.order(clientOrderID: orderID.rawValue) else {
            throw BrokerError(.nonRetryable, code: "not_found", message: "Alpaca has no order \(orderID)")
        }
        remember(order, as: orderID)
        return order.id
    }

    func remember(_ order: AlpacaOrder, as orderID: OrderID) {
        tracked[orderID, default: Tracked()].alpacaID = order.id
        byAlpacaID[order.id] = orderID
        if order.isMultiLegParent {
            for leg in order.legs ?? [] { legIDs.insert(leg.id) }
        }
    }

    /// What the journal holds of `order`: its fills so far, and whether it is still working.
    public func know(_ order: Order) {
        var totals = tracked[order.orderID] ?? Tracked()
        if order.filledQty > totals.filled, let average = order.avgFillPrice,
            let notional = average.notional(order.filledQty)
        {
            totals.filled = order.filledQty
            totals.notional = notional
        }
        if totals.alpacaID == nil, let alpacaID = order.brokerOrderID {
            totals.alpacaID = alpacaID
            byAlpacaID[alpacaID] = order.orderID
        }
        tracked[order.orderID] = totals
        if order.status.isOpen { working.insert(order.orderID) }
    }

    // MARK: Stream events

    func handle(_ update: AlpacaTradeUpdate) {
        if let execution = update.executionID, !seenExecutions.insert(execution).inserted {
            return  // the same execution sent twice
        }
        let ts = update.timestamp.flatMap { Timestamp(rfc3339: $0) } ?? clock.now()
        apply(update.order, event: update.event, executionID: update.executionID, ts: ts)
    }

    /// Reports what `order` shows beyond what was reported: new fills, then its end. `event` is the
    /// stream's event name (`nil` for a catch-up read).
    /// Returns the fill reported, if any.
    @discardableResult
    func apply(_ order: AlpacaOrder, event: String?, executionID: String?, ts: Timestamp) -> BrokerFill? {
        guard !legIDs.contains(order.id) else { return nil }
        // An order this adapter was never given (placed by hand, or by another program) is left to
        // reconciliation, which adopts it whole with its fills: counting them here first would lose them.
        guard let orderID = byAlpacaID[order.id] ?? OrderID(order.clientOrderID), tracked[orderID] != nil else {
            return nil
        }
        if tracked[orderID]?.alpacaID == nil { remember(order, as: orderID) }
        let fill = newFill(of: order, orderID: orderID, executionID: executionID, ts: ts)
        if let fill {
            noteFill(at: ts)
            if event != nil { streamedFills += 1 }
            emit.yield(.fill(fill))
        }
        switch event ?? order.status {
        case "new", "accepted", "pending_new":
            emit.yield(.acknowledged(orderID, brokerOrderID: order.id, ts: ts))
        case "canceled":
            emit.yield(.canceled(orderID, reason: nil, ts: ts))
            forget(orderID)
        case "expired":
            emit.yield(.expired(orderID, ts: ts))
            forget(orderID)
        case "rejected":
            emit.yield(.rejected(orderID, reason: "rejected by Alpaca", ts: ts))
            forget(orderID)
        case "filled":
            forget(orderID)
        case "replaced":
            if let newAlpacaID = order.replacedBy, let new = byAlpacaID[newAlpacaID] ?? replacing[orderID] {
                emit.yield(.replaced(old: orderID, new: new, brokerOrderID: newAlpacaID, ts: ts))
            }
            replacing[orderID] = nil
            forget(orderID)
        case "order_replace_rejected":
            if let new = replacing.removeValue(forKey: orderID) {
                emit.yield(.replaceRejected(old: orderID, new: new, reason: "Alpaca refused the replace", ts: ts))
            }
        case "order_cancel_rejected":
            emit.yield(.cancelRejected(orderID, reason: "Alpaca refused the cancel", ts: ts))
        default:
            break  // partial fills, done_for_day, pending_* and the rest: nothing more to report
        }
        return fill
    }

    /// The fill that takes the reported quantity of `orderID` up to Alpaca's `filled_qty`, priced so that
    /// the reported average becomes Alpaca's `filled_avg_price`; `nil` when nothing new filled. For a
    /// multi-leg order the quantity is in spreads at the net price, with each leg's price found the same
    /// way from the leg's own totals; while a leg's totals lag the parent's, nothing is reported (the next
    /// event or read reports it whole).
    func newFill(of order: AlpacaOrder, orderID: OrderID, executionID: String?, ts: Timestamp) -> BrokerFill? {
        let known = tracked[orderID] ?? Tracked()
        let total = order.filled
        guard total > known.filled, let average = order.filledAvgPrice.flatMap({ Price($0) }) else { return nil }
        let qty = total - known.filled
        guard let totalNotional = average.notional(total) else { return nil }
        var legs: [BrokerLegFill]?
        var legNotional = known.legNotional
        if order.isMultiLegParent {
            var priced: [BrokerLegFill] = []
            for leg in order.legs ?? [] {
                guard let symbol = leg.symbol.flatMap({ Symbol($0) }),
                    let ratio = Int(leg.ratioQty ?? "1"), ratio > 0,
                    leg.filled >= total.times(ratio),
                    let legAverage = leg.filledAvgPrice.flatMap({ Price($0) }),
                    let legTotal = legAverage.notional(total.times(ratio))
                else { return nil }
                let legQty = qty.times(ratio)
                // After a restart the legs' earlier notionals are not known: the leg's average stands in.
                let before = known.legNotional[symbol]
                let price =
                    (before == nil && known.filled.isPositive)
                    ? legAverage : Price.perUnit(legTotal - (before ?? .zero), legQty) ?? legAverage
                priced.append(BrokerLegFill(symbol: symbol, price: price))
                legNotional[symbol] = legTotal
            }
            legs = priced
        }
        let price = Price.perUnit(totalNotional - known.notional, qty) ?? average
        tracked[orderID, default: Tracked()].filled = total
        tracked[orderID, default: Tracked()].notional = totalNotional
        tracked[orderID, default: Tracked()].legNotional = legNotional
        let id = executionID ?? "\(order.id)@\(total)"
        return FillID(id).map { BrokerFill(orderID: orderID, fillID: $0, qty: qty, price: price, ts: ts, legs: legs) }
    }

    /// The order ended: no longer read back, and its totals kept for a while for repeated events.
    func forget(_ orderID: OrderID) {
        guard working.remove(orderID) != nil else { return }
        finishedOrder.append(orderID)
        if finishedOrder.count > Self.keptFinished {
            let oldest = finishedOrder.removeFirst()
            if let alpacaID = tracked[oldest]?.alpacaID { byAlpacaID[alpacaID] = nil }
            tracked[oldest] = nil
        }
    }
}
