import GatewayCore

/// The engine's orders: every working order in memory, and finished ones read back from the journal
/// when asked for (a late fill, a duplicate submit, a cancel of a filled order). Memory and checkpoints
/// then grow with what is working, not with the account's whole history.
struct OrderStore {
    private(set) var live: [OrderID: Order] = [:]
    /// Reads a finished order's last journaled state.
    let loader: (OrderID) -> Order?

    init(live: [OrderID: Order] = [:], loader: @escaping (OrderID) -> Order?) {
        self.live = live
        self.loader = loader
    }

    subscript(id: OrderID) -> Order? {
        get { live[id] ?? loader(id) }
        set { live[id] = newValue }
    }

    /// Orders held in memory: every working one, and those that finished in the batch under way.
    var values: Dictionary<OrderID, Order>.Values { live.values }

    /// Lets finished orders go once their batch is journaled.
    mutating func evict(_ ids: Set<OrderID>) {
        for id in ids where live[id]?.status.isOpen == false { live[id] = nil }
    }
}
