import GatewayCore
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

    /// Properties over many seeded random signals: the sized order never risks more than its budget,
    /// never exceeds the room left, and never shrinks when equity grows.
    @Test func sizedOrdersStayWithinBudgetAndGrowWithEquity() throws {
        var generator = SplitMix64(seed: 2026_11_25)
        for _ in 0..<2_000 {
            let entryCents = Int64(generator.next() % 100_000) + 100
            let stopCents = Int64(generator.next() % UInt64(entryCents - 1)) + 1
            let equity = Int(generator.next() % 1_000_000) + 1
            let room = Quantity(Int(generator.next() % 5_000))
            let entry = Price(units: entryCents * 1_000_000)
            let stop = Price(units: stopCents * 1_000_000)
            var signal = SizingInput(
                symbol: aapl, isBuy: true, entry: entry, stop: stop, equity: Money(equity), positionRoom: room)
            guard case .success(let sized) = PositionSizing.size(signal, policy: fractional) else { continue }
            let risked = try #require((entry - stop).notional(sized.qty))
            #expect(risked <= Money(units: Int64(equity) * 10_000))  // 1% of equity, exactly
            #expect(sized.qty <= room)
            signal.equity = Money(equity * 2)
            if case .success(let richer) = PositionSizing.size(signal, policy: fractional) {
                #expect(richer.qty >= sized.qty)
            } else {
                Issue.record("more equity failed to size")
            }
        }
    }
}

/// A small deterministic generator for property tests.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
