import BrokerAPI
import GatewayCore

/// The paper broker's own view of its orders, positions and quotes.
struct PaperBook {
    /// One order at the paper broker. Its fields live in one copy-on-write box, so that the book's
    /// dictionary holds a reference per order instead of about 110 bytes (with 100 000 resting orders the
    /// dictionary's buckets, about twice as many as orders, were the broker's largest allocation). The
    /// order's terms are shared with the engine's copy of the order; its state is the broker's own.
    ///
    /// A trailing stop's best price and a bracket child's parent and sibling, which most orders do not
    /// have, live in a box of their own (`Links`), made for the orders that have one: in the fields they
    /// took 48 of 112 bytes, and the fields' box took the allocator's 128-byte class where it now takes 80
    /// (about 4.6 MiB with 100 000 resting orders; docs/performance.md).
    struct Resting {
        struct Fields {
            let order: Order.SharedTerms
            var brokerOrderID: String
            var fills: [BrokerFill] = []
            /// `nil` when it would be empty.
            var links: CopyOnWrite<Links>? = nil
            var reservePrice: Price?
            // In the padding after `reservePrice` (a `Price?` is 9 bytes).
            var status: OrderStatus
            var triggered = false
            var held = false
        }

        struct Links: Equatable {
            var watermark: Price? = nil
            var parent: OrderID? = nil
            var sibling: OrderID? = nil
        }

        // Changed in place (`_modify`): a setter made each change read the field out and write it back,
        // so that a fill appended to `fills` copied the list (and, with the entry held elsewhere, the box).
        private var fields: CopyOnWrite<Fields>

        init(order: Order, brokerOrderID: String, status: OrderStatus) {
            fields = CopyOnWrite(Fields(order: order.sharedTerms, brokerOrderID: brokerOrderID, status: status))
        }

        var order: Order.SharedTerms { fields.value.order }
        var brokerOrderID: String {
            get { fields.value.brokerOrderID }
            _modify { yield &fields.value.brokerOrderID }
        }
        var status: OrderStatus {
            get { fields.value.status }
            _modify { yield &fields.value.status }
        }
        var fills: [BrokerFill] {
            get { fields.value.fills }
            _modify { yield &fields.value.fills }
        }
        var triggered: Bool {
            get { fields.value.triggered }
            _modify { yield &fields.value.triggered }
        }
        /// A trailing stop's best price so far.
        var watermark: Price? {
            get { fields.value.links?.value.watermark }
            set { setLink(\.watermark, newValue) }
        }
        /// For a buy: the price its cost is counted at against the cash (its limit, else its stop, else the
        /// ask when it arrived).
        var reservePrice: Price? {
            get { fields.value.reservePrice }
            _modify { yield &fields.value.reservePrice }
        }
        /// A bracket child waiting for its parent to fill.
        var held: Bool {
            get { fields.value.held }
            _modify { yield &fields.value.held }
        }
        var parent: OrderID? {
            get { fields.value.links?.value.parent }
            set { setLink(\.parent, newValue) }
        }
        var sibling: OrderID? {
            get { fields.value.links?.value.sibling }
            set { setLink(\.sibling, newValue) }
        }

        /// Sets one of the links, making their box when it is the first and dropping it when the last goes.
        private mutating func setLink<T>(_ link: WritableKeyPath<Links, T?>, _ value: T?) {
            fields.value.links = .setting(link, to: value, in: fields.value.links, empty: Links())
        }

        /// What a working buy still holds of the cash.
        var reserved: Money {
            guard status.isOpen, let reservePrice else { return .zero }
            return reservePrice.notional(leaves, multiplier: order.symbol.multiplier) ?? .zero
        }
        var filled: Quantity { fills.reduce(.zero) { $0 + $1.qty } }
        var leaves: Quantity { order.qty - filled }

        var report: BrokerOrderReport {
            BrokerOrderReport(
                orderID: order.orderID, brokerOrderID: brokerOrderID, status: status, filledQty: filled, fills: fills,
                terms: BrokerOrderTerms(order))
        }
    }

