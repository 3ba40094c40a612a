import GatewayCore
import Testing

/// The whole transition table, written out independently of the implementation: for every status, the
/// result of every event in this order. A status name means `.moved(to:)`, `=` unchanged, `!` refused.
@Suite struct OrderStateMachineTests {
    static let events: [OrderEvent] = [
        .sent, .acknowledged, .filled(complete: false), .filled(complete: true), .cancelRequested, .canceled,
        .cancelRejected, .replaceRequested, .replaced, .replaceRejected, .expired, .rejected, .outcomeUnknown,
    ]

    static let table: [OrderStatus: [String]] = [
        //               sent          ack             fill partial       fill complete  cancel req        canceled    cancel rej      replace req        replaced    replace rej     expired    rejected    unknown
        .accepted: [
            "submitted", "acknowledged", "partially_filled", "filled", "pending_cancel", "canceled", "=", "!", "!", "=",
            "expired", "rejected", "unknown",
        ],
        .submitted: [
            "=", "acknowledged", "partially_filled", "filled", "pending_cancel", "canceled", "=", "!", "!", "=",
            "expired", "rejected", "unknown",
        ],
        .acknowledged: [
            "=", "=", "partially_filled", "filled", "pending_cancel", "canceled", "=", "pending_replace", "!", "=",
            "expired", "rejected", "!",
        ],
        .partiallyFilled: [
            "=", "=", "partially_filled", "filled", "pending_cancel", "canceled", "=", "pending_replace", "!", "=",
            "expired", "!", "!",
        ],
        .filled: ["=", "=", "!", "!", "!", "=", "=", "!", "=", "=", "=", "=", "="],
        .pendingCancel: [
            "=", "=", "=", "filled", "=", "canceled", "acknowledged", "!", "!", "=", "expired", "rejected", "!",
        ],
        .canceled: ["=", "=", "=", "filled", "!", "=", "=", "!", "=", "=", "=", "=", "="],
        .pendingReplace: [
            "=", "=", "=", "filled", "!", "canceled", "=", "!", "replaced", "acknowledged", "expired", "!", "!",
        ],
        .replaced: ["=", "=", "=", "=", "!", "=", "=", "!", "=", "=", "=", "=", "="],
        .expired: ["=", "=", "=", "filled", "!", "=", "=", "!", "=", "=", "=", "=", "="],
        .rejected: ["=", "=", "=", "filled", "!", "=", "=", "!", "=", "=", "=", "=", "="],
        .unknown: [
            "=", "acknowledged", "partially_filled", "filled", "pending_cancel", "canceled", "=", "!", "!", "=",
            "expired", "rejected", "=",
        ],
    ]

    static func code(_ transition: OrderTransition) -> String {
        switch transition {
        case .moved(let status): status.rawValue
        case .unchanged: "="
        case .refused: "!"
        }
    }

    @Test func tableCoversEveryStatus() {
        #expect(Set(Self.table.keys) == Set(OrderStatus.allCases))
        #expect(Self.table.values.allSatisfy { $0.count == Self.events.count })
    }

    @Test(arguments: OrderStatus.allCases)
    func everyEventInEveryStatusFollowsTheTable(status: OrderStatus) throws {
        let expected = try #require(Self.table[status])
        for (event, want) in zip(Self.events, expected) {
            let got = Self.code(OrderStateMachine.transition(from: status, on: event, hasFills: false))
            #expect(got == want, "\(status.rawValue) + \(event)")
        }
    }

    @Test func rejectedCancelOrReplaceReturnsToPartiallyFilledWhenSomethingFilled() {
        #expect(
            OrderStateMachine.transition(from: .pendingCancel, on: .cancelRejected, hasFills: true)
                == .moved(to: .partiallyFilled))
        #expect(
            OrderStateMachine.transition(from: .pendingReplace, on: .replaceRejected, hasFills: true)
                == .moved(to: .partiallyFilled))
    }

    @Test func terminalStatusesAreExactlyTheFiveOfTheDesign() {
        #expect(Set(OrderStatus.allCases.filter(\.isTerminal)) == [.filled, .canceled, .replaced, .expired, .rejected])
    }

    @Test func fillAfterCancelRequestStillCountsAndCompletesTheOrder() throws {
        var order = makeOrder(qty: 100)
        order.apply(.sent, at: ts(1))
        order.apply(.acknowledged, at: ts(2))
        order.apply(.cancelRequested, at: ts(3))
        #expect(order.status == .pendingCancel)
        order.record(makeFill(order, qty: 40, price: "10"))
        #expect(order.status == .pendingCancel)
        #expect(order.filledQty == Quantity(40))
        order.record(makeFill(order, qty: 60, price: "11", id: "f2"))
        #expect(order.status == .filled)
        #expect(order.avgFillPrice?.description == "10.6")
    }

    @Test func acknowledgementOvertakingTheSubmitReturnIsHarmless() {
        var order = makeOrder(qty: 1)
        #expect(order.apply(.acknowledged, at: ts(1)) == .moved(to: .acknowledged))
        #expect(order.apply(.sent, at: ts(2)) == .unchanged)
        #expect(order.status == .acknowledged)
    }

    /// A status hashes by its case (not its raw text): each case its own hash, so that a table keyed by
    /// status keeps them apart without comparing, and equal statuses hash alike.
    @Test func eachStatusHashesApart() {
        let all = OrderStatus.allCases
        #expect(Set(all.map(\.hashValue)).count == all.count)
        #expect(all.allSatisfy { $0.hashValue == OrderStatus(rawValue: $0.rawValue)!.hashValue })
        let table = Dictionary(uniqueKeysWithValues: all.map { ($0, $0.rawValue) })
        #expect(all.allSatisfy { table[$0] == $0.rawValue })
    }
}

func ts(_ seconds: Int64) -> Timestamp {
    Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000 + seconds * 1_000_000_000)
}

func makeOrder(symbol: String = "AAPL", side: OrderSide = .buy, qty: Int) -> Order {
    Order(
        orderID: OrderID("o-1")!, clientOrderID: ClientOrderID("c-1")!, account: AccountID("paper")!,
        symbol: Symbol(symbol)!, side: side, qty: Quantity(qty), type: .market, tif: .day, createdAt: ts(0))
}

func makeFill(_ order: Order, qty: Int, price: String, id: String = "f1", side: OrderSide? = nil) -> Fill {
    Fill(
        fillID: FillID(id)!, orderID: order.orderID, clientOrderID: order.clientOrderID, account: order.account,
        symbol: order.symbol, side: side ?? order.side, qty: Quantity(qty), price: Price(price)!, ts: ts(5))
}
