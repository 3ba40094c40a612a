import HashTreeCollections
import Journal
import Logging
import BrokerAPI
import GatewayCore

extension ExecutionEngine {
    func handleSubmit(_ request: SubmitOrder, _ continuation: Reply<SubmitOutcome>) {
        let linked =
            request.legs == nil
            && (request.takeProfit != nil || request.stopLoss != nil || (request.orderClass ?? .mleg) != .mleg)
        reply(continuation, linked ? acceptLinked(request) : accept(request))
    }

    /// The order path up to the journal: idempotency, validation, broker capability, trading state,
    /// connection, pre-trade risk; stages the accepted (or risk-rejected) order and queues the broker call.
    /// With `route` false the caller sends the order itself (a bracket's entry goes with its children).
    func accept(_ request: SubmitOrder, route: Bool = true) -> Result<SubmitOutcome, EngineError> {
        var request = request
        guard let account = accounts[request.account] else {
            return .failure(EngineError(.unknownAccount, "no account named '\(request.account)'"))
        }
        if let clientID = request.clientOrderID, let existing = clientIndex[request.account]?[clientID],
            let order = orders[existing]
        {
            return .success(SubmitOutcome(order: order, duplicate: true))
        }
        if request.legs != nil {
            switch OrderValidation.multiLeg(request) {
            case .failure(let problem): return .failure(problem)
            case .success(let (underlying, side)): (request.symbol, request.side) = (underlying, side)
            }
        } else if request.orderClass == .mleg {
            return .failure(.badRequest("legs", "an mleg order needs legs"))
        } else if let problem = OrderValidation.problem(with: request) {
            return .failure(problem)
        }
        let reference =
            request.legs != nil
            ? request.limitPrice?.magnitude
            : request.limitPrice ?? request.stopPrice ?? quotes[request.symbol]?.mark
        let multiplier = request.legs == nil ? request.symbol.multiplier : 100
        if let problem = OrderValidation.sizeProblem(qty: request.qty, price: reference, multiplier: multiplier) {
            return .failure(problem)
        }
        let now = clock.now()
        // A single order's figures, read once for the symbol's ceiling and the pre-trade checks (nothing
        // between the two changes them); a spread's legs each against their own.
        let context = request.legs == nil ? riskContext(request.account, request.symbol, now: now) : nil
        if let context,
            let problem = OrderValidation.ceilingProblem(
                side: request.side, qty: request.qty, symbol: request.symbol, context: context)
        {
            return .failure(problem)
        }
        for leg in request.legs ?? [] {
            if let problem = OrderValidation.ceilingProblem(
                side: leg.side, qty: request.qty.times(leg.ratio), symbol: leg.symbol,
                context: riskContext(request.account, leg.symbol, now: now))
            {
                return .failure(problem)
            }
        }
        let seq = nextSeq
        let orderID = OrderID("\(journal.instanceID)-\(seq)")!
        let clientID = request.clientOrderID ?? ClientOrderID("gw-\(orderID.rawValue)")!
        var order = Order(
            orderID: orderID, clientOrderID: clientID, account: request.account, symbol: request.symbol,
            side: request.side, qty: request.qty, type: request.type, limitPrice: request.limitPrice,
            stopPrice: request.stopPrice, trailPrice: request.trailPrice, trailPercent: request.trailPercent,
            tif: request.tif, strategy: request.strategy, tags: request.tags, createdAt: now)
        order.legs = request.legs
        order.orderClass = request.legs != nil ? .mleg : request.orderClass
        order.extendedHours = request.extendedHours ? true : nil
        if let reason = account.adapter.unsupportedReason(for: order) {
            return .failure(EngineError(.notSupported, reason))
        }
        if let denial = tradingStateDenial(of: order) {
            return .failure(EngineError(.halted, denial))
        }
        guard connections[request.account] == .connected else {
            return .failure(
                EngineError(.brokerUnavailable, "\(account.adapter.brokerName) is not connected; nothing was sent"))
        }
        if let denial = reconcilingDenial(request.account, broker: account.adapter.brokerName) {
            return .failure(EngineError(.brokerUnavailable, denial))
        }
        indexClientOrder(request.account, clientID, orderID)
        let failures =
            context.map { account.riskFailures(of: order, context: $0) }
            ?? multiLegRiskFailures(of: order, account: account, now: now)
        guard failures.isEmpty else {
            // Rejected before it was accepted: journaled with every reason, never sent.
            order.status = .rejected
            order.rejectReasons = failures.map { "\($0.check): \($0.message)" }
            stageOrder(order, change: "rejected", reason: "pre-trade risk")
            metrics.rejected(order.account, checks: failures)
            let summary = failures.map(\.check).joined(separator: ", ")
            return .failure(
                EngineError(.riskRejected, "rejected by pre-trade risk: \(summary)", checks: failures, order: order))
        }
        let day = sessionDate(of: request.account, at: now)
        riskBooks.modifyValue(forKey: request.account) { $0.recordAccepted(at: now, sessionDate: day) }
        order.status = .accepted
        stageOrder(order, change: "accepted")
        if route { send(.submit(order), to: request.account) }
        return .success(SubmitOutcome(order: order, duplicate: false))
    }

