import BrokerAPI
import GatewayCore

/// The paper broker's own view of its orders, positions and quotes.
struct PaperBook {
    struct Resting {
        var order: Order
        var brokerOrderID: String
        var status: OrderStatus
        var fills: [BrokerFill] = []
        var triggered = false
        /// A trailing stop's best price so far.
        var watermark: Price?
        /// For a buy: the price its cost is counted at against the cash (its limit, else its stop, else the
        /// ask when it arrived).
        var reservePrice: Price?

        /// What a working buy still holds of the cash.
        var reserved: Money {
            guard status.isOpen, let reservePrice else { return .zero }
            return reservePrice.notional(leaves, multiplier: order.symbol.multiplier) ?? .zero
        }
        /// A bracket child waiting for its parent to fill.
        var held = false
        var parent: OrderID?
        var sibling: OrderID?

        var filled: Quantity { fills.reduce(.zero) { $0 + $1.qty } }
        var leaves: Quantity { order.qty - filled }

        var report: BrokerOrderReport {
            BrokerOrderReport(
                orderID: order.orderID, brokerOrderID: brokerOrderID, status: status, filledQty: filled, fills: fills)
        }
    }

    var orders: [OrderID: Resting] = [:]
    var arrival: [OrderID] = []
    var positions: [Symbol: Position] = [:]
    /// The account's cash at this broker, when it keeps one: starting cash, less what buys cost, plus what
    /// sales bring, less every commission.
    var cash: Money?
    /// What the working buys hold of the cash, kept as orders arrive, fill and end (never a scan).
    var committedToBuys = Money.zero
    var quotes: [Symbol: Quote] = [:]

    /// Working orders on `symbol` (a spread's on any of its legs), oldest first; bracket children still
    /// held are not working.
    func working(symbol: Symbol) -> [OrderID] {
        arrival.filter { id in
            orders[id].map { resting in
                resting.status.isOpen && !resting.held
                    && (resting.order.symbol == symbol || resting.order.legs?.contains { $0.symbol == symbol } == true)
            } ?? false
        }
    }

    /// The bracket children of `parent`.
    func children(of parent: OrderID) -> [OrderID] {
        arrival.filter { orders[$0]?.parent == parent }
    }

    /// Applies an entry, keeping `committedToBuys` in step with the orders it touches.
    mutating func apply(_ entry: PaperLedger.Entry) {
        let touched: [OrderID]
        switch entry {
        case .received(let order, _), .receivedChild(let order, _, _, _): touched = [order.orderID]
        case .filled(let fill): touched = [fill.orderID]
        case .canceled(let id), .triggered(let id), .activated(let id), .watermark(let id, _): touched = [id]
        case .replaced(let old, let replacement, _): touched = [old, replacement.orderID]
        }
        let before = touched.reduce(Money.zero) { $0 + (orders[$1]?.reserved ?? .zero) }
        record(entry)
        for id in touched where orders[id]?.reservePrice == nil {
            if let resting = orders[id], resting.order.side.isBuy, resting.order.legs == nil {
                let quote = quotes[resting.order.symbol]
                orders[id]?.reservePrice =
                    resting.order.limitPrice ?? resting.order.stopPrice ?? quote?.ask ?? quote?.last
            }
        }
        committedToBuys += touched.reduce(Money.zero) { $0 + (orders[$1]?.reserved ?? .zero) } - before
    }

    private mutating func record(_ entry: PaperLedger.Entry) {
        switch entry {
        case .received(let order, let brokerID):
            orders[order.orderID] = Resting(order: order, brokerOrderID: brokerID, status: .acknowledged)
            arrival.append(order.orderID)
        case .filled(let fill):
            guard var resting = orders[fill.orderID] else { return }
            resting.fills.append(fill)
            resting.status = resting.leaves.isPositive ? .partiallyFilled : .filled
            orders[fill.orderID] = resting
            if let before = cash {
                var after = before - fill.commission
                let traded: [(Symbol, OrderSide, Quantity, Price)] =
                    resting.order.legs.map { legs in
                        legs.compactMap { leg in
                            fill.legs?.first(where: { $0.symbol == leg.symbol }).map {
                                (leg.symbol, leg.side, Quantity(units: fill.qty.units * Int64(leg.ratio)), $0.price)
                            }
                        }
                    } ?? [(resting.order.symbol, resting.order.side, fill.qty, fill.price)]
                for (symbol, side, qty, price) in traded {
                    let value = price.notional(qty, multiplier: symbol.multiplier) ?? .zero
                    after = side.isBuy ? after - value : after + value
                }
                cash = after
            }
            if let legs = resting.order.legs, let prices = fill.legs {
                for leg in legs {
                    guard let price = prices.first(where: { $0.symbol == leg.symbol })?.price else { continue }
                    var position = positions[leg.symbol] ?? Position(account: resting.order.account, symbol: leg.symbol)
                    position.apply(
                        Fill(
                            fillID: fill.fillID, orderID: fill.orderID, clientOrderID: resting.order.clientOrderID,
                            account: resting.order.account, symbol: leg.symbol, side: leg.side,
                            qty: Quantity(units: fill.qty.units * Int64(leg.ratio)), price: price, ts: fill.ts))
                    positions[leg.symbol] = position
                }
                if !resting.status.isOpen { arrival.removeAll { $0 == fill.orderID } }
                return
            }
            var position =
                positions[resting.order.symbol]
                ?? Position(account: resting.order.account, symbol: resting.order.symbol)
            position.apply(
                Fill(
                    fillID: fill.fillID, orderID: fill.orderID, clientOrderID: resting.order.clientOrderID,
                    account: resting.order.account, symbol: resting.order.symbol, side: resting.order.side,
                    qty: fill.qty,
                    price: fill.price, ts: fill.ts))
            positions[resting.order.symbol] = position
            if !resting.status.isOpen { arrival.removeAll { $0 == fill.orderID } }
        case .canceled(let id):
            orders[id]?.status = .canceled
            arrival.removeAll { $0 == id }
        case .replaced(let old, let replacement, let brokerID):
            orders[old]?.status = .replaced
            arrival.removeAll { $0 == old }
            orders[replacement.orderID] = Resting(order: replacement, brokerOrderID: brokerID, status: .acknowledged)
            arrival.append(replacement.orderID)
        case .triggered(let id):
            orders[id]?.triggered = true
        case .watermark(let id, let price):
            orders[id]?.watermark = price
        case .receivedChild(let order, let brokerID, let parent, let sibling):
            var resting = Resting(order: order, brokerOrderID: brokerID, status: .acknowledged)
            // A bracket's or OTO's exit waits for its entry; an OCO's stop works beside its limit at once.
            resting.held = order.orderClass != .oco
            resting.parent = parent
            resting.sibling = sibling
            if order.orderClass == .oco {
                // An OCO's two orders are each other's sibling.
                resting.sibling = parent
                orders[parent]?.sibling = order.orderID
            }
            orders[order.orderID] = resting
            arrival.append(order.orderID)
        case .activated(let id):
            orders[id]?.held = false
        }
    }
}
