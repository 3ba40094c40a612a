import Foundation
import GatewayCore
import GatewayTesting
import Journal
import Testing

@testable import Execution

/// The open and unknown counts `status` reads are kept as orders change: they must be what a count over
/// every order in memory gives, through new orders, changes of status, finished orders let go, and a
/// store made from a replay's orders.
@Suite struct OrderStoreTests {
    let folder = EngineHarness.temporaryFolder()

    func order(_ n: Int, _ account: String, _ status: OrderStatus) -> Order {
        var order = Order(
            orderID: OrderID("o-\(n)")!, clientOrderID: ClientOrderID("c-\(n)")!, account: AccountID(account)!,
            symbol: Symbol("AAPL")!, side: .buy, qty: Quantity(1), type: .market, tif: .day,
            createdAt: Timestamp(nanosecondsSinceEpoch: 1_795_600_000_000_000_000))
        order.status = status
        return order
    }

    /// What a pass over every order in memory counts for `account`.
    static func counted(_ store: OrderStore, _ account: String) -> [Int] {
        let open = store.values.filter { $0.account.rawValue == account && $0.status.isOpen }
        return [open.count, open.filter { $0.status == .unknown }.count]
    }

    static func kept(_ store: OrderStore, _ account: String) -> [Int] {
        let count = store.openCount(in: AccountID(account)!)
        return [count.open, count.unknown]
    }

    /// A fixed sequence of numbers, the same at every run (a 64-bit linear congruential generator).
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 29)
        }
    }

    @Test func openCountsFollowEveryChange() throws {
        let journal = try EventJournal(path: folder + "/journal.sqlite")
        defer {
            try? journal.close()
            try? FileManager.default.removeItem(atPath: folder)
        }
        var store = OrderStore(journal: journal, decoder: JSONDecoder())
        let statuses: [OrderStatus] = [.accepted, .acknowledged, .partiallyFilled, .unknown, .filled, .canceled]
        var random = Seeded(state: 20_261_207)
        for step in 0..<2_000 {
            let n = Int.random(in: 0..<200, using: &random)
            let account = n % 3 == 0 ? "b" : "a"
            let status = statuses.randomElement(using: &random)!
            if step % 7 == 0 {
                store[OrderID("o-\(n)")!] = order(n, account, status)
            } else {
                _ = store.replace(order(n, account, status))
            }
            if step % 50 == 0 { store.evict(Set((0..<200).map { OrderID("o-\($0)")! })) }
            for account in ["a", "b"] {
                #expect(Self.kept(store, account) == Self.counted(store, account), "step \(step)")
            }
        }
        #expect(Self.kept(store, "a")[0] > 0)
        let live = Dictionary(uniqueKeysWithValues: store.values.map { ($0.orderID, $0) })
        let restored = OrderStore(live: live, journal: journal, decoder: JSONDecoder())
        for account in ["a", "b", "c"] { #expect(Self.kept(restored, account) == Self.counted(store, account)) }
    }
}
