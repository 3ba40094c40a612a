import Foundation
import GatewayCore
import PropertyBased
import Testing

@Suite struct RiskBookTests {
    let account = AccountID("acct")!
    let symbols = ["AAPL", "MSFT", "SPY", "QQQ", "AAPL  261218C00200000"].map { Symbol($0)! }
    let start = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)

    /// Any sequence of orders, fills, quotes and cancels leaves the running figures exactly where a walk
    /// over every position and working order puts them, and the equity peak at the highest equity seen.
    @Test
    func runningFiguresEqualAFullRecount() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...1_000_000).array(of: 1...120)) { steps in
            var book = AccountBook(account: account, openingCash: Money(100_000))
            var risk = RiskBook(openingCash: Money(100_000))
            var orders: [Order] = []
            var marks: [Symbol: Price] = [:]
            var peak = Money(100_000)
            for (i, step) in steps.enumerated() {
                let symbol = symbols[(step / 4) % symbols.count]
                let now = Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + Int64(i))
                switch step % 4 {
                case 0:
                    var order = Order(
                        orderID: OrderID("o\(i)")!, clientOrderID: ClientOrderID("c\(i)")!, account: account,
                        symbol: symbol, side: step % 8 < 4 ? .buy : .sellShort, qty: Quantity(step % 50 + 1),
                        type: .limit, limitPrice: Price(step % 90 + 10), tif: .day, createdAt: now)
                    if step % 32 == 0 {
                        // A spread: its legs count on their own symbols, the second leg twice over.
                        order.orderClass = .mleg
                        order.legs = [
                            OrderLeg(symbol: symbols[4], side: .buyToOpen, ratio: 1),
                            OrderLeg(symbol: symbols[(step / 32) % 4], side: .sellToOpen, ratio: 2),
                        ]
                    }
                    order.status = .acknowledged
                    orders.append(order)
                    risk.track(order, previous: nil)
                case 1:
                    guard
                        let index = orders.indices.first(where: {
                            orders[(step + $0) % orders.count].leavesQty.isPositive
                        })
                    else { continue }
                    let at = (step + index) % orders.count
                    let previous = orders[at]
                    var order = previous
                    let qty = min(order.leavesQty, Quantity(step % 7 + 1))
                    let fill = Fill(
                        fillID: FillID("f\(i)")!, orderID: order.orderID, clientOrderID: order.clientOrderID,
                        account: account, symbol: order.symbol, side: order.side, qty: qty,
                        price: Price(step % 80 + 20), commission: Money("0.35")!, ts: now)
                    book.apply(fill)
                    _ = order.record(fill)
                    orders[at] = order
                    risk.update(from: book, symbol: order.symbol)
                    risk.track(order, previous: previous)
                case 2:
                    let price = Price(step % 100 + 5)
                    marks[symbol] = price
                    risk.mark(symbol, at: price)
                default:
                    guard let at = orders.indices.last(where: { orders[$0].status.isOpen }) else { continue }
                    let previous = orders[at]
                    orders[at].status = .canceled
                    risk.track(orders[at], previous: previous)
                }
                peak = max(peak, recount(book, marks).equity)
            }
            let expected = recount(book, marks)
            #expect(risk.grossExposure == expected.gross)
            #expect(risk.netExposure == expected.net)
            #expect(risk.unrealizedPnL == expected.unrealized)
            #expect(risk.equity == expected.equity)
            #expect(risk.equityPeak == peak)
            #expect(risk.openOrders == orders.filter { $0.status.isOpen && $0.leavesQty.isPositive }.count)
            var openBuy: [Symbol: Quantity] = [:]
            var openSell: [Symbol: Quantity] = [:]
            for order in orders where order.status.isOpen {
                let parts =
                    order.legs?.map { ($0.symbol, $0.side.isBuy, Int64($0.ratio)) } ?? [
                        (order.symbol, order.side.isBuy, Int64(1))
                    ]
                for (symbol, isBuy, ratio) in parts {
                    let leaves = Quantity(units: order.leavesQty.units * ratio)
                    if isBuy {
                        openBuy[symbol, default: .zero] += leaves
                    } else {
                        openSell[symbol, default: .zero] += leaves
                    }
                }
            }
            for symbol in symbols {
                let seen = risk.context(for: symbol, now: start, today: start.date)
                #expect(seen.openBuyQty == openBuy[symbol] ?? .zero)
                #expect(seen.openSellQty == openSell[symbol] ?? .zero)
                #expect(seen.positionQty == (book.positions[symbol]?.qty ?? .zero))
                #expect(seen.referencePrice == marks[symbol])
            }
        }
    }

    func recount(_ book: AccountBook, _ marks: [Symbol: Price]) -> (
        gross: Money, net: Money, unrealized: Money, equity: Money
    ) {
        var gross = Money.zero
        var net = Money.zero
        var unrealized = Money.zero
        for position in book.positions.values where !position.isFlat {
            let value = position.marketValue(at: marks[position.symbol])
            gross += value.magnitude
            net += value
            unrealized += position.unrealizedPnL(at: marks[position.symbol])
        }
        return (gross, net, unrealized, book.cash + net)
    }

    @Test func theRateWindowCountsTheLastSecondAndTheDayCountResetsAtTheSessionStart() {
        var risk = RiskBook(openingCash: Money(1_000), rateWindow: 3)
        #expect(risk.context(for: symbols[0], now: start, today: start.date).ordersLastSecond == 0)
        let day = start.date
        for offset in [0, 100, 200, 900] {
            risk.recordAccepted(
                at: Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + Int64(offset) * 1_000_000),
                sessionDate: day)
        }
        // Four accepted; the window remembers the last three (enough for a limit of 3).
        let at950 = Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + 950_000_000)
        #expect(risk.context(for: symbols[0], now: at950, today: day).ordersLastSecond == 3)
        let at1150 = Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + 1_150_000_000)
        #expect(risk.context(for: symbols[0], now: at1150, today: day).ordersLastSecond == 2)
        #expect(risk.context(for: symbols[0], now: at1150, today: day).ordersToday == 4)
        let tomorrow = CalendarDate(daysSinceEpoch: day.daysSinceEpoch + 1)
        #expect(risk.context(for: symbols[0], now: at1150, today: tomorrow).ordersToday == 0)
    }
}

