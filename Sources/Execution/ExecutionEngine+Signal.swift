import BrokerAPI
import GatewayCore
import HashTreeCollections
import Journal

extension ExecutionEngine {
    /// Turns a signal into an order: entry price (given, or the last quote for a market entry), stop
    /// (given, or entry ∓ atr × atr_multiple), quantity (given, or sized by the account's policy under its
    /// position limit), then the ordinary order path with every risk check.
    func accept(_ signal: SubmitSignal) -> Result<SignalOutcome, EngineError> {
        guard let account = accounts[signal.account] else {
            return .failure(EngineError(.unknownAccount, "no account named '\(signal.account)'"))
        }
        if let existing = clientIndex[signal.account]?[signal.signalID], let order = orders[existing] {
            return .success(SignalOutcome(orders: [order], sizing: nil, duplicate: true, bracket: nil))
        }
        guard [.market, .limit, .stop].contains(signal.entryType) else {
            return .failure(.badRequest("entry.type", "a signal enters with market, limit or stop"))
        }
        if signal.entryType != .market && signal.entryPrice == nil {
            return .failure(.badRequest("entry.price", "a \(signal.entryType.rawValue) entry needs entry.price"))
        }
        guard let entry = signal.entryPrice ?? quotes[signal.symbol]?.mark else {
            return .failure(
                .badRequest("entry.price", "no entry.price and no quote for \(signal.symbol) to size against"))
        }
        var stop = signal.stopPrice
        if stop == nil, let atr = signal.atr {
            guard let multiple = signal.atrMultiple, multiple.isPositive, atr.isPositive else {
                return .failure(.badRequest("atr_multiple", "atr needs a positive atr_multiple"))
            }
            let distance = Price(
                units: Int64(clamping: Int128(atr.units) * Int128(multiple.units) / Int128(Price.unitsPerOne)))
            stop = signal.side.isBuy ? entry - distance : entry + distance
        }
        if let target = signal.takeProfit, signal.side.isBuy ? target <= entry : target >= entry {
            return .failure(
                .badRequest("take_profit", "the target \(target) is on the wrong side of the entry \(entry)"))
        }
        var sizing: SizingResult?
        let qty: Quantity
        if let given = signal.qty {
            qty = given
        } else {
            guard let policy = signal.strategy.flatMap({ account.strategySizing[$0] }) ?? account.sizing else {
                return .failure(.badRequest("qty", "the account has no sizing policy; give qty"))
            }
            let now = clock.now()
            let context = riskContext(signal.account, signal.symbol, now: now)
            let equity = riskBooks[signal.account]?.equity ?? .zero
            var room: Quantity?
            if let limit = account.limits(for: signal.strategy).maxPositionQty {
                // Room under the limit after the position and the working orders on the same side.
                let held = signal.side.isBuy ? context.positionQty : -context.positionQty
                let working = signal.side.isBuy ? context.openBuyQty : context.openSellQty
                room = max(.zero, limit - held - working)
            }
            let input = SizingInput(
                symbol: signal.symbol, isBuy: signal.side.isBuy, entry: entry, stop: stop, equity: equity,
                riskFraction: signal.riskFraction, positionRoom: room)
            switch PositionSizing.size(input, policy: policy) {
            case .success(let result):
                sizing = result
                qty = result.qty
            case .failure(let problem) where problem.code == "size_zero":
                return .failure(
                    EngineError(
                        .riskRejected, problem.message,
                        checks: [
                            RiskFailure(
                                check: "size_zero", limit: "more than zero", value: "0", message: problem.message)
                        ]))
            case .failure(let problem):
                return .failure(.badRequest(problem.field ?? "entry", problem.message))
            }
        }
        let request = SubmitOrder(
            account: signal.account, clientOrderID: signal.signalID, symbol: signal.symbol, side: signal.side, qty: qty,
            type: signal.entryType, limitPrice: signal.entryType == .limit ? entry : nil,
            stopPrice: signal.entryType == .stop ? entry : nil, tif: signal.tif, strategy: signal.strategy,
            tags: signal.tags)
        let wantsBracket = stop != nil || signal.takeProfit != nil
        guard wantsBracket, account.adapter is any BracketCapable else {
            let note: String? =
                wantsBracket
                ? "not placed: \(account.adapter.brokerName) does not take bracket orders yet; only the entry was sent"
                : nil
            return accept(request).map {
                SignalOutcome(orders: [$0.order], sizing: sizing, duplicate: $0.duplicate, bracket: note)
            }
        }
        let entryOrder: Order
        switch accept(request, route: false) {
        case .failure(let error): return .failure(error)
        case .success(let outcome): entryOrder = outcome.order
        }
        // A duplicate, or an entry refused by risk (journaled as rejected), gets no children.
        guard entryOrder.status == .accepted else {
            return .success(SignalOutcome(orders: [entryOrder], sizing: sizing, duplicate: false, bracket: nil))
        }
        let stopChild = stop.map { child(of: entryOrder, suffix: "stop", type: .stop, stop: $0, limit: nil) }
        let targetChild = signal.takeProfit.map {
            child(of: entryOrder, suffix: "target", type: .limit, stop: nil, limit: $0)
        }
        send(.submitBracket(entryOrder, stop: stopChild, target: targetChild), to: signal.account)
        return .success(
            SignalOutcome(
                orders: [entryOrder] + [stopChild, targetChild].compactMap { $0 }, sizing: sizing, duplicate: false,
                bracket: nil))
    }

    /// Stages an exit placed with `entry`: by default the opposite side, same quantity, good till canceled
    /// (a signal's bracket); an OCO's stop keeps the side and time in force of the limit it pairs with.
    func child(
        of entry: Order, suffix: String, type: OrderType, stop: Price?, limit: Price?, sameSide: Bool = false,
        tif: TimeInForce = .gtc, orderClass: OrderClass? = nil
    ) -> Order {
        let id = OrderID("\(journal.instanceID)-\(nextSeq)")!
        let derived = entry.clientOrderID.rawValue + "-" + suffix
        let clientID = ClientOrderID(derived) ?? ClientOrderID("gw-\(id.rawValue)")!
        let opposite: OrderSide =
            switch entry.side {
            case .buy, .buyToCover: .sell
            case .sell, .sellShort: .buyToCover
            case .buyToOpen, .buyToClose: .sellToClose
            case .sellToOpen, .sellToClose: .buyToClose
            }
        let side = sameSide ? entry.side : opposite
        var order = Order(
            orderID: id, clientOrderID: clientID, account: entry.account, symbol: entry.symbol, side: side,
            qty: entry.qty,
            type: type, limitPrice: limit, stopPrice: stop, tif: tif, strategy: entry.strategy, tags: entry.tags,
            createdAt: entry.createdAt)
        order.parentOrderID = entry.orderID
        order.orderClass = orderClass
        indexClientOrder(entry.account, clientID, id)
        let name = orderClass == .oco ? "one-cancels-other \(suffix)" : "\(orderClass?.rawValue ?? "bracket") \(suffix)"
        stageOrder(order, change: "accepted", reason: "\(name) of \(entry.orderID)")
        return order
    }
}
