import ControlProtocol
import Foundation
import GatewayCore
import NIOCore
import Testing

@testable import ControlServer

/// `cancel_all`'s answer, written a slice of orders at a time (`AnswerList`): the same line as the
/// answer written whole.
@Suite struct AnswerListTests {
    static func order(_ index: Int, tags: [String]? = nil) -> Order {
        Order(
            orderID: OrderID("o-\(index)")!, clientOrderID: ClientOrderID("c-\(index)")!,
            account: AccountID("paper")!, symbol: Symbol("AAPL")!, side: index % 2 == 0 ? .buy : .sell,
            qty: Quantity(index), type: .limit, limitPrice: Price("190.5")!, tif: .gtc, strategy: "mean/rev",
            tags: tags, createdAt: Timestamp(nanosecondsSinceEpoch: Int64(index)))
    }

    @Test(
        arguments: [
            [], [[]], [[1]], [[1, 2, 3]], [[], [1, 2], [], [3]], [[1], [2], [3, 4]],
            // Slices longer than one piece (`AnswerList.pieceSize`).
            [Array(1...30), [31], Array(32...70)],
        ] as [[[Int]]])
    func slicesMakeTheSameLineAsTheWholeAnswer(slices: [[Int]]) {
        let writer = AnswerWriter()
        for id in [RequestID.number(7), .string("x/y"), .null] {
            let list = AnswerList(head: writer.successListHead(id: id, key: "orders"))
            for slice in slices { list.append(slice.map { Self.order($0, tags: ["a", "b\"c"]) }) }
            let all = slices.joined().map { Self.order($0, tags: ["a", "b\"c"]) }
            let pieces = list.finish()
            #expect(pieces.dropLast().allSatisfy { $0.readableBytes <= AnswerList.pieceSize })
            let line = pieces.map { String(buffer: $0) }.joined()
            #expect(line == writer.success(id: id, body: OrdersAnswer(orders: all)) + "\n")
        }
    }
}
