import Foundation
import GatewayCore
import Journal

/// The engine's orders: every working order in memory, and finished ones read back from the journal
/// when asked for (a late fill, a duplicate submit, a cancel of a filled order). Memory and checkpoints
/// then grow with what is working, not with the account's whole history.
struct OrderStore {
    private(set) var live: [OrderID: Order] = [:]
    /// Per account, how many of the orders in memory are open and how many of those have an unknown
    /// outcome, kept as orders change: `status` reads them here. Counting them at each `status` passed over
    /// every order in memory on the engine's thread — with 100 000 open orders, milliseconds for each
    /// `status` (a client asking every millisecond during a quote's pass through them spent about an eighth
    /// of that thread in the count; docs/performance.md).
    private var counts: [AccountID: OpenCount] = [:]
    /// Where finished orders' last journaled states are read from.
    let journal: EventJournal
    let decoder: JSONDecoder

    struct OpenCount: Equatable {
        var open = 0
        var unknown = 0

        /// One order's weight moved from `was` to `now`: one look-up of the account's counts, not two.
        mutating func move(from was: OpenCount, to now: OpenCount) {
            open += now.open - was.open
            unknown += now.unknown - was.unknown
        }
    }

    init(live: [OrderID: Order] = [:], journal: EventJournal, decoder: JSONDecoder) {
        self.live = live
        self.journal = journal
        self.decoder = decoder
        for order in live.values { recount(from: nil, to: order) }
    }

    subscript(id: OrderID) -> Order? {
        get { live[id] ?? finished(id) }
        set {
            let old: Order?
            if let newValue { old = live.updateValue(newValue, forKey: id) } else { old = live.removeValue(forKey: id) }
            recount(from: old, to: newValue)
        }
    }

    /// Moves the counts from `old` to `new`, two states of one order (so of one account), either absent:
    /// nothing to do unless the order became open or stopped being so, or became unknown or stopped being so.
    private mutating func recount(from old: Order?, to new: Order?) {
        let was = old.map(Self.weight) ?? OpenCount()
        let now = new.map(Self.weight) ?? OpenCount()
        guard was != now, let account = (new ?? old)?.account else { return }
        counts[account, default: OpenCount()].move(from: was, to: now)
    }

    /// What one order adds to its account's counts.
    private static func weight(_ order: Order) -> OpenCount {
        guard order.status.isOpen else { return OpenCount() }
        return OpenCount(open: 1, unknown: order.status == .unknown ? 1 : 0)
    }

    /// A finished order's last journaled state.
    func finished(_ id: OrderID) -> Order? {
        guard let payload = try? journal.latestOrderPayload(id.rawValue) else { return nil }
        return try? decoder.decode(OrderChanged.self, from: Data(payload.utf8)).order
    }

    /// Orders held in memory: every working one, and those that finished in the batch under way.
    var values: Dictionary<OrderID, Order>.Values { live.values }

    /// Holds `order`'s new state; returns the state it replaces if that is in memory (a working order's,
    /// or one that finished in the batch under way), never reading the journal.
    mutating func replace(_ order: Order) -> Order? {
        let old = live.updateValue(order, forKey: order.orderID)
        recount(from: old, to: order)
        return old
    }

    /// The working orders of `account`, or of every account.
    func open(in account: AccountID?) -> [Order] {
        live.values.filter { $0.status.isOpen && (account == nil || $0.account == account) }
    }

    /// The IDs of the working orders of `account`, or of every account, that `include` takes, in order.
    func openIDs(in account: AccountID?, where include: (Order) -> Bool) -> [OrderID] {
        live.values.compactMap { order in
            order.status.isOpen && (account == nil || order.account == account) && include(order) ? order.orderID : nil
        }.sorted()
    }

    /// The order `id` if it is working, without reading the journal for one that finished.
    func working(_ id: OrderID) -> Order? {
        live[id].flatMap { $0.status.isOpen ? $0 : nil }
    }

    /// How many of `account`'s orders are open, and how many of those have an unknown outcome.
    func openCount(in account: AccountID) -> (open: Int, unknown: Int) {
        let count = counts[account] ?? OpenCount()
        return (count.open, count.unknown)
    }

    /// Lets finished orders go once their batch is journaled.
    mutating func evict(_ ids: Set<OrderID>) {
        for id in ids where live[id]?.status.isOpen == false { live[id] = nil }
    }
}
