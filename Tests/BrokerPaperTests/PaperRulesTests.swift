import BrokerAPI
import BrokerPaper
import Foundation
import GatewayCore
import GatewayTesting
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

/// Slippage: fills move from the touch against the trader, by basis points or a fraction of the spread,
/// and a limit order never fills past its limit.
@Suite(.timeLimit(.minutes(1))) struct PaperSlippageTests {
    struct Clock: WallClock {
        func now() -> Timestamp { Timestamp(nanosecondsSinceEpoch: 1_795_600_000_000_000_000) }
    }

    func quote() -> Quote { Quote(symbol: Symbol("AAPL")!, bid: Price("99.9"), ask: Price("100"), ts: Clock().now()) }

    @Test func basisPointsAndSpreadFractionsToTheUnit() {
        let touch = Price("100")!
        #expect(
            PaperSlippage.basisPoints(Price("10")!).price(touch: touch, buy: true, quote: quote()) == Price("100.1"))
        #expect(
            PaperSlippage.basisPoints(Price("10")!).price(touch: Price("99.9")!, buy: false, quote: quote())
                == Price("99.8001"))
        #expect(
            PaperSlippage.spreadFraction(Price("0.5")!).price(touch: touch, buy: true, quote: quote())
                == Price("100.05"))
        #expect(
            PaperSlippage.spreadFraction(Price("0.5")!).price(touch: Price("99.9")!, buy: false, quote: quote())
                == Price("99.85"))
        // A price far beyond an Int64 product's reach still slips exactly: 5 bps of 1 000 000.
        #expect(
            PaperSlippage.basisPoints(Price("5")!).price(touch: Price("1000000")!, buy: true, quote: quote())
                == Price("1000500"))
        #expect(PaperSlippage.none.price(touch: touch, buy: true, quote: quote()) == touch)
    }

    func fills(_ slippage: PaperSlippage, _ orders: [Order]) async throws -> [String] {
        let broker = PaperBroker(clock: Clock(), rules: PaperRules(slippage: slippage))
        try await broker.connect()
        await broker.receive(quote())
        for order in orders { try await broker.submit(order) }
        var prices: [String] = []
        var events = broker.events.makeAsyncIterator()
        while prices.count < orders.count, let event = await events.next() {
            if case .fill(let fill) = event { prices.append(fill.price.description) }
        }
        return prices
    }

    func order(_ id: String, _ side: OrderSide, limit: String? = nil) -> Order {
        Order(
            orderID: OrderID(id)!, clientOrderID: ClientOrderID(id)!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: side, qty: Quantity(10), type: limit == nil ? .market : .limit,
            limitPrice: limit.flatMap { Price($0) }, tif: .day, createdAt: Clock().now())
    }

    @Test func fillsSlipAgainstTheTraderButNeverPastALimit() async throws {
        let prices = try await fills(
            .basisPoints(Price("10")!),
            [order("m-buy", .buy), order("m-sell", .sell), order("l-buy", .buy, limit: "100.05")])
        #expect(prices == ["100.1", "99.8001", "100.05"])
    }
}

/// The paper broker's own cash: a buy the account cannot pay for is refused as a broker would, working
/// buys count against it, fills move it, and the broker reports it (also after a restart, from its ledger).
@Suite(.timeLimit(.minutes(1))) struct PaperBuyingPowerTests {
    func order(_ id: String, _ side: OrderSide, qty: String, limit: String? = nil) -> Order {
        Order(
            orderID: OrderID(id)!, clientOrderID: ClientOrderID(id)!, account: AccountID("paper")!,
            symbol: Symbol("AAPL")!, side: side, qty: Quantity(qty)!, type: limit == nil ? .market : .limit,
            limitPrice: limit.flatMap { Price($0) }, tif: .gtc, createdAt: PaperSlippageTests.Clock().now())
    }

    @Test func buysBeyondTheCashAreRefusedAndFillsMoveIt() async throws {
        let ledger = TestFolders.make("cash") + "/ledger.jsonl"
        let broker = PaperBroker(
            clock: PaperSlippageTests.Clock(), ledgerPath: ledger,
            costs: CostModel(commission: .perShare(rate: Price("1")!, minimum: .zero, maximumPercent: nil)),
            cash: Money("1000"))
        try await broker.connect()
        try await broker.submit(order("rests", .buy, qty: "6", limit: "99"))  // 594 of the 1000 committed
        do {
            try await broker.submit(order("too-big", .buy, qty: "5", limit: "99"))
            Issue.record("a buy beyond the cash was taken")
        } catch {
            #expect(error.message == "insufficient buying power: the order needs 495, the account has 406")
        }
        try await broker.submit(order("fits", .buy, qty: "4", limit: "99"))
        #expect(try await broker.accountReport().buyingPower == Money("10"))

        // Both fill at their limit, 99, the market trading through it: 10 × 99 = 990 and 10 × 1 commission
        // leave 0 cash; a sale brings some back.
        await broker.receive(
            Quote(symbol: Symbol("AAPL")!, bid: Price("98"), ask: Price("98.5"), ts: PaperSlippageTests.Clock().now()))
        #expect(try await broker.accountReport().cash == .zero)
        try await broker.submit(order("sell", .sell, qty: "5"))
        // 5 × 98 = 490, less 5 commission.
        let report = try await broker.accountReport()
        #expect(report.cash == Money("485") && report.buyingPower == Money("485"))
        #expect(report.equity == Money("976.25"))  // and 5 held, marked at the mid, 98.25
        await broker.disconnect()

        let again = PaperBroker(clock: PaperSlippageTests.Clock(), ledgerPath: ledger, cash: Money("1000"))
        try await again.connect()
        #expect(try await again.accountReport().cash == Money("485"))
    }

    /// A replace takes both orders' holds in one step: the old one's is let go, the replacement's taken.
    @Test func aReplacedBuyHoldsTheReplacementsCashNotTheOldOnes() async throws {
        let broker = PaperBroker(clock: PaperSlippageTests.Clock(), cash: Money("1000"))
        try await broker.connect()
        let resting = order("rests", .buy, qty: "6", limit: "99")
        try await broker.submit(resting)
        #expect(try await broker.accountReport().buyingPower == Money("406"))
        var bigger = order("bigger", .buy, qty: "8", limit: "100")
        bigger.replacesOrderID = resting.orderID
        try await broker.replace(resting, with: bigger)
        #expect(try await broker.accountReport().buyingPower == Money("200"))
        var smaller = order("smaller", .buy, qty: "2", limit: "50")
        smaller.replacesOrderID = bigger.orderID
        try await broker.replace(bigger, with: smaller)
        #expect(try await broker.accountReport().buyingPower == Money("900"))
        await broker.disconnect()
    }
}