    func handleCancel(_ account: AccountID, _ reference: OrderReference, _ continuation: Reply<Order>) {
        switch findOrder(account, reference) {
        case .failure(let error):
            reply(continuation, .failure(error))
        case .success(let order):
            if case .refused(let why) = transition(order.orderID, .cancelRequested) {
                return reply(
                    continuation, .failure(EngineError(.invalidState, "cannot cancel \(order.orderID): \(why)")))
            }
            let pending = orders[order.orderID]!
            reply(continuation, .success(pending))
            send(.cancel(pending), to: account)
        }
    }

    func handleCancelAll(
        _ account: AccountID?, _ symbol: Symbol?, _ slice: @escaping ([Order]) -> Void,
        _ continuation: Reply<[OrderID]>
    ) {
        if let account, accounts[account] == nil {
            return reply(continuation, .failure(EngineError(.unknownAccount, "no account named '\(account)'")))
        }
        startCancelPass(account: account, symbol: symbol, slice: slice, done: continuation)
    }

    func handleReplace(_ request: ReplaceOrder, _ continuation: Reply<Order>) {
        let original: Order
        switch findOrder(request.account, request.reference) {
        case .failure(let error): return reply(continuation, .failure(error))
        case .success(let order): original = order
        }
        if original.legs != nil {
            return reply(
                continuation,
                .failure(
                    EngineError(
                        .notSupported, "a multi-leg order cannot be replaced; cancel it and submit the new spread")))
        }
        guard request.qty != nil || request.limitPrice != nil || request.stopPrice != nil || request.tif != nil else {
            return reply(
                continuation,
                .failure(.badRequest("qty", "replace needs at least one of qty, limit_price, stop_price, tif")))
        }
        let now = clock.now()
        let newID = OrderID("\(journal.instanceID)-\(nextSeq + 1)")!
        var replacement = Order(
            orderID: newID, clientOrderID: original.clientOrderID, account: original.account, symbol: original.symbol,
            side: original.side, qty: request.qty ?? original.leavesQty, type: original.type,
            limitPrice: request.limitPrice ?? original.limitPrice, stopPrice: request.stopPrice ?? original.stopPrice,
            trailPrice: original.trailPrice, trailPercent: original.trailPercent, tif: request.tif ?? original.tif,
            strategy: original.strategy, tags: original.tags, createdAt: now)
        replacement.replacesOrderID = original.orderID
        // A bracket's or OCO's exit stays one: the broker replaces it in place.
        replacement.parentOrderID = original.parentOrderID
        replacement.orderClass = original.orderClass
        replacement.extendedHours = original.extendedHours
        if let problem = OrderValidation.problem(with: replacement)
            ?? OrderValidation.sizeProblem(
                qty: replacement.qty,
                price: replacement.limitPrice ?? replacement.stopPrice ?? quotes[replacement.symbol]?.mark,
                multiplier: replacement.symbol.multiplier)
        {
            return reply(continuation, .failure(problem))
        }
        // What the replacement adds to the working quantity counts toward the symbol's ceiling.
        if original.legs == nil, replacement.qty > original.leavesQty,
            let problem = OrderValidation.ceilingProblem(
                side: original.side, qty: replacement.qty - original.leavesQty, symbol: original.symbol,
                context: riskContext(original.account, original.symbol, now: now))
        {
            return reply(continuation, .failure(problem))
        }
        if let reason = accounts[request.account]?.adapter.unsupportedReason(for: replacement) {
            return reply(continuation, .failure(EngineError(.notSupported, reason)))
        }
        switch tradingState(of: request.account) {
        case .active: break
        case .halted:
            return reply(continuation, .failure(EngineError(.halted, "trading is halted: only cancels are accepted")))
        case .reducing where replacement.qty > original.leavesQty:
            return reply(
                continuation,
                .failure(EngineError(.halted, "trading is reducing: a replace may not add to the order's quantity")))
        case .reducing: break
        }
        // The new terms face the same limits, with the order being replaced no longer counted as working.
        var context = riskContext(replacement.account, replacement.symbol, now: now)
        context.openOrders = max(0, context.openOrders - 1)
        if original.side.isBuy {
            context.openBuyQty = max(.zero, context.openBuyQty - original.leavesQty)
        } else {
            context.openSellQty = max(.zero, context.openSellQty - original.leavesQty)
        }
        let failures = accounts[request.account]?.riskFailures(of: replacement, context: context) ?? []
        if !failures.isEmpty {
            metrics.rejected(request.account, checks: failures)
            let summary = failures.map(\.check).joined(separator: ", ")
            return reply(
                continuation,
                .failure(EngineError(.riskRejected, "the new terms fail pre-trade risk: \(summary)", checks: failures)))
        }
        let check = OrderStateMachine.transition(
            from: original.status, on: .replaceRequested, hasFills: original.filledQty.isPositive)
        if case .refused(let why) = check {
            return reply(
                continuation, .failure(EngineError(.invalidState, "cannot replace \(original.orderID): \(why)")))
        }
        transition(original.orderID, .replaceRequested) { $0.replacedByOrderID = newID }
        indexClientOrder(request.account, original.clientOrderID, newID)
        stageOrder(replacement, change: "accepted")
        reply(continuation, .success(replacement))
        send(.replace(orders[original.orderID]!, with: replacement), to: request.account)
    }

