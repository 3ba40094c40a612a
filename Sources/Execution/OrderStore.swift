import Foundation
import GatewayCore
import Journal

/// The engine's orders: every working order in memory, and finished ones read back from the journal
/// when asked for (a late fill, a duplicate submit, a cancel of a filled order). Memory and checkpoints
/// then grow with what is working, not with the account's whole history.
struct OrderStore {
    private(set) var live: [OrderID: Order] = [:]
    /// Where finished orders' last journaled states are read from.
    let journal: EventJournal
    let decoder: JSONDecoder

    init(live: [OrderID: Order] = [:], journal: EventJournal, decoder: JSONDecoder) {
        self.live = live
        self.journal = journal
        self.decoder = decoder
    }

    subscript(id: OrderID) -> Order? {
        get { live[id] ?? finished(id) }
        set { live[id] = newValue }
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
        live.updateValue(order, forKey: order.orderID)
    }

    /// The working orders of `account`, or of every account.
    func open(in account: AccountID?) -> [Order] {
        live.values.filter { $0.status.isOpen && (account == nil || $0.account == account) }
    }

    /// How many of `account`'s orders are open, and how many of those have an unknown outcome, without
    /// copying them out: `status` asks for this, and with 100 000 open orders building the array took
    /// the engine's thread for milliseconds each time.
    func openCount(in account: AccountID) -> (open: Int, unknown: Int) {
        var open = 0
        var unknown = 0
        for order in live.values where order.account == account && order.status.isOpen {
            open += 1
            if order.status == .unknown { unknown += 1 }
        }
        return (open, unknown)
    }

    /// Lets finished orders go once their batch is journaled.
    mutating func evict(_ ids: Set<OrderID>) {
        for id in ids where live[id]?.status.isOpen == false { live[id] = nil }
    }
}
