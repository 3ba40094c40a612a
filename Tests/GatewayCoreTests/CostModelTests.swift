import Testing

@testable import GatewayCore

@Suite struct CostModelTests {
    static let ibkr = CostModel(
        commission: .perShare(rate: Price("0.005")!, minimum: Money("1")!, maximumPercent: Price("1")!))
    static let tasty = CostModel(
        commission: .perContract(rate: Price("1")!, capPerLeg: Money("10")!, freeClosing: true))
    static let fees = CostModel(
        secFeeRate: Price("0.0000278")!, finraTAFPerShare: Price("0.000166")!, finraTAFMaximum: Money("8.30")!)

    func cost(
        _ model: CostModel, _ symbol: String = "AAPL", qty: String, price: String, sale: Bool = false,
        closing: String = "0"
    ) -> String {
        model.cost(
            symbol: Symbol(symbol)!, qty: Quantity(qty)!, price: Price(price)!, isSale: sale,
            closingQty: Quantity(closing)!
        ).description
    }

    @Test func perShareWithAMinimumAndAPercentCap() {
        #expect(cost(Self.ibkr, qty: "100", price: "50") == "1")  // 0.50 raised to the 1.00 minimum
        #expect(cost(Self.ibkr, qty: "1000", price: "50") == "5")  // 0.005 × 1000
        #expect(cost(Self.ibkr, qty: "10000", price: "1") == "50")  // under the cap of 100
        #expect(cost(Self.ibkr, qty: "100", price: "0.5") == "0.5")  // the 1 % cap (0.50) is below the minimum
        #expect(cost(Self.ibkr, qty: "333", price: "20") == "1.66")  // 1.665 half-to-even
    }

    @Test func perContractCappedPerLegWithFreeClosing() {
        let option = "AAPL  261218C00200000"
        #expect(cost(Self.tasty, option, qty: "5", price: "4.10") == "5")
        #expect(cost(Self.tasty, option, qty: "20", price: "4.10") == "10")
        #expect(cost(Self.tasty, option, qty: "5", price: "4.10", sale: false, closing: "5") == "0")
        #expect(cost(Self.tasty, option, qty: "8", price: "4.10", closing: "3") == "5")
    }

    @Test func regulatoryFeesOnSalesOnlyRoundedUp() {
        #expect(cost(Self.fees, qty: "100", price: "50") == "0")
        // SEC 5 000 × 0.0000278 = 0.139 → 0.14; TAF 100 × 0.000166 = 0.0166 → 0.02.
        #expect(cost(Self.fees, qty: "100", price: "50", sale: true) == "0.16")
        // TAF 100 000 × 0.000166 = 16.60, capped at 8.30; SEC 100 000 × 0.0000278 = 2.78.
        #expect(cost(Self.fees, qty: "100000", price: "1", sale: true) == "11.08")
        // An option's proceeds count its multiplier: 2 × 3.00 × 100 = 600 → SEC 0.0168 → 0.02; TAF 0.01.
        #expect(cost(Self.fees, "AAPL  261218C00200000", qty: "2", price: "3", sale: true) == "0.03")
    }

    @Test func zeroIsZero() {
        #expect(cost(CostModel(), qty: "100", price: "50", sale: true) == "0")
    }

    @Test func centRounding() {
        #expect(Money("1.005")!.roundedToCent(up: false) == Money("1")!)
        #expect(Money("1.015")!.roundedToCent(up: false) == Money("1.02")!)
        #expect(Money("1.0051")!.roundedToCent(up: false) == Money("1.01")!)
        #expect(Money("1.001")!.roundedToCent(up: true) == Money("1.01")!)
        #expect(Money("-1.001")!.roundedToCent(up: true) == Money("-1.01")!)
        #expect(Money("2")!.roundedToCent(up: true) == Money("2")!)
    }
}