    var orders: [OrderID: Resting] = [:]
    /// Finished orders still kept, oldest finished first: past `finishedKept` the oldest are let go
    /// (`shed`), so that the book (and a compacted ledger) holds the open orders and the latest finished
    /// ones, not every order it has seen. A finished order is asked about only while the gateway is unsure of it — an order in
    /// flight when it stopped — and refused as a duplicate if sent again, so the latest thousands serve.
    private var finished = FinishedList()
    var finishedKept = PaperBroker.finishedOrdersKept
    /// Every order in arrival order, oldest first; closed orders stay in it until the next compaction, so
    /// readers skip what is not open. Closing an order only counts it, and the list is compacted once the
    /// closed outnumber the rest: closing is then constant time, where taking each one out at once cost a
    /// pass over every working order, and a quote that filled N of them, N² steps (with 80 000 working
    /// market orders, one quote held the engine's thread for over ten minutes).
    private(set) var arrival = ArrivalList()
    /// The same, per symbol (a spread's under its own and under each of its legs'), so that a quote looks
    /// only at the orders it can fill.
    private var bySymbol: [Symbol: ArrivalList] = [:]
    /// The bracket children of each parent, oldest first.
    private var childrenOf: [OrderID: [OrderID]] = [:]
    var positions: [Symbol: Position] = [:]
    /// The account's cash at this broker, when it keeps one: starting cash, less what buys cost, plus what
    /// sales bring, less every commission.
    var cash: Money?
    /// What the working buys hold of the cash, kept as orders arrive, fill and end (never a scan).
    var committedToBuys = Money.zero
    var quotes: [Symbol: Quote] = [:]
    /// What a participation rate leaves of the latest quote's volume, per symbol.
    var volumeLeft: [Symbol: Quantity] = [:]

    /// Working orders on `symbol` (a spread's on any of its legs), oldest first; bracket children still
    /// held are not working.
    func working(symbol: Symbol) -> [OrderID] {
        guard let list = bySymbol[symbol] else { return [] }
        return list.ids.filter { id in orders[id].map { $0.status.isOpen && !$0.held } ?? false }
    }

    /// The bracket children of `parent` still open, oldest first.
    func children(of parent: OrderID) -> [OrderID] {
        childrenOf[parent]?.filter { orders[$0]?.status.isOpen == true } ?? []
    }

    /// Calls `body` with each symbol an order is listed under, once: its own and, for a spread, each
    /// leg's. (No array made: it runs twice an order.)
    private static func forEachSymbol(of order: Order.SharedTerms, _ body: (Symbol) -> Void) {
        body(order.symbol)
        guard let legs = order.legs else { return }
        for (index, leg) in legs.enumerated()
        where leg.symbol != order.symbol && !legs[..<index].contains(where: { $0.symbol == leg.symbol }) {
            body(leg.symbol)
        }
    }

    /// Lists a new order (open) at the end of the arrival lists.
    private mutating func listArrival(_ id: OrderID) {
        guard let order = orders[id]?.order else { return }
        arrival.append(id)
        Self.forEachSymbol(of: order) { bySymbol[$0, default: ArrivalList()].append(id) }
    }

    /// Counts a listed order that has just closed, compacting a list once its closed entries outnumber
    /// the open ones.
    private mutating func closeListed(_ id: OrderID) {
        guard let order = orders[id]?.order else { return }
        let orders = self.orders
        func isOpen(_ id: OrderID) -> Bool { orders[id]?.status.isOpen == true }
        arrival.closedOne(isOpen)
        Self.forEachSymbol(of: order) { symbol in
            guard var list = bySymbol.removeValue(forKey: symbol) else { return }
            list.closedOne(isOpen)
            if !list.ids.isEmpty { bySymbol[symbol] = list }
        }
    }

    /// Applies an entry, keeping `committedToBuys` in step with the orders it touches (when the book keeps
    /// cash at all).
    mutating func apply(_ entry: PaperLedger.Entry) {
        guard cash != nil else { return record(entry) }
        // At most two orders, held inline: a list made for each entry was an allocation, two an order.
        let touched: (OrderID?, OrderID?)
        switch entry {
        case .received(let order, _), .receivedChild(let order, _, _, _): touched = (order.orderID, nil)
        case .filled(let fill): touched = (fill.orderID, nil)
        case .canceled(let id), .triggered(let id), .activated(let id), .watermark(let id, _), .expired(let id):
            touched = (id, nil)
        case .replaced(let old, let replacement, _): touched = (old, replacement.orderID)
        case .kept(let kept): touched = (kept.order.orderID, nil)
        case .settled, .book: touched = (nil, nil)
        }
        func reserved(_ id: OrderID?) -> Money { id.flatMap { orders[$0]?.reserved } ?? .zero }
        let before = reserved(touched.0) + reserved(touched.1)
        record(entry)
        if let id = touched.0 { priceReserve(id) }
        if let id = touched.1 { priceReserve(id) }
        committedToBuys += reserved(touched.0) + reserved(touched.1) - before
    }

    /// Sets the price an open buy's cash is held at, once: its limit or stop, else the quote's ask or last.
    private mutating func priceReserve(_ id: OrderID) {
        // Found once and changed where it is held (the dictionary's values are changed in place, so its
        // fields' box is not copied): taking it out and putting it back hashed the id three times.
        guard let index = orders.index(forKey: id), orders.values[index].reservePrice == nil else { return }
        let order = orders.values[index].order
        guard order.side.isBuy, order.legs == nil else { return }
        let quote = quotes[order.symbol]
        orders.values[index].reservePrice = order.limitPrice ?? order.stopPrice ?? quote?.ask ?? quote?.last
    }

