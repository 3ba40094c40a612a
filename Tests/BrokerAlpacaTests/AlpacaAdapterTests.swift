import BrokerAPI
import Foundation
import GatewayCore
import GatewayTesting
import Logging
import Testing

@testable import BrokerAlpaca

/// The adapter against both fakes: acknowledgements, fills counted once by cumulative quantity,
/// a fill during a stream outage recovered before the account is connected again, orders refused while
/// the stream is down, and an unknown outcome settled by client order id.
@Suite(.timeLimit(.minutes(1))) struct AlpacaAdapterTests {
    struct Rig {
        let rest: FakeAlpaca
        let stream: FakeAlpacaStream
        let adapter: AlpacaAdapter
        var events: AsyncStream<BrokerEvent>.Iterator

        init() async throws {
            rest = try await FakeAlpaca()
            stream = try await FakeAlpacaStream(keyID: rest.keyID, secret: rest.secret)
            adapter = AlpacaAdapter(
                settings: AlpacaSettings(
                    restURL: URL(string: rest.url)!, streamURL: stream.url, keyID: rest.keyID, secret: rest.secret),
                clock: ManualWallClock(), logger: Logger(label: "alpaca-test"), backoff: { _ in })
            events = adapter.events.makeAsyncIterator()
        }

        /// The next event that is not about the connection's progress.
        mutating func next() async -> BrokerEvent? { await events.next() }

        /// Pushes a trade update for the fake's order `id`.
        func push(_ event: String, _ id: String, execution: String? = nil) {
            let order = rest.json(ofOrder: id)!
            let execution = execution.map { #","execution_id":"\#($0)""# } ?? ""
            stream.push(
                update: #"{"event":"\#(event)"\#(execution),"timestamp":"2026-12-02T14:30:05Z","order":\#(order)}"#)
        }

        func shutdown() async {
            await adapter.disconnect()
            await rest.shutdown()
            await stream.shutdown()
        }
    }

    @Test func fillsAreReportedOnceAtTheirOwnPrices() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        try await rig.adapter.submit(order("f-1", qty: "3", tif: .day))
        guard case .acknowledged(let id, let alpacaID, _) = await rig.next() else {
            Issue.record("no acknowledgement")
            return
        }
        #expect(id == OrderID("f-1")!)
        #expect(alpacaID == rig.rest.orders.first?["id"] as? String)

        rig.rest.set(clientOrderID: "f-1", status: "partially_filled", filledQty: "1", avgPrice: "150")
        rig.push("partial_fill", "f-1", execution: "x-1")
        rig.push("partial_fill", "f-1", execution: "x-1")  // the same execution sent twice
        rig.rest.set(clientOrderID: "f-1", status: "filled", filledQty: "3", avgPrice: "150.5")
        rig.push("fill", "f-1", execution: "x-2")
        guard case .fill(let first) = await rig.next(), case .fill(let second) = await rig.next() else {
            Issue.record("fills missing")
            return
        }
        #expect(first.fillID == FillID("x-1")!)
        #expect(first.qty == Quantity("1")!)
        #expect(first.price == Price("150")!)
        #expect(second.fillID == FillID("x-2")!)
        #expect(second.qty == Quantity("2")!)
        #expect(second.price == Price("150.75")!)  // 3 @ 150.5 = 451.5; 451.5 − 150 = 301.5 for 2
        await rig.shutdown()
    }

    @Test func aFillDuringAnOutageIsRecoveredBeforeTheAccountIsConnectedAgain() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        try await rig.adapter.submit(order("o-1", qty: "2", tif: .day))
        _ = await rig.next()
        rig.stream.dropAll()
        guard case .connection(.disconnected, _) = await rig.next() else {
            Issue.record("the outage was not reported")
            return
        }
        do {
            try await rig.adapter.submit(order("o-2", tif: .day))
            Issue.record("an order was sent while the stream was down")
        } catch {
            #expect(error.code == "not_connected")
        }
        rig.rest.set(clientOrderID: "o-1", status: "filled", filledQty: "2", avgPrice: "151")
        await rig.stream.sessions(atLeast: 2)
        guard case .fill(let fill) = await rig.next() else {
            Issue.record("the fill missed during the outage was not recovered")
            return
        }
        #expect(fill.qty == Quantity("2")!)
        #expect(fill.price == Price("151")!)
        #expect(await rig.next() == .connection(.connected, detail: nil))
        // The stream now repeats the fill: it is not counted again.
        rig.push("fill", "o-1", execution: "late-1")
        try await rig.adapter.submit(order("o-3", tif: .day))
        guard case .acknowledged(let next, _, _) = await rig.next() else {
            Issue.record("expected the next order's acknowledgement, not a second fill")
            return
        }
        #expect(next == OrderID("o-3")!)
        #expect(rig.rest.orders.count == 2)
        await rig.shutdown()
    }

    @Test func cancelAndReplaceComeBackAsTheirEvents() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        let first = order("k-1", qty: "5", tif: .day)
        try await rig.adapter.submit(first)
        _ = await rig.next()
        try await rig.adapter.cancel(first)
        #expect(rig.rest.orders.first?["status"] as? String == "pending_cancel")
        rig.rest.set(clientOrderID: "k-1", status: "canceled")
        rig.push("canceled", "k-1")
        guard case .canceled(let canceled, _, _) = await rig.next() else {
            Issue.record("no cancel event")
            return
        }
        #expect(canceled == OrderID("k-1")!)

        let old = order("k-2", qty: "5", tif: .day)
        try await rig.adapter.submit(old)
        _ = await rig.next()
        let new = order("k-3", qty: "4", limit: "149", tif: .day)
        try await rig.adapter.replace(old, with: new)
        let patch = try #require(rig.rest.server.requests.last)
        #expect(patch.method == "PATCH")
        expectFields(try #require(patch.json), ["qty": "4", "limit_price": "149", "client_order_id": "k-3"])
        rig.push("replaced", "k-2")
        guard case .replaced(let from, let to, let alpacaID, _) = await rig.next() else {
            Issue.record("no replace event")
            return
        }
        #expect(from == OrderID("k-2")!)
        #expect(to == OrderID("k-3")!)
        #expect(alpacaID == rig.rest.orders.last?["id"] as? String)
        await rig.shutdown()
    }

    @Test func refusedCancelsAndReplacesComeBackAsRejections() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        let working = order("j-1", qty: "5", tif: .day)
        try await rig.adapter.submit(working)
        _ = await rig.next()
        rig.push("order_cancel_rejected", "j-1")
        guard case .cancelRejected(let refused, _, _) = await rig.next() else {
            Issue.record("no cancel rejection")
            return
        }
        #expect(refused == OrderID("j-1")!)
        try await rig.adapter.replace(working, with: order("j-2", qty: "4", tif: .day))
        rig.push("order_replace_rejected", "j-1")
        guard case .replaceRejected(let old, let new, _, _) = await rig.next() else {
            Issue.record("no replace rejection")
            return
        }
        #expect(old == OrderID("j-1")!)
        #expect(new == OrderID("j-2")!)
        await rig.shutdown()
    }

    /// A bracket goes as one Alpaca order; its legs, named by Alpaca, are matched to the gateway's stop
    /// and target, so a leg's fill is the gateway's stop's fill.
    @Test func aBracketsLegsAreTheGatewaysStopAndTarget() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        let entry = order("b-1", qty: "2", limit: "500", tif: .day)
        let stop = order("b-1-s", side: .sell, qty: "2", type: .stop, limit: nil, stop: "490")
        let target = order("b-1-t", side: .sell, qty: "2", limit: "520")
        try await rig.adapter.submitBracket(entry: entry, stop: stop, target: target)
        guard case .acknowledged(let acknowledged, _, _) = await rig.next() else {
            Issue.record("no acknowledgement")
            return
        }
        #expect(acknowledged == OrderID("b-1")!)
        let parent = try #require(rig.rest.orders.first { $0["client_order_id"] as? String == "b-1" })
        let legs = try #require(parent["legs"] as? [[String: any Sendable]])
        let stopLeg = try #require(legs.first { $0["type"] as? String == "stop" })
        let stopID = try #require(stopLeg["id"] as? String)
        rig.rest.set(alpacaID: stopID, status: "filled", filledQty: "2", avgPrice: "489.9")
        let json = try #require(rig.rest.json(ofAlpacaOrder: stopID))
        rig.stream.push(update: #"{"event":"fill","execution_id":"leg-1","order":\#(json)}"#)
        guard case .fill(let fill) = await rig.next() else {
            Issue.record("the stop leg's fill did not come back")
            return
        }
        #expect(fill.orderID == OrderID("b-1-s")!)
        #expect(fill.price == Price("489.9")!)
        await rig.shutdown()
    }

    @Test func anUnknownOutcomeIsSettledByClientOrderIDWithoutSendingAgain() async throws {
        let rig = try await Rig()
        try await rig.adapter.connect()
        rig.rest.acceptThenFailNextOrder()
        do {
            try await rig.adapter.submit(order("u-1", tif: .day))
            Issue.record("the 500 was not reported")
        } catch {
            #expect(error.kind == .unknownOutcome)
        }
        let report = try #require(try await rig.adapter.orderReport(for: OrderID("u-1")!))
        #expect(report.status == .acknowledged)
        #expect(try await rig.adapter.orderReport(for: OrderID("never")!) == nil)
        #expect(rig.rest.orders.count == 1)
        await rig.shutdown()
    }

    /// After a restart the adapter knows nothing; the engine tells it what the journal holds, and only
    /// the rest is reported.
    @Test func afterARestartOnlyFillsTheJournalLacksAreReported() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        try await rig.adapter.submit(order("r-1", qty: "3", tif: .day))
        _ = await rig.next()
        rig.rest.set(clientOrderID: "r-1", status: "filled", filledQty: "3", avgPrice: "150.5")
        let restarted = AlpacaAdapter(
            settings: AlpacaSettings(
                restURL: URL(string: rig.rest.url)!, streamURL: rig.stream.url, keyID: rig.rest.keyID,
                secret: rig.rest.secret),
            clock: ManualWallClock(), logger: Logger(label: "alpaca-test"), backoff: { _ in })
        var journaled = order("r-1", qty: "3", tif: .day)
        journaled.status = .partiallyFilled
        journaled.filledQty = Quantity("1")!
        journaled.avgFillPrice = Price("150")!
        await restarted.know(journaled)
        let report = try #require(try await restarted.orderReport(for: OrderID("r-1")!))
        #expect(report.status == .filled)
        #expect(report.fills.map(\.qty) == [Quantity("2")!])
        #expect(report.fills.map(\.price) == [Price("150.75")!])
        #expect(try await restarted.orderReport(for: OrderID("r-1")!)?.fills.isEmpty == true)
        await restarted.disconnect()
        await rig.shutdown()
    }

    @Test func refusedCredentialsFailTheConnectForGood() async throws {
        let rest = try await FakeAlpaca()
        let stream = try await FakeAlpacaStream(keyID: rest.keyID, secret: "another")
        let adapter = AlpacaAdapter(
            settings: AlpacaSettings(
                restURL: URL(string: rest.url)!, streamURL: stream.url, keyID: rest.keyID, secret: rest.secret),
            clock: ManualWallClock(), logger: Logger(label: "alpaca-test"), backoff: { _ in })
        do throws(BrokerError) {
            try await adapter.connect()
            Issue.record("refused credentials connected")
        } catch {
            #expect(error.kind == .fatal)
        }
        await adapter.disconnect()
        await rest.shutdown()
        await stream.shutdown()
    }
}

