import Foundation
import GatewayCore
import Testing

/// An order's fields live in one shared box (copy-on-write): copies must still behave as values.
@Suite struct OrderCopyTests {
    static func order() -> Order {
        Order(
            orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: .buy, qty: Quantity("10")!, type: .limit, limitPrice: Price("190")!,
            tif: .day, createdAt: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000))
    }

    @Test func changingACopyLeavesTheOriginalAlone() {
        let original = Self.order()
        var copy = original
        #expect(copy == original)
        copy.status = .acknowledged
        copy.filledQty = Quantity("4")!
        copy.tags = ["x"]
        #expect(original.status == .accepted)
        #expect(original.filledQty == .zero)
        #expect(original.tags == nil)
        #expect(copy.status == .acknowledged && copy.filledQty == Quantity("4")! && copy.tags == ["x"])
        #expect(copy != original)
    }

    @Test func copiesInCollectionsAreIndependent() {
        var byID: [OrderID: Order] = [:]
        let order = Self.order()
        byID[order.orderID] = order
        var list = [order, order]
        byID[order.orderID]?.apply(.sent, at: order.createdAt)
        list[1].brokerOrderID = "B-1"
        #expect(byID[order.orderID]?.status == .submitted)
        #expect(list[0] == order)
        #expect(list[1].brokerOrderID == "B-1" && list[1].status == .accepted)
        #expect(order.status == .accepted && order.brokerOrderID == nil)
    }

    @Test func equalOrdersHashAlikeWhetherOrNotTheyShareStorage() throws {
        let order = Self.order()
        var rebuilt = try JSONDecoder().decode(Order.self, from: JSONEncoder().encode(order))
        #expect(rebuilt == order)
        #expect(Set([order, rebuilt]).count == 1)
        rebuilt.updatedAt = Timestamp(nanosecondsSinceEpoch: 1)
        #expect(Set([order, rebuilt]).count == 2)
    }

    /// Terms are shared even by copies whose state has changed: changing a term of one copy afterwards
    /// must still leave the others alone.
    @Test func changingATermOfACopyWhoseStateMovedLeavesTheOthersAlone() {
        let original = Self.order()
        var moved = original
        moved.apply(.sent, at: original.createdAt)
        var again = moved
        again.limitPrice = Price("191")!
        again.legs = [OrderLeg(symbol: Symbol("AAPL  261218C00200000")!, side: .buyToOpen, ratio: 1)]
        #expect(original.limitPrice == Price("190")! && moved.limitPrice == Price("190")!)
        #expect(original.legs == nil && moved.legs == nil)
        #expect(again.status == .submitted && moved.status == .submitted && original.status == .accepted)
        moved.qty = Quantity("3")!
        #expect(original.qty == Quantity("10")! && again.qty == Quantity("10")! && moved.qty == Quantity("3")!)
        #expect(Set([original, moved, again]).count == 3)
    }

    /// The terms a holder keeps alone (the paper broker) read the order's terms, and stay as they were
    /// when the order they came from changes afterwards.
    @Test func sharedTermsReadTheTermsAndStayAsTaken() {
        var order = Self.order()
        order.strategy = "turtle"
        order.extendedHours = true
        let terms = order.sharedTerms
        #expect(terms.orderID == order.orderID && terms.clientOrderID == order.clientOrderID)
        #expect(terms.account == order.account && terms.symbol == order.symbol && terms.side == order.side)
        #expect(terms.qty == order.qty && terms.type == order.type && terms.tif == order.tif)
        #expect(terms.limitPrice == Price("190")! && terms.stopPrice == nil && terms.createdAt == order.createdAt)
        #expect(terms.strategy == "turtle" && terms.extendedHours == true && terms.legs == nil)
        order.apply(.sent, at: order.createdAt)
        order.limitPrice = Price("191")!
        order.qty = Quantity("3")!
        #expect(terms.limitPrice == Price("190")! && terms.qty == Quantity("10")!)
        #expect(order.sharedTerms.limitPrice == Price("191")! && order.sharedTerms.qty == Quantity("3")!)
    }

    /// The terms most orders leave unset live in a box of their own (`Order.Terms`): set, changed and unset
    /// on a copy they leave the original alone, they take part in equality, hashing and the JSON, and an
    /// order whose rare terms were all unset again equals one that never had them.
    @Test func theRareTermsBehaveAsValues() throws {
        let plain = Self.order()
        var rare = plain
        rare.stopPrice = Price("185")!
        rare.trailPrice = Price("2")!
        rare.trailPercent = Price("1.5")!
        rare.tags = ["swing"]
        rare.legs = [OrderLeg(symbol: Symbol("AAPL  261218C00200000")!, side: .buyToOpen, ratio: 1)]
        rare.replacesOrderID = OrderID("o-0")!
        rare.parentOrderID = OrderID("o-p")!
        rare.orderClass = .bracket
        rare.extendedHours = true
        #expect(plain.stopPrice == nil && plain.tags == nil && plain.legs == nil && plain.orderClass == nil)
        #expect(rare != plain && Set([rare, plain]).count == 2)
        let decoded = try JSONDecoder().decode(Order.self, from: JSONEncoder().encode(rare))
        #expect(decoded == rare && Set([decoded, rare]).count == 1)
        #expect(decoded.stopPrice == Price("185")! && decoded.trailPrice == Price("2")!)
        #expect(decoded.trailPercent == Price("1.5")! && decoded.tags == ["swing"] && decoded.legs?.count == 1)
        #expect(decoded.replacesOrderID == OrderID("o-0")! && decoded.parentOrderID == OrderID("o-p")!)
        #expect(decoded.orderClass == .bracket && decoded.extendedHours == true)
        var changed = rare
        changed.stopPrice = Price("180")!
        changed.tags = nil
        #expect(rare.stopPrice == Price("185")! && rare.tags == ["swing"])
        #expect(changed.stopPrice == Price("180")! && changed.tags == nil && changed.legs?.count == 1)
        #expect(rare.sharedTerms.stopPrice == Price("185")! && changed.sharedTerms.stopPrice == Price("180")!)
        var unset = rare
        unset.stopPrice = nil
        unset.trailPrice = nil
        unset.trailPercent = nil
        unset.tags = nil
        unset.legs = nil
        unset.replacesOrderID = nil
        unset.parentOrderID = nil
        unset.orderClass = nil
        #expect(unset != plain)
        unset.extendedHours = nil
        #expect(unset == plain && Set([unset, plain]).count == 1)
    }
}