    /// One symbol's part of a fill: its position, and the cash it costs or brings.
    private mutating func trade(
        _ fill: BrokerFill, of order: Order.SharedTerms, _ symbol: Symbol, _ side: OrderSide, _ qty: Quantity,
        _ price: Price
    ) {
        move(
            Fill(
                fillID: fill.fillID, orderID: fill.orderID, clientOrderID: order.clientOrderID, account: order.account,
                symbol: symbol, side: side, qty: qty, price: price, ts: fill.ts))
    }

    /// A trade's effect on its position and on the cash.
    private mutating func move(_ fill: Fill) {
        var position = positions[fill.symbol] ?? Position(account: fill.account, symbol: fill.symbol)
        position.apply(fill)
        positions[fill.symbol] = position
        if let before = cash {
            let value = fill.price.notional(fill.qty, multiplier: fill.symbol.multiplier) ?? .zero
            cash = fill.side.isBuy ? before - value : before + value
        }
    }

    /// An option's end at expiry: its position closed at zero, and the underlying delivered at the strike.
    private mutating func settle(_ settlement: BrokerSettlement) {
        guard let account = positions[settlement.option]?.account else { return }
        func fill(_ part: String, _ symbol: Symbol, _ side: OrderSide, _ qty: Quantity, _ price: Price) -> Fill {
            let id = "\(settlement.id)-\(part)"
            return Fill(
                fillID: FillID(id)!, orderID: OrderID(id)!, clientOrderID: ClientOrderID(id)!, account: account,
                symbol: symbol, side: side, qty: qty, price: price, ts: settlement.ts)
        }
        move(
            fill(
                "option", settlement.option, settlement.contracts.isPositive ? .sellToClose : .buyToClose,
                settlement.contracts.magnitude, .zero))
        if let underlying = settlement.underlying, settlement.shares != .zero {
            move(
                fill(
                    "delivery", underlying, settlement.shares.isPositive ? .buy : .sell, settlement.shares.magnitude,
                    settlement.strike))
        }
    }

    /// Applies `entry`, keeping the arrival lists in step: an order is listed when it arrives and counted
    /// out when its status stops being open.
    private mutating func record(_ entry: PaperLedger.Entry) {
        let closing: OrderID?
        switch entry {
        case .filled(let fill): closing = fill.orderID
        case .canceled(let id), .expired(let id), .replaced(let id, _, _): closing = id
        default: closing = nil
        }
        let wasOpen = closing.map { orders[$0]?.status.isOpen == true } ?? false
        change(entry)
        if let closing, wasOpen, orders[closing]?.status.isOpen == false {
            closeListed(closing)
            retire(closing)
        }
        switch entry {
        case .received(let order, _), .receivedChild(let order, _, _, _): listArrival(order.orderID)
        case .replaced(_, let replacement, _): listArrival(replacement.orderID)
        case .kept(let kept):
            if kept.status.isOpen {
                listArrival(kept.order.orderID)
            } else {
                retire(kept.order.orderID)
            }
            if let parent = kept.parent { childrenOf[parent, default: []].append(kept.order.orderID) }
        default: break
        }
        if case .receivedChild(let order, _, let parent, _) = entry {
            childrenOf[parent, default: []].append(order.orderID)
        }
    }

    /// Keeps a finished order among the latest; `shed` lets go of the oldest.
    private mutating func retire(_ id: OrderID) {
        finished.append(id)
    }

    /// Lets go of the oldest finished orders past `finishedKept`, at most `limit` of them. The simulator
    /// sheds after each operation a bounded number, so that a quote that fills a hundred thousand orders
    /// does not also free them all in the same call (a fifth of that call, which holds the engine's
    /// thread): the next calls free them a thousand at a time. A ledger being read sheds as it goes.
    mutating func shed(atMost limit: Int) {
        var left = limit
        while left > 0, finished.count > finishedKept, let oldest = finished.removeFirst() {
            left -= 1
            guard orders[oldest]?.status.isOpen == false else { continue }
            orders[oldest] = nil
            childrenOf[oldest] = nil
        }
    }

    /// What a compacted ledger holds to make this book again (`PaperLedger.compactInBackground`): the positions and
    /// how far the cash has moved from `startingCash`, then the finished orders kept, oldest finished
    /// first, then the open ones in arrival order (a quote fills them in that order).
    func compacted(startingCash: Money?) -> [PaperLedger.Entry] {
        var entries: [PaperLedger.Entry] = []
        entries.reserveCapacity(orders.count + 1)
        forEachCompacted(startingCash: startingCash) { entries.append($0) }
        return entries
    }

