import GatewayCore
import Testing

@Suite struct PositionTests {
    let account = AccountID("paper")!

    func fill(_ side: OrderSide, _ qty: String, _ price: String, symbol: String = "AAPL", commission: String = "0")
        -> Fill
    {
        Fill(
            fillID: FillID("f")!, orderID: OrderID("o")!, clientOrderID: ClientOrderID("c")!, account: account,
            symbol: Symbol(symbol)!, side: side, qty: Quantity(qty)!, price: Price(price)!,
            commission: Money(commission)!,
            ts: ts(1))
    }

    @Test func longAveragesInAndRealizesOnPartialClose() {
        var position = Position(account: account, symbol: Symbol("AAPL")!)
        position.apply(fill(.buy, "100", "190.00"))
        position.apply(fill(.buy, "50", "193.00"))
        #expect(position.qty.description == "150")
        #expect(position.avgPrice?.description == "191")
        let realized = position.apply(fill(.sell, "60", "195.50"))
        #expect(realized.description == "270")
        #expect(position.qty.description == "90")
        #expect(position.avgPrice?.description == "191")
        #expect(position.unrealizedPnL(at: Price("190.25")!).description == "-67.5")
    }

    @Test func shortGainsWhenPriceFalls() {
        var position = Position(account: account, symbol: Symbol("TSLA")!)
        position.apply(fill(.sellShort, "10", "250.10"))
        #expect(position.qty.description == "-10")
        #expect(position.unrealizedPnL(at: Price("240")!).description == "101")
        #expect(position.marketValue(at: Price("240")!).description == "-2400")
        let realized = position.apply(fill(.buyToCover, "4", "245.05"))
        #expect(realized.description == "20.2")
        #expect(position.qty.description == "-6")
        #expect(position.avgPrice?.description == "250.1")
    }

    @Test func flipThroughZeroClosesTheOldSideAndOpensTheRestAtTheFillPrice() {
        var position = Position(account: account, symbol: Symbol("AAPL")!)
        position.apply(fill(.buy, "100", "10"))
        let realized = position.apply(fill(.sell, "150", "12"))
        #expect(realized.description == "200")
        #expect(position.qty.description == "-50")
        #expect(position.avgPrice?.description == "12")
        #expect(position.realizedPnL.description == "200")
        let back = position.apply(fill(.buy, "80", "11.5"))
        #expect(back.description == "25")
        #expect(position.qty.description == "30")
        #expect(position.avgPrice?.description == "11.5")
        #expect(position.realizedPnL.description == "225")
    }

    @Test func closingFlatForgetsTheAverage() {
        var position = Position(account: account, symbol: Symbol("AAPL")!)
        position.apply(fill(.buy, "3", "100.333"))
        #expect(position.apply(fill(.sell, "3", "100")).description == "-0.999")
        #expect(position.isFlat)
        #expect(position.avgPrice == nil)
        #expect(position.unrealizedPnL(at: Price("1")!) == .zero)
    }

    @Test func optionsCountTheContractMultiplier() {
        var position = Position(account: account, symbol: Symbol("AAPL  261218C00200000")!)
        position.apply(fill(.buyToOpen, "2", "3.45", symbol: "AAPL  261218C00200000"))
        #expect(position.marketValue(at: Price("3.50")!).description == "700")
        #expect(position.apply(fill(.sellToClose, "2", "4.10", symbol: "AAPL  261218C00200000")).description == "130")
    }

    @Test func fractionalSharesStayExact() {
        var position = Position(account: account, symbol: Symbol("AAPL")!)
        position.apply(fill(.buy, "0.1", "0.1"))
        position.apply(fill(.buy, "0.2", "0.2"))
        #expect(position.qty.description == "0.3")
        #expect(position.avgPrice?.description == "0.16666667")
    }

    @Test func accountBookMovesCashByNotionalAndCommission() {
        var book = AccountBook(account: account, openingCash: Money(100_000))
        book.apply(fill(.buy, "100", "190.05", commission: "1.00"))
        #expect(book.cash.description == "80994")
        book.apply(fill(.sell, "100", "191.05", commission: "1.00"))
        #expect(book.cash.description == "100098")
        #expect(book.realizedPnL.description == "100")
        #expect(book.commissions.description == "2")
        let snapshot = book.snapshot(marks: [:], tradingState: "active", broker: "paper", today: ts(1).date)
        #expect(snapshot.equity.description == "100098")
        #expect(snapshot.dayPnL.description == "98")
    }
}