@Suite struct StrategyLimitTests {
    @Test func perOrderLimitsAreOverriddenAndAccountWideOnesOnlyTightened() {
        let account = RiskLimits(
            maxOrderQty: Quantity(100), maxGrossExposure: Money(50_000), maxOrdersPerSecond: 10,
            restrictedSymbols: [Symbol("GME")!], allowedSymbols: [Symbol("AAPL")!, Symbol("MSFT")!], allowShort: true)
        let strategy = RiskLimits(
            maxOrderQty: Quantity(1_000), maxGrossExposure: Money(90_000), maxOrdersPerSecond: 2,
            restrictedSymbols: [Symbol("AMC")!], allowedSymbols: [Symbol("MSFT")!, Symbol("TSLA")!], allowShort: false)
        let merged = account.overridden(by: strategy)
        #expect(merged.maxOrderQty == Quantity(1_000))
        #expect(merged.maxGrossExposure == Money(50_000))
        #expect(merged.maxOrdersPerSecond == 2)
        #expect(merged.restrictedSymbols == [Symbol("GME")!, Symbol("AMC")!])
        #expect(merged.allowedSymbols == [Symbol("MSFT")!])
        #expect(!merged.allowShort)
        // Absent keys leave the account's limits in force.
        #expect(account.overridden(by: RiskLimits()) == account)
    }
}

/// The book keeps no entry per working order: a checkpoint carries the count, and one written before
/// (with each working order listed under "working") is read as that list's count.
@Suite struct RiskBookCheckpointTests {
    @Test func aCheckpointCarriesTheOpenOrdersCountAndAnOlderOneIsReadAsItsList() throws {
        var risk = RiskBook(openingCash: Money(100_000))
        let created = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)
        for n in 0..<5 {
            var order = Order(
                orderID: OrderID("o-\(n)")!, clientOrderID: ClientOrderID("c-\(n)")!, account: AccountID("acct")!,
                symbol: Symbol(n == 4 ? "AAPL" : "MSFT")!, side: n % 2 == 0 ? .buy : .sell,
                qty: Quantity("\(n + 1).5")!, type: .limit, limitPrice: Price("10")!, tif: .day, createdAt: created)
            if n == 4 {
                order.orderClass = .mleg
                order.legs = [
                    OrderLeg(symbol: Symbol("AAPL  261218C00200000")!, side: .buyToOpen, ratio: 1),
                    OrderLeg(symbol: Symbol("AAPL  261218C00210000")!, side: .sellToOpen, ratio: 2),
                ]
            }
            risk.track(order, previous: nil)
        }
        #expect(risk.openOrders == 5)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(risk), as: UTF8.self)
        #expect(text.contains(#""open_orders":5"#))
        #expect(!text.contains("working"))
        let read = try JSONDecoder().decode(RiskBook.self, from: Data(text.utf8))
        #expect(String(decoding: try encoder.encode(read), as: UTF8.self) == text)
        let spread = Symbol("AAPL  261218C00210000")!
        #expect(read.context(for: spread, now: created, today: created.date).openSellQty == Quantity("11")!)

        // As a checkpoint written before 2026-12-04 holds it.
        let older = text.replacingOccurrences(
            of: #""open_orders":5"#,
            with: #""working":[{"orderID":"o-0","working":{"isBuy":true,"leaves":"1.5","symbol":"MSFT"}},"#
                + #"{"orderID":"o-1","working":{"isBuy":false,"leaves":"2.5","symbol":"MSFT"}}]"#)
        #expect(older != text)
        #expect(try JSONDecoder().decode(RiskBook.self, from: Data(older.utf8)).openOrders == 2)
        let neither = text.replacingOccurrences(of: #""open_orders":5,"#, with: "")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RiskBook.self, from: Data(neither.utf8)) }
    }

    /// The engine changes an account's books in place through `modifyValue`: only a key that is there,
    /// and never adding one.
    @Test func aBookIsChangedInPlaceOnlyWhereItIs() {
        let (account, other) = (AccountID("acct")!, AccountID("other")!)
        let start = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)
        var books = [account: RiskBook(openingCash: Money(100))]
        let day = CalendarDate(year: 2026, month: 12, day: 7)!
        #expect(books.modifyValue(forKey: account) { $0.recordAccepted(at: start, sessionDate: day) })
        #expect(books[account]?.ordersAccepted(on: day) == 1)
        #expect(!books.modifyValue(forKey: other) { $0.recordAccepted(at: start, sessionDate: day) })
        #expect(books[other] == nil && books.count == 1)
    }
}
