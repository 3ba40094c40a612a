import BrokerAPI
import GatewayCore
import HashTreeCollections

extension ExecutionEngine {
    /// A submit with exits placed alongside:
    /// - `bracket`: the entry with a stop and a target, held by the broker until the entry fills, then
    ///   one-cancels-other;
    /// - `oto`: the entry with one of them;
    /// - `oco`: a limit order (the target, at its own `limit_price`) and a stop on the same side, both
    ///   working at once; when one fills the broker cancels the other.
    ///
    /// The order goes through the whole order path (validation, trading state, every risk check); the
    /// exits, which can only close what the order opens (or, for an OCO, close one position once), are
    /// journaled with it and all go to the broker as one request. A broker that cannot hold them gets
    /// nothing: the answer is `not_supported`.
    func acceptLinked(_ request: SubmitOrder) -> Result<SubmitOutcome, EngineError> {
        guard let account = accounts[request.account] else {
            return .failure(EngineError(.unknownAccount, "no account named '\(request.account)'"))
        }
        if let clientID = request.clientOrderID, let existing = clientIndex[request.account]?[clientID],
            let order = orders[existing]
        {
            let linked = ["stop", "target"].compactMap { suffix in
                ClientOrderID(clientID.rawValue + "-" + suffix).flatMap { clientIndex[request.account]?[$0] }
            }
            return .success(SubmitOutcome(order: order, duplicate: true, linked: linked.compactMap { orders[$0] }))
        }
        let orderClass: OrderClass
        switch linkedClass(request) {
        case .failure(let problem): return .failure(problem)
        case .success(let found): orderClass = found
        }
        guard account.adapter is any BracketCapable else {
            return .failure(
                EngineError(
                    .notSupported,
                    "\(account.adapter.brokerName) does not take \(orderClass.rawValue) orders; nothing was sent"))
        }
        if let problem = linkedPriceProblem(request, orderClass) { return .failure(problem) }
        var main = request
        main.orderClass = orderClass
        main.takeProfit = nil
        main.stopLoss = nil
        let entry: Order
        switch accept(main, route: false) {
        case .failure(let error): return .failure(error)
        case .success(let outcome) where outcome.order.status != .accepted: return .success(outcome)
        case .success(let outcome): entry = outcome.order
        }
        let stop = request.stopLoss.map {
            child(
                of: entry, suffix: "stop", type: $0.limitPrice == nil ? .stop : .stopLimit, stop: $0.stopPrice,
                limit: $0.limitPrice, sameSide: orderClass == .oco, tif: entry.tif, orderClass: orderClass)
        }
        let target = request.takeProfit.map {
            child(
                of: entry, suffix: "target", type: .limit, stop: nil, limit: $0, tif: entry.tif, orderClass: orderClass)
        }
        send(.submitBracket(entry, stop: stop, target: target), to: request.account)
        return .success(SubmitOutcome(order: entry, duplicate: false, linked: [stop, target].compactMap { $0 }))
    }

    /// The class the exits make: `order_class` when given, else a bracket (both exits) or an OTO (one).
    func linkedClass(_ request: SubmitOrder) -> Result<OrderClass, EngineError> {
        let target = request.takeProfit != nil
        let stop = request.stopLoss != nil
        switch request.orderClass {
        case .mleg:
            return .failure(.badRequest("legs", "an mleg order needs legs and takes no take_profit or stop_loss"))
        case .oco:
            guard stop, !target else {
                return .failure(
                    .badRequest(
                        "stop_loss",
                        "an oco is a limit order (the target, at its limit_price) with stop_loss, and no take_profit"))
            }
            guard request.type == .limit else {
                return .failure(.badRequest("type", "an oco's own order is its target: a limit order"))
            }
            return .success(.oco)
        case .bracket:
            guard stop, target else {
                return .failure(
                    .badRequest(stop ? "take_profit" : "stop_loss", "a bracket needs take_profit and stop_loss"))
            }
            return .success(.bracket)
        case .oto:
            guard stop != target else {
                return .failure(.badRequest("stop_loss", "an oto takes exactly one of take_profit and stop_loss"))
            }
            return .success(.oto)
        case nil:
            return .success(stop && target ? .bracket : .oto)
        }
    }

    /// Exit prices that could never work as exits: on the wrong side of the entry (or, for an OCO, a stop
    /// on the wrong side of the target), or not above zero.
    func linkedPriceProblem(_ request: SubmitOrder, _ orderClass: OrderClass) -> EngineError? {
        for (field, price) in [
            ("take_profit", request.takeProfit), ("stop_loss", request.stopLoss?.stopPrice),
            ("stop_loss", request.stopLoss?.limitPrice),
        ] {
            if let price, !price.isPositive { return .badRequest(field, "\(field) prices must be greater than zero") }
        }
        let buy = request.side.isBuy
        if orderClass == .oco, let target = request.limitPrice, let stop = request.stopLoss?.stopPrice {
            // Both exits close one position: a sell closes a long (target above, stop below), a buy a short.
            if buy ? stop <= target : stop >= target {
                return .badRequest(
                    "stop_loss", "the stop \(stop) must be \(buy ? "above" : "below") the target \(target)")
            }
            return nil
        }
        guard let entry = request.limitPrice ?? request.stopPrice ?? quotes[request.symbol]?.mark else { return nil }
        if let target = request.takeProfit, buy ? target <= entry : target >= entry {
            return .badRequest("take_profit", "the target \(target) is on the wrong side of the entry \(entry)")
        }
        if let stop = request.stopLoss?.stopPrice, buy ? stop >= entry : stop <= entry {
            return .badRequest("stop_loss", "the stop \(stop) is on the wrong side of the entry \(entry)")
        }
        return nil
    }
}