/// Multi-leg and OCO orders through the adapter, and fills recovered from the activities at their own
/// prices after an outage.
@Suite(.timeLimit(.minutes(1))) struct AlpacaLinkedOrderTests {
    typealias Rig = AlpacaAdapterTests.Rig

    static func spread(_ id: String) -> Order {
        var spread = order(id, symbol: "AAPL", side: .buy, qty: "2", limit: "1.20", tif: .day)
        spread.orderClass = .mleg
        spread.legs = [
            OrderLeg(symbol: Symbol("AAPL  261218C00200000")!, side: .buyToOpen, ratio: 1),
            OrderLeg(symbol: Symbol("AAPL  261218C00210000")!, side: .sellToOpen, ratio: 1),
        ]
        return spread
    }

    /// A call spread bought for a net debit, filled one spread at a time: each fill is in spreads at the
    /// net price with each leg's own price; the legs' own events are not taken for orders of their own.
    @Test func aMultiLegOrderFillsInSpreadsWithEachLegsPrice() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        try await rig.adapter.submit(Self.spread("m-1"))
        guard case .acknowledged(let id, _, _) = await rig.next() else {
            Issue.record("no acknowledgement")
            return
        }
        #expect(id == OrderID("m-1")!)
        let parent = try #require(rig.rest.orders.first { $0["client_order_id"] as? String == "m-1" })
        #expect(parent["order_class"] as? String == "mleg")
        #expect(parent["symbol"] as? String == "")
        let first = try #require(
            rig.rest.executeSpread(
                clientOrderID: "m-1", qty: "1",
                legPrices: ["AAPL261218C00200000": "5.10", "AAPL261218C00210000": "3.90"], executionID: "sx-1"))
        rig.stream.push(update: first)
        // A leg's own event, as Alpaca may also send: not an order of the gateway's.
        let legID = try #require((parent["legs"] as? [[String: any Sendable]])?.first?["id"] as? String)
        let leg = try #require(rig.rest.json(ofAlpacaOrder: legID))
        rig.stream.push(update: #"{"event":"partial_fill","execution_id":"leg-x","order":\#(leg)}"#)
        let second = try #require(
            rig.rest.executeSpread(
                clientOrderID: "m-1", qty: "1",
                legPrices: ["AAPL261218C00200000": "5.30", "AAPL261218C00210000": "4.00"], executionID: "sx-2"))
        rig.stream.push(update: second)
        guard case .fill(let one) = await rig.next(), case .fill(let two) = await rig.next() else {
            Issue.record("the spread's fills did not come back")
            return
        }
        #expect(one.fillID == FillID("sx-1")!)
        #expect(one.qty == Quantity("1")!)
        #expect(one.price == Price("1.2")!)
        #expect(
            one.legs == [
                BrokerLegFill(symbol: Symbol("AAPL  261218C00200000")!, price: Price("5.10")!),
                BrokerLegFill(symbol: Symbol("AAPL  261218C00210000")!, price: Price("3.90")!),
            ])
        #expect(two.qty == Quantity("1")!)
        #expect(two.price == Price("1.3")!)
        #expect(
            two.legs == [
                BrokerLegFill(symbol: Symbol("AAPL  261218C00200000")!, price: Price("5.30")!),
                BrokerLegFill(symbol: Symbol("AAPL  261218C00210000")!, price: Price("4.00")!),
            ])
        // Nothing else: the leg's own event made no report.
        try await rig.adapter.submit(order("after", tif: .day))
        guard case .acknowledged(let next, _, _) = await rig.next() else {
            Issue.record("expected the next acknowledgement, not a report about a leg")
            return
        }
        #expect(next == OrderID("after")!)
        await rig.shutdown()
    }

    /// An OCO goes as one Alpaca order: the limit is the gateway's order, the stop leg its stop; when the
    /// limit fills, the stop's cancel comes back for the gateway's stop.
    @Test func anOCOsStopLegIsTheGatewaysStop() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        var limit = order("x-1", side: .sell, qty: "5", limit: "520", tif: .gtc)
        limit.orderClass = .oco
        var stop = order("x-1-stop", side: .sell, qty: "5", type: .stop, limit: nil, stop: "480", tif: .gtc)
        stop.orderClass = .oco
        try await rig.adapter.submitBracket(entry: limit, stop: stop, target: nil)
        #expect(await rig.next().map(Self.orderID) == OrderID("x-1")!)
        let parent = try #require(rig.rest.orders.first { $0["client_order_id"] as? String == "x-1" })
        #expect(parent["order_class"] as? String == "oco")
        let legs = try #require(parent["legs"] as? [[String: any Sendable]])
        #expect(legs.count == 1)
        #expect(legs.first?["side"] as? String == "sell")
        let stopID = try #require(legs.first?["id"] as? String)
        let fill = try #require(rig.rest.execute(clientOrderID: "x-1", qty: "5", price: "520.5", executionID: "o-1"))
        rig.stream.push(update: fill)
        rig.rest.set(alpacaID: stopID, status: "canceled")
        let canceled = try #require(rig.rest.json(ofAlpacaOrder: stopID))
        rig.stream.push(update: #"{"event":"canceled","order":\#(canceled)}"#)
        guard case .fill(let filled) = await rig.next(), case .canceled(let other, _, _) = await rig.next() else {
            Issue.record("the limit's fill and the stop's cancel did not come back")
            return
        }
        #expect(filled.orderID == OrderID("x-1")!)
        #expect(filled.price == Price("520.5")!)
        #expect(other == OrderID("x-1-stop")!)
        await rig.shutdown()
    }

    /// Two executions at different prices while the stream was down come back as two fills at their own
    /// prices (from the fill activities), not one at the average; the order read after them adds nothing.
    @Test func fillsMissedDuringAnOutageComeBackAtTheirOwnPrices() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        try await rig.adapter.submit(order("a-1", qty: "3", tif: .day))
        _ = await rig.next()
        let streamed = try #require(rig.rest.execute(clientOrderID: "a-1", qty: "1", price: "150", executionID: "e-1"))
        rig.stream.push(update: streamed)
        var seen: [BrokerEvent] = []
        guard let first = await rig.next() else { return }
        seen.append(first)
        rig.stream.dropAll()
        while let event = await rig.next() {
            if case .connection(.disconnected, _) = event { break }
            seen.append(event)
        }
        rig.rest.execute(clientOrderID: "a-1", qty: "1", price: "151", executionID: "e-2")
        rig.rest.execute(clientOrderID: "a-1", qty: "1", price: "153", executionID: "e-3")
        await rig.stream.sessions(atLeast: 2)
        while let event = await rig.next() {
            if case .connection(.connected, _) = event { break }
            seen.append(event)
        }
        let fills = seen.compactMap { event -> BrokerFill? in
            if case .fill(let fill) = event { return fill }
            return nil
        }
        #expect(fills.map(\.qty) == [Quantity("1")!, Quantity("1")!, Quantity("1")!])
        #expect(fills.map(\.price) == [Price("150")!, Price("151")!, Price("153")!])
        await rig.shutdown()
    }

    /// A market order from POST to its fill, and a bracket from its entry's fill through its target's
    /// fill to its stop's cancel: every step reported once, for the gateway's own order.
    @Test func theLivesOfAMarketOrderAndABracket() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        try await rig.adapter.submit(order("mk-1", qty: "4", type: .market, limit: nil, tif: .day))
        #expect(await rig.next().map(Self.orderID) == OrderID("mk-1")!)
        let post = try #require(rig.rest.orders.first)
        #expect(post["type"] as? String == "market")
        #expect(post["limit_price"] == nil)
        rig.stream.push(
            update: try #require(rig.rest.execute(clientOrderID: "mk-1", qty: "4", price: "150.2", executionID: "m-1")))
        guard case .fill(let marketFill) = await rig.next() else {
            Issue.record("the market order's fill did not come back")
            return
        }
        #expect(marketFill.orderID == OrderID("mk-1")! && marketFill.qty == Quantity(4))

        let entry = order("bk-1", qty: "2", limit: "500", tif: .day)
        let stop = order("bk-1-stop", side: .sell, qty: "2", type: .stop, limit: nil, stop: "490", tif: .day)
        let target = order("bk-1-target", side: .sell, qty: "2", limit: "520", tif: .day)
        try await rig.adapter.submitBracket(entry: entry, stop: stop, target: target)
        #expect(await rig.next().map(Self.orderID) == OrderID("bk-1")!)
        let parent = try #require(rig.rest.orders.first { $0["client_order_id"] as? String == "bk-1" })
        let legs = try #require(parent["legs"] as? [[String: any Sendable]])
        let targetID = try #require(legs.first { $0["type"] as? String == "limit" }?["id"] as? String)
        let stopID = try #require(legs.first { $0["type"] as? String == "stop" }?["id"] as? String)
        rig.stream.push(
            update: try #require(rig.rest.execute(clientOrderID: "bk-1", qty: "2", price: "499.5", executionID: "b-1")))
        rig.rest.set(alpacaID: targetID, status: "filled", filledQty: "2", avgPrice: "520.1")
        rig.stream.push(
            update:
                #"{"event":"fill","execution_id":"b-2","order":\#(try #require(rig.rest.json(ofAlpacaOrder: targetID)))}"#
        )
        rig.rest.set(alpacaID: stopID, status: "canceled")
        rig.stream.push(update: #"{"event":"canceled","order":\#(try #require(rig.rest.json(ofAlpacaOrder: stopID)))}"#)
        guard case .fill(let entryFill) = await rig.next(), case .fill(let targetFill) = await rig.next(),
            case .canceled(let canceled, _, _) = await rig.next()
        else {
            Issue.record("the bracket's life did not come back in order")
            return
        }
        #expect(entryFill.orderID == OrderID("bk-1")! && entryFill.price == Price("499.5")!)
        #expect(targetFill.orderID == OrderID("bk-1-target")! && targetFill.price == Price("520.1")!)
        #expect(canceled == OrderID("bk-1-stop")!)
        await rig.shutdown()
    }

    /// A reconciliation's snapshot: the gateway's working order and one placed by hand (with its terms;
    /// a bracket's legs only under their entry), the positions as executions made them, and fills the
    /// stream never delivered reported first, once.
    @Test func aReconciliationSnapshotHoldsOpenOrdersWithTermsPositionsAndMissedFills() async throws {
        var rig = try await Rig()
        try await rig.adapter.connect()
        try await rig.adapter.submit(order("mine-1", qty: "3", tif: .day))
        _ = await rig.next()
        try await rig.adapter.submitBracket(
            entry: order("entry-1", qty: "1", tif: .day),
            stop: order("stop-1", side: .sell, qty: "1", type: .stop, limit: nil, stop: "140", tif: .day),
            target: order("target-1", side: .sell, qty: "1", limit: "160", tif: .day))
        _ = await rig.next()
        rig.rest.placeExternal(clientOrderID: "by-hand", symbol: "MSFT", side: "sell", qty: "4", limitPrice: "410.5")
        // A fill whose stream frame is lost.
        rig.rest.execute(clientOrderID: "mine-1", qty: "1", price: "149", executionID: "lost-1")

        try await rig.adapter.reconcile(tag: 7, since: nil)
        let (fills, snapshot) = await Self.untilSnapshot(&rig)
        let missed = try #require(fills.first)
        #expect(fills.count == 1)
        #expect(missed.orderID == OrderID("mine-1")! && missed.qty == Quantity("1")! && missed.price == Price("149")!)
        #expect(snapshot?.tag == 7 && snapshot?.missedFills == [missed])
        #expect(snapshot?.openOrders.map(\.orderID.rawValue) == ["mine-1", "entry-1", "by-hand"])
        let external = try #require(snapshot?.openOrders.last?.terms)
        #expect(external.clientOrderID == "by-hand" && external.symbol == Symbol("MSFT")! && external.side == .sell)
        #expect(external.qty == Quantity("4")! && external.type == .limit && external.limitPrice == Price("410.5")!)
        #expect(external.tif == .day)
        #expect(
            snapshot?.positions == [
                BrokerPositionReport(symbol: Symbol("AAPL")!, qty: Quantity("1")!, avgPrice: Price("149")!)
            ])
        #expect(snapshot?.consistent == true)

        // The lost frame arrives late after all: it adds nothing.
        rig.push("partial_fill", "mine-1", execution: "lost-1")
        try await rig.adapter.reconcile(tag: 8, since: nil)
        let (late, again) = await Self.untilSnapshot(&rig)
        #expect(late.isEmpty)
        #expect(again?.tag == 8 && again?.missedFills.isEmpty == true)
        await rig.shutdown()
    }

    /// The fills reported before the next snapshot, and the snapshot.
    static func untilSnapshot(_ rig: inout AlpacaAdapterTests.Rig) async -> ([BrokerFill], BrokerSnapshot?) {
        var fills: [BrokerFill] = []
        while let event = await rig.next() {
            switch event {
            case .fill(let fill): fills.append(fill)
            case .snapshot(let snapshot): return (fills, snapshot)
            default: continue
            }
        }
        return (fills, nil)
    }

    static func orderID(_ event: BrokerEvent) -> OrderID? {
        if case .acknowledged(let id, _, _) = event { return id }
        return nil
    }
}
