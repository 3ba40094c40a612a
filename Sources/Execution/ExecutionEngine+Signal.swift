import BrokerAPI
import GatewayCore

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
            let book = books[signal.account]
            let marks = quotes.compactMapValues(\.mark)
            let equity =
                book?.snapshot(
                    marks: marks, tradingState: "", broker: "", today: sessionDate(of: signal.account, at: clock.now())
                ).equity ?? .zero
            var room: Quantity?
            if let limit = account.limits.maxPositionQty {
                // Room under the limit after the position and the working orders on the same side.
                let held = book?.positions[signal.symbol]?.qty ?? .zero
                let working = (openOrders[signal.account] ?? []).compactMap { orders[$0] }.filter {
                    $0.symbol == signal.symbol && $0.side.isBuy == signal.side.isBuy
                }.reduce(Quantity.zero) { $0 + $1.leavesQty }
                room = max(.zero, limit - (signal.side.isBuy ? held : -held) - working)
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
        let bracket: String? =
            stop != nil || signal.takeProfit != nil
            ? "not placed: \(account.adapter.brokerName) does not take bracket orders yet; only the entry was sent"
            : nil
        return accept(request).map {
            SignalOutcome(orders: [$0.order], sizing: sizing, duplicate: $0.duplicate, bracket: bracket)
        }
    }
}
