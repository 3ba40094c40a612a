import GatewayCore
import Testing

@Suite struct FixedTests {
    @Test(arguments: [
        ("190.25", "190.25"), ("100", "100"), ("100.000", "100"), ("-0.5", "-0.5"), ("+3", "3"),
        ("0.00000001", "0.00000001"),
        (".5", "0.5"), ("5.", "5"),
    ])
    func parsesAndPrintsExactDecimals(input: String, printed: String) throws {
        let price = try #require(Price(input))
        #expect(price.description == printed)
    }

    /// The text form as it was made before it was written digit by digit: the reference the written form
    /// is checked against.
    static func referenceText<Kind>(_ value: Fixed<Kind>) -> String {
        let magnitude = value.units.magnitude
        let one = UInt64(Fixed<Kind>.unitsPerOne)
        var fraction = magnitude % one
        var text = (value.units < 0 ? "-" : "") + String(magnitude / one)
        if fraction != 0 {
            var digits = Kind.scale
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            let raw = String(fraction)
            text += "." + String(repeating: "0", count: digits - raw.count) + raw
        }
        return text
    }

    @Test func theTextIsTheReferencesAcrossTheRangeAndReadsBack() {
        var generator = SystemRandomNumberGenerator()
        var units: [Int64] = [
            0, 1, -1, 9, 10, 99_999_999, 100_000_000, 100_000_001, -100_000_000, 123_456_789_012,
            Int64.max, Int64.min, Int64.min + 1, Int64.max - 1,
        ]
        for _ in 0..<5_000 {
            let width = Int.random(in: 0...63, using: &generator)
            let magnitude = Int64.random(in: 0...Int64.max, using: &generator) >> width
            units.append(Bool.random(using: &generator) ? magnitude : -magnitude)
        }
        for value in units {
            let price = Price(units: value)
            let money = Money(units: value)
            #expect(price.description == Self.referenceText(price), "\(value)")
            #expect(money.description == Self.referenceText(money), "\(value)")
            #expect(Price(price.description) == price, "\(value)")
            #expect(Money(money.description) == money, "\(value)")
        }
    }

    @Test(arguments: ["", "-", ".", "1e5", "NaN", "inf", "1.2.3", "0.000000001", "12a", " 1", "99999999999999999999"])
    func refusesWhatItCannotRepresent(input: String) {
        #expect(Price(input) == nil)
    }

    @Test func moneyHasSixPlaces() {
        #expect(Money("0.000001") != nil)
        #expect(Money("0.0000001") == nil)
    }

    @Test func notionalMultipliesExactlyAndRoundsHalfEvenToMoneyScale() throws {
        let price = try #require(Price("190.05"))
        #expect(price.notional(Quantity(100))?.description == "19005")
        #expect(price.notional(Quantity(3), multiplier: 100)?.description == "57015")
        // 0.00000005 × 0.5 = 0.000000025 → rounds to 0 at six places; 0.0000015 × 1 stays.
        #expect(Price("0.0000025")!.notional(Quantity(1))?.description == "0.000002")
        #expect(Price("0.0000035")!.notional(Quantity(1))?.description == "0.000004")
    }

    @Test func weightedAverageRoundsHalfEven() throws {
        let average = Price.weightedAverage(Price(10), Quantity(1), Price(11), Quantity(2))
        #expect(average.description == "10.66666667")
    }

    @Test func convertsBetweenScalesOnlyWhenExact() throws {
        let price = try #require(Price("1.25"))
        #expect(price.converted(to: MoneyKind.self)?.description == "1.25")
        #expect(Price("1.12345678")!.converted(to: MoneyKind.self) == nil)
    }

    @Test func checkedAdditionReportsOverflow() {
        #expect(Money(units: .max).checkedAdding(Money(units: 1)) == nil)
        #expect(Money(1).checkedAdding(Money(2)) == Money(3))
    }

    /// Past the 64-bit range a sum, a difference, a negation or a multiple is clamped to the end it went
    /// past instead of trapping (a trap stopped the daemon, and again at every start); inside it nothing
    /// changes.
    @Test func arithmeticSaturatesAtTheEndsOfTheRange() {
        let (top, bottom) = (Money(units: .max), Money(units: .min))
        #expect(top + Money(units: 1) == top)
        #expect(bottom + Money(units: -1) == bottom)
        #expect(bottom - Money(units: 1) == bottom)
        #expect(top - Money(units: -1) == top)
        #expect(-bottom == top)
        #expect(bottom.magnitude == top)
        #expect(Quantity(units: .max / 2 + 1).times(2) == Quantity(units: .max))
        #expect(Quantity(units: .max / 2 + 1).times(-2) == Quantity(units: .min))
        #expect(Quantity(units: -(.max / 2) - 2).times(2) == Quantity(units: .min))
        #expect(Quantity(units: -(.max / 2) - 2).times(-2) == Quantity(units: .max))
        #expect(Money("1.5")! + Money("2.25")! == Money("3.75")!)
        #expect(Money("1.5")! - Money("2.25")! == Money("-0.75")!)
        #expect(Quantity("2.5")!.times(-3) == Quantity("-7.5")!)
        #expect(top - top == .zero && bottom - bottom == .zero)
    }

    /// A rate times an amount of money, multiplied in 128 bits: the same as the rate's notional of the
    /// amount read as a quantity where that fits, and still exact past 92 billion where it does not.
    @Test func aRateOfMoneyIsExactWhereTheQuantityReadingOverflowed() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for _ in 0..<2_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let money = Money(units: Int64(bitPattern: state >> 8) % 90_000_000_000_000_000)
            let rate = Price(units: Int64(bitPattern: state) % 10_000_000_000)
            #expect(rate.of(money) == rate.notional(Quantity(units: money.units * 100)))
        }
        #expect(Price("0.0000278")!.of(Money(1_000_000_000_000)) == Money("27800000")!)
        #expect(Price("2")!.of(Money(units: .max)) == nil)
    }
}
