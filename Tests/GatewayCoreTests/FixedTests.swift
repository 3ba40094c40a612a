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
}