    func handleQuote(_ quote: Quote, _ continuation: Reply<Quote>) {
        let merged = quotes[quote.symbol]?.merged(with: quote) ?? quote
        quotes[quote.symbol] = merged
        riskBooks.mark(quote.symbol, at: merged.mark)
        stage(.quote(QuotePayload(quote: merged)), at: quote.ts)
        enforceLossLimits(now: clock.now())
        reply(continuation, .success(merged))
        for id in accountOrder where accounts[id]!.adapter is any QuoteConsumer {
            send(.quote(merged), to: id)
        }
    }

    func findOrder(_ account: AccountID, _ reference: OrderReference) -> Result<Order, EngineError> {
        guard accounts[account] != nil else {
            return .failure(EngineError(.unknownAccount, "no account named '\(account)'"))
        }
        let found: Order?
        switch reference {
        case .orderID(let id): found = orders[id].flatMap { $0.account == account ? $0 : nil }
        case .clientOrderID(let id): found = clientIndex[account]?[id].flatMap { orders[$0] }
        }
        guard let found else {
            return .failure(EngineError(.unknownOrder, "account '\(account)' has no order \(reference)"))
        }
        return .success(found)
    }
}

extension OrderReference: CustomStringConvertible {
    public var description: String {
        switch self {
        case .orderID(let id): "with order_id '\(id)'"
        case .clientOrderID(let id): "with client_order_id '\(id)'"
        }
    }
}
