import GatewayCore
import PropertyBased
import Testing

@Suite struct PositionSizingTests {
    let aapl = Symbol("AAPL")!
    let fractional = SizingPolicy(method: .fixedFractional(riskFraction: Price("0.01")!))

    func input(
        entry: String = "100", stop: String? = "95", equity: Int = 100_000, buy: Bool = true, symbol: String = "AAPL"
    )
        -> SizingInput
    {
        SizingInput(
            symbol: Symbol(symbol)!, isBuy: buy, entry: Price(entry)!, stop: stop.flatMap(Price.init),
            equity: Money(equity))
    }

    @Test func fixedFractionalRisksTheBudgetBetweenEntryAndStop() throws {
        // 1% of 100 000 = 1 000 at risk; 5 a share → 200 shares.
        let result = try PositionSizing.size(input(), policy: fractional).get()
        #expect(result.qty == Quantity(200))
        #expect(result.riskMoney == Money(1_000))
        #expect(result.stopDistance == Price(5))
        #expect(result.method == "fixed_fractional")
    }

    @Test func roundsDownToWholeSharesAndLots() throws {
        let odd = try PositionSizing.size(input(stop: "97"), policy: fractional).get()
        #expect(odd.rawQty.description == "333.33333333")
        #expect(odd.qty == Quantity(333))
        #expect(odd.caps == ["whole shares"])
        var lots = fractional
        lots.lotSize = Quantity(100)
        #expect(try PositionSizing.size(input(stop: "97"), policy: lots).get().qty == Quantity(300))
    }

    @Test func aBoughtOptionRisksItsPremium() throws {
        let option = input(entry: "3.20", stop: nil, symbol: "AAPL  261218C00200000")
        // 1 000 ÷ (3.20 × 100) = 3.125 → 3 contracts.
        #expect(try PositionSizing.size(option, policy: fractional).get().qty == Quantity(3))
    }

    @Test func fixedQtyAndFixedNotional() throws {
        #expect(
            try PositionSizing.size(input(), policy: SizingPolicy(method: .fixedQty(Quantity(7)))).get().qty
                == Quantity(7))
        let notional = SizingPolicy(method: .fixedNotional(Money(10_050)))
        #expect(try PositionSizing.size(input(), policy: notional).get().qty == Quantity(100))
    }

    @Test func positionRoomCapsTheSize() throws {
        var capped = input()
        capped.positionRoom = Quantity(150)
        let result = try PositionSizing.size(capped, policy: fractional).get()
        #expect(result.qty == Quantity(150))
        #expect(result.caps == ["max_position: 150"])
    }

    @Test(arguments: [
        ("100", "105", true, "stop_price"), ("100", "95", false, "stop_price"), ("100", "100", true, "stop_price"),
        ("0", "95", true, "entry"),
    ])
    func degenerateInputNamesTheField(entry: String, stop: String, buy: Bool, field: String) {
        let result = PositionSizing.size(input(entry: entry, stop: stop, buy: buy), policy: fractional)
        guard case .failure(let problem) = result else {
            Issue.record("expected a problem, got \(result)")
            return
        }
        #expect(problem.code == "bad_request" && problem.field == field)
    }

    @Test func aTinyBudgetIsSizeZeroNotAnOrder() {
        let result = PositionSizing.size(input(stop: "50", equity: 1_000), policy: fractional)
        guard case .failure(let problem) = result else {
            Issue.record("expected size_zero")
            return
        }
        #expect(problem.code == "size_zero")
    }

    @Test func aDefinedRiskSpreadRisksItsMaximumLoss() throws {
        let long = Symbol("SPY   261218C00600000")!
        let short = Symbol("SPY   261218C00610000")!
        // A 10-wide call spread for a 3.50 debit loses at most 3.50 a share, 350 a spread.
        let debit = try PositionSizing.spreadMaxLoss(long: long, short: short, netPrice: Price("3.5")!).get()
        #expect(debit == Price("3.5")!)
        // Sold for a 2.00 credit it loses at most the width less the credit: 8.00.
        let credit = try PositionSizing.spreadMaxLoss(long: short, short: long, netPrice: Price(-2)).get()
        #expect(credit == Price(8))
        // 1% of 100 000 = 1 000 of risk → floor(1 000 ÷ 350) = 2 spreads.
        var spread = input(entry: "3.5", stop: nil, symbol: long.text)
        spread.spreadMaxLoss = debit
        #expect(try PositionSizing.size(spread, policy: fractional).get().qty == Quantity(2))
        let mismatched = PositionSizing.spreadMaxLoss(
            long: long, short: Symbol("SPY   261218P00610000")!, netPrice: Price(1))
        #expect(mismatched.failure?.field == "legs")
        #expect(PositionSizing.spreadMaxLoss(long: long, short: short, netPrice: Price(-10)).failure?.field == "legs")
        #expect(PositionSizing.spreadMaxLoss(long: aapl, short: short, netPrice: Price(1)).failure?.field == "legs")
    }

    /// Properties over random signals: the sized order never risks more than its budget, never exceeds
    /// the room left or breaks the lot size, and never shrinks when equity grows.
    @Test
    func sizedOrdersStayWithinBudgetAndCapsAndGrowWithEquity() async {
        await propertyCheck(
            count: 2_000, input: Gen.int(in: 101...10_000_000), Gen.int(in: 1...10_000_000), Gen.int(in: 1...1_000_000),
            Gen.int(in: 0...5_000)
        ) { entryCents, stopSeed, equity, roomUnits in
            let stopCents = stopSeed % (entryCents - 1) + 1
            let room = Quantity(roomUnits)
            let entry = Price(units: Int64(entryCents) * 1_000_000)
            let stop = Price(units: Int64(stopCents) * 1_000_000)
            let policy = SizingPolicy(
                method: .fixedFractional(riskFraction: Price("0.01")!), lotSize: Quantity(roomUnits % 3 == 0 ? 10 : 1))
            var signal = SizingInput(
                symbol: aapl, isBuy: true, entry: entry, stop: stop, equity: Money(equity), positionRoom: room)
            guard case .success(let sized) = PositionSizing.size(signal, policy: policy) else { return }
            let risked = (entry - stop).notional(sized.qty)!
            #expect(risked <= Money(units: Int64(equity) * 10_000))  // 1% of equity, exactly
            #expect(sized.qty <= room)
            #expect(sized.qty.units % policy.lotSize!.units == 0)
            signal.equity = Money(equity * 2)
            if case .success(let richer) = PositionSizing.size(signal, policy: policy) {
                #expect(richer.qty >= sized.qty)
            } else {
                Issue.record("more equity failed to size")
            }
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
