import ArgumentParser
import ControlProtocol
import Foundation
import GatewayCore

/// What the order path's text costs, a piece at a time: the JSON of an order (written three times an
/// order for the journal, once for the paper ledger and once for the answer), of a fill (for the journal
/// and the ledger), the reading of a plain submit line and the writing of its answer. In-process and single-threaded, so that a
/// change of a few hundred nanoseconds shows, where `gateway-bench` on this machine moves by more than
/// that between runs. Compare two builds by running each.
@main
struct TextBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text-bench",
        abstract: "Time the order path's JSON writing and the reading of a submit line, per call.")

    @Option(help: "Calls timed per run.") var calls = 200_000
    @Option(help: "Runs; medians are printed.") var runs = 7

    func run() {
        var order = Order(
            orderID: OrderID("15451873-1003")!, clientOrderID: ClientOrderID("run-0-1003")!,
            account: AccountID("paper")!, symbol: Symbol("BENCH")!, side: .buy, qty: Quantity("1")!, type: .market,
            tif: .day, createdAt: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_123_456_789))
        order.filledQty = Quantity("1")!
        order.avgFillPrice = Price("100.01")!
        order.brokerOrderID = "paper-15451873-1003"
        order.status = .filled
        order.updatedAt = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_523_456_789)
        let fill = Fill(
            fillID: FillID("15451873-1003-f1")!, orderID: order.orderID, clientOrderID: order.clientOrderID,
            account: order.account, symbol: order.symbol, side: .buy, qty: Quantity("1")!, price: Price("100.01")!,
            commission: Money("0")!, ts: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_523_456_789))
        // The line gateway-bench sends.
        let line = Data(
            #"{"id":1003,"op":"submit","account":"paper","symbol":"BENCH","side":"buy","qty":"1","type":"market","client_order_id":"run-0-1003"}"#
                .utf8)
        print("per call, median of \(runs) runs of \(calls) calls:")
        report("order as JSON", median { sink in sink &+= order.jsonString.utf8.count })
        report("fill as JSON", median { sink in sink &+= fill.jsonString.utf8.count })
        report("plain submit read", median { sink in sink &+= PlainSubmit(line) == nil ? 0 : 1 })
        let writer = AnswerWriter()
        let answer = SubmitAnswer(order: order, duplicate: false)
        report("submit answer", median { sink in sink &+= writer.success(id: .number(1003), body: answer).utf8.count })
    }

    /// The median over `runs` of the time per call of `body`, in nanoseconds.
    func median(_ body: (inout Int) -> Void) -> Double {
        var sink = 0
        var times: [Double] = []
        for _ in 0..<runs {
            let elapsed = ContinuousClock().measure {
                for _ in 0..<calls { body(&sink) }
            }
            let (seconds, attoseconds) = elapsed.components
            times.append((Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(calls))
        }
        precondition(sink != 0)
        return times.sorted()[times.count / 2]
    }

    func report(_ name: String, _ nanoseconds: Double) {
        print("  \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(String(format: "%7.0f", nanoseconds)) ns")
    }
}
