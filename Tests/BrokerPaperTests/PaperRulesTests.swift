import BrokerAPI
import BrokerPaper
import GatewayCore
import Testing

/// The refusals the paper broker makes as a US broker would, and its costs on a fill.
@Suite struct PaperRulesTests {
    func order(
        _ symbol: String = "GME", _ side: OrderSide = .sell, qty: String = "10", type: OrderType = .market,
        tif: TimeInForce = .day
    ) -> Order {
        Order(
            orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
            symbol: Symbol(symbol)!, side: side, qty: Quantity(qty)!, type: type,
            limitPrice: type == .limit ? Price("10") : nil, tif: tif,
            createdAt: Timestamp(nanosecondsSinceEpoch: 0))
    }

    @Test func aShortSaleOfAHardToBorrowSymbolIsRefused() {
        let rules = PaperRules(hardToBorrow: [Symbol("GME")!])
        #expect(rules.refusal(of: order(), position: .zero)?.contains("GME is hard to borrow") == true)
        #expect(rules.refusal(of: order(qty: "10"), position: Quantity("10")!) == nil)  // closing a long
        #expect(rules.refusal(of: order(qty: "11"), position: Quantity("10")!) != nil)  // one share short
        #expect(rules.refusal(of: order("GME", .sellShort), position: Quantity("100")!) != nil)
        #expect(rules.refusal(of: order("GME", .buy), position: .zero) == nil)
        #expect(rules.refusal(of: order("AAPL"), position: .zero) == nil)
    }

    @Test func wholeQuantitiesWhereTheyMustBe() {
        let whole = PaperRules()
        #expect(whole.refusal(of: order("AAPL", .buy, qty: "0.5"), position: .zero)?.contains("whole shares") == true)
        let fractional = PaperRules(fractional: true)
        #expect(fractional.refusal(of: order("AAPL", .buy, qty: "0.5"), position: .zero) == nil)
        #expect(fractional.refusal(of: order("AAPL", .buy, qty: "0.5", type: .limit), position: .zero) == nil)
        #expect(fractional.refusal(of: order("AAPL", .buy, qty: "0.5", tif: .gtc), position: .zero) != nil)
        #expect(fractional.refusal(of: order("AAPL", .buy, qty: "0.5", type: .stop), position: .zero) != nil)
        #expect(
            fractional.refusal(of: order("AAPL  261218C00200000", .buyToOpen, qty: "1.5"), position: .zero)?
                .contains("whole contracts") == true)
    }

    @Test func theBrokerRefusesBeforeTakingTheOrder() async throws {
        let broker = PaperBroker(
            clock: PaperBrokerTests.FixedClock(), rules: PaperRules(hardToBorrow: [Symbol("GME")!]))
        try await broker.connect()
        do {
            try await broker.submit(order())
            Issue.record("a hard-to-borrow short sale was taken")
        } catch {
            #expect(error.kind == .nonRetryable)
            #expect(error.message.contains("hard to borrow"))
        }
        #expect(try await broker.orderReport(for: OrderID("o-1")!) == nil)
    }
}