    /// Hands `body` the entries of `compacted(startingCash:)` one at a time, in the same order, without
    /// holding them all: a rewrite of 100 000 orders' ledger writes each line as it is made.
    func forEachCompacted(startingCash: Money?, _ body: (PaperLedger.Entry) throws -> Void) rethrows {
        let cashChange = cash.flatMap { now in startingCash.map { now - $0 } }
        try body(.book(positions: positions.values.sorted { $0.symbol < $1.symbol }, cashChange: cashChange))
        func kept(_ id: OrderID) -> PaperLedger.Entry? {
            guard let resting = orders[id] else { return nil }
            return .kept(
                PaperLedger.Kept(
                    order: Order(terms: resting.order, status: resting.status), brokerOrderID: resting.brokerOrderID,
                    status: resting.status, fills: resting.fills, triggered: resting.triggered,
                    watermark: resting.watermark, reservePrice: resting.reservePrice, held: resting.held,
                    parent: resting.parent, sibling: resting.sibling))
        }
        for id in finished.ids.suffix(finishedKept) where orders[id]?.status.isOpen == false {
            if let entry = kept(id) { try body(entry) }
        }
        for id in arrival.ids where orders[id]?.status.isOpen == true {
            if let entry = kept(id) { try body(entry) }
        }
    }

    private mutating func change(_ entry: PaperLedger.Entry) {
        switch entry {
        case .received(let order, let brokerID):
            orders[order.orderID] = Resting(order: order, brokerOrderID: brokerID, status: .acknowledged)
        case .filled(let fill):
            // Found once and changed where the book holds it (a dictionary's values change in place): a
            // copy changed while the book still held it copied its fields' box, and the list of fills with
            // it (two allocations a fill), and taking it out and putting it back hashed its id twice.
            guard let index = orders.index(forKey: fill.orderID) else { return }
            orders.values[index].fills.append(fill)
            let leaves = orders.values[index].leaves
            orders.values[index].status = leaves.isPositive ? .partiallyFilled : .filled
            let resting = orders.values[index]
            // What traded moves its position and the cash: the order's symbol, or each leg of a spread at
            // its own price.
            if let legs = resting.order.legs {
                for leg in legs {
                    guard let price = fill.legs?.first(where: { $0.symbol == leg.symbol })?.price else { continue }
                    trade(fill, of: resting.order, leg.symbol, leg.side, leg.quantity(fill.qty), price)
                }
            } else {
                trade(fill, of: resting.order, resting.order.symbol, resting.order.side, fill.qty, fill.price)
            }
            if let before = cash { cash = before - fill.commission }
        case .canceled(let id):
            orders[id]?.status = .canceled
        case .expired(let id):
            orders[id]?.status = .expired
        case .replaced(let old, let replacement, let brokerID):
            orders[old]?.status = .replaced
            orders[replacement.orderID] = Resting(order: replacement, brokerOrderID: brokerID, status: .acknowledged)
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
        case .activated(let id):
            orders[id]?.held = false
        case .settled(let settlement):
            settle(settlement)
        case .book(let list, let cashChange):
            positions = Dictionary(list.map { ($0.symbol, $0) }, uniquingKeysWith: { _, last in last })
            if let before = cash, let cashChange { cash = before + cashChange }
        case .kept(let kept):
            var resting = Resting(order: kept.order, brokerOrderID: kept.brokerOrderID, status: kept.status)
            resting.fills = kept.fills
            resting.triggered = kept.triggered
            resting.watermark = kept.watermark
            resting.reservePrice = kept.reservePrice
            resting.held = kept.held
            resting.parent = kept.parent
            resting.sibling = kept.sibling
            orders[kept.order.orderID] = resting
        }
    }
}

/// Finished order ids, oldest first: appended at the end, taken from the front, its storage reused.
struct FinishedList {
    private var storage: [OrderID] = []
    private var head = 0

    var count: Int { storage.count - head }
    var ids: ArraySlice<OrderID> { storage[head...] }

    mutating func append(_ id: OrderID) { storage.append(id) }

    mutating func removeFirst() -> OrderID? {
        guard head < storage.count else { return nil }
        let first = storage[head]
        head += 1
        // Shifted down once half the storage is taken: each id is moved at most once more.
        if head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return first
    }
}

/// Order ids in arrival order, oldest first, where closed orders are left in place and counted: the list
/// is compacted (the closed taken out, order kept) once they are more than half of it.
struct ArrivalList {
    private(set) var ids: [OrderID] = []
    private var closed = 0

    /// Listed at the end.
    mutating func append(_ id: OrderID) { ids.append(id) }

    /// One listed order closed; `isOpen` tells which still are when the list is compacted.
    mutating func closedOne(_ isOpen: (OrderID) -> Bool) {
        closed += 1
        guard closed * 2 > ids.count else { return }
        ids.removeAll { !isOpen($0) }
        closed = 0
    }
}
