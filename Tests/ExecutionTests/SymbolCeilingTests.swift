import GatewayCore
import Testing

@testable import Execution

/// What an account may come to hold in one symbol, position and working orders on the order's side
/// together, stays under the gateway's ceiling; an order that reduces the position is always taken, even
/// where a broker reported a position past the ceiling.
@Suite struct SymbolCeilingTests {
    let symbol = Symbol("BIG")!

    func problem(_ side: OrderSide, _ qty: String, position: String = "0", buys: String = "0", sells: String = "0")
        -> EngineError?
    {
        let context = RiskContext(
            positionQty: Quantity(position)!, openBuyQty: Quantity(buys)!, openSellQty: Quantity(sells)!)
        return OrderValidation.ceilingProblem(side: side, qty: Quantity(qty)!, symbol: symbol, context: context)
    }

    @Test func ordersUpToTheCeilingAreTaken() {
        #expect(problem(.buy, "1000000000") == nil)
        #expect(problem(.buy, "1000000000", position: "9000000000") == nil)
        #expect(problem(.sell, "1000000000", position: "-8000000000", sells: "1000000000") == nil)
        #expect(problem(.buy, "1000000000", sells: "9500000000") == nil)
    }

    @Test func anOrderThatWouldGoPastItIsRefusedNamingTheFigure() throws {
        let refused = try #require(problem(.buy, "1000000000", position: "9500000000"))
        #expect(refused.code == .badRequest)
        #expect(
            refused.message
                == "BIG would come to 10500000000 in the account with its position and working orders, over the "
                + "gateway's ceiling of 10000000000 for one symbol")
        #expect(problem(.sell, "1000000000", sells: "9500000000") != nil)
        #expect(problem(.buy, "1", position: "5000000000", buys: "5000000000") != nil)
    }

    @Test func anOrderThatReducesIsTakenEvenPastTheCeiling() {
        #expect(problem(.sell, "1000000000", position: "9500000000") == nil)
        #expect(problem(.sell, "1000000000", position: "20000000000") == nil)
        #expect(problem(.buy, "1000000000", position: "-20000000000") == nil)
        #expect(problem(.buy, "1", position: "20000000000") != nil)
    }
}
