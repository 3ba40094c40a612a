import BrokerAPI
import Foundation
import GRDB
import GatewayCore
import GatewayTesting
import Journal
import Logging
import Testing

@testable import Execution

@Suite(.timeLimit(.minutes(1)))
struct CheckpointTests {
    let folder = EngineHarness.temporaryFolder()
    var journalPath: String { folder + "/journal.sqlite" }

    func account(_ broker: FakeBroker) -> EngineAccount {
        var account = EngineAccount(
            id: paper, adapter: broker, openingCash: Money(100_000),
            limits: RiskLimits(
                maxOrderQty: Quantity(1_000), maxOrdersPerSecond: 100, maxOrdersPerDay: 1_000,
                maxDrawdown: Money(50_000)))
        account.session = .utcMidnight
        return account
    }

    /// A session with a bit of everything: quotes, fills (one partial), a cancel, a replace, a halt.
    func trade(_ harness: EngineHarness, _ broker: FakeBroker, tag: String) async throws {
        let engine = harness.engine
        let clock = harness.clock
        var waiter = EventWaiter(engine.subscribe(afterSeq: 0, kinds: ["order"]))
        for (n, price) in ["100", "101", "99.5"].enumerated() {
            _ = try await engine.quote(Quote(symbol: aapl, bid: Price(price), ask: Price(price), ts: clock.now())).get()
            let order = try await engine.submit(buy(10, limit: price, id: "\(tag)-\(n)")).get().order
            _ = await waiter.order(order.orderID.rawValue, status: "acknowledged")
            await broker.emit(
                .fill(
                    BrokerFill(
                        orderID: order.orderID, fillID: FillID("\(tag)-f\(n)")!, qty: Quantity(n == 2 ? 4 : 10),
                        price: Price(price)!, ts: clock.now())))
            _ = await waiter.order(order.orderID.rawValue, status: n == 2 ? "partially_filled" : "filled")
        }
        let resting = try await engine.submit(buy(5, limit: "90", id: "\(tag)-rest")).get().order
        _ = await waiter.order(resting.orderID.rawValue, status: "acknowledged")
        let replaced = try await engine.replace(
            ReplaceOrder(account: paper, reference: .orderID(resting.orderID), limitPrice: Price(91))
        ).get()
        await broker.emit(
            .replaced(old: resting.orderID, new: replaced.orderID, brokerOrderID: "b-\(tag)", ts: clock.now()))
        _ = await waiter.order(replaced.orderID.rawValue, status: "acknowledged")
        _ = try await engine.cancel(account: paper, .orderID(replaced.orderID)).get()
        await broker.emit(.canceled(replaced.orderID, reason: nil, ts: clock.now()))
        _ = await waiter.order(replaced.orderID.rawValue, status: "canceled")
        // Refused by pre-trade risk: journaled as rejected, its client_order_id taken for good.
        #expect(await engine.submit(buy(5_000, limit: "100", id: "\(tag)-big")).failure?.code == .riskRejected)
        _ = try await engine.halt(account: paper, reason: "test", cancelOpen: false).get()
        _ = try await engine.resume(account: paper, state: .active, reason: nil).get()
    }

    /// `running`: the journal of an engine still running (one journal writes the file at a time).
    func encodedFullReplay(upTo last: Int64? = nil, accounts: [EngineAccount], running: EventJournal? = nil) throws
        -> Data
    {
        let journal = try running ?? EventJournal(path: journalPath)
        defer { if running == nil { try? journal.close() } }
        var replay = Replay(
            decoder: JSONDecoder(), accounts: Dictionary(uniqueKeysWithValues: accounts.map { ($0.id, $0) }))
        try journal.forEachRecord { record in
            if record.seq <= last ?? .max { try replay.apply(record) }
        }
        return try Checkpoint(replay).encoded()
    }

    /// A start reads the long lists by hand (`CheckpointLists`): the checkpoint must be the one
    /// `JSONDecoder` reads, and text the hand reader does not take (an escaped string) is read whole.
    @Test func theListsReadByHandAreWhatJSONDecoderReads() async throws {
        let broker = FakeBroker()
        let harness = try await EngineHarness(journalPath: journalPath, accounts: [account(broker)])
        try await trade(harness, broker, tag: "a")
        let encoded = try encodedFullReplay(accounts: [account(broker)], running: harness.journal)
        try await harness.stop()
        let split = try #require(CheckpointLists.split(encoded))
        #expect(!split.clientIndex.isEmpty && !split.seenFills.isEmpty)
        let whole = try JSONDecoder().decode(Checkpoint.self, from: encoded)
        #expect(try Checkpoint.decode(encoded, decoder: JSONDecoder()).encoded() == whole.encoded())
        let lists = try Checkpoint.Lists.decode(encoded, decoder: JSONDecoder())
        #expect(lists.clientIndex.map(\.orderID) == whole.clientIndex.map(\.orderID))
        #expect(lists.seenFills == whole.seenFills)

        let escaped = Data(
            String(decoding: encoded, as: UTF8.self).replacingOccurrences(
                of: #""seenFills":["#, with: #""seenFills":["a\"b","#
            ).utf8)
        #expect(CheckpointLists.split(escaped) == nil)
        let fallback = try Checkpoint.decode(escaped, decoder: JSONDecoder())
        #expect(fallback.seenFills.contains("a\"b"))
        #expect(try fallback.encoded() == JSONDecoder().decode(Checkpoint.self, from: escaped).encoded())
    }

    /// The long lists are written by JSONText and spliced in: the result must be JSONEncoder's bytes.
    @Test func theSplicedEncodingIsWhatJSONEncoderWrites() async throws {
        let broker = FakeBroker()
        let harness = try await EngineHarness(journalPath: journalPath, accounts: [account(broker)], checkpointEvery: 0)
        try await trade(harness, broker, tag: "s")
        try await harness.stop()
        let journal = try EventJournal(path: journalPath)
        defer { try? journal.close() }
        var replay = Replay(decoder: JSONDecoder(), accounts: [paper: account(broker)])
        try journal.forEachRecord { try replay.apply($0) }
        let checkpoint = Checkpoint(replay)
        #expect(!checkpoint.orders.isEmpty && !checkpoint.clientIndex.isEmpty && !checkpoint.seenFills.isEmpty)
        #expect(checkpoint.riskBooks.contains { $0.risk.openOrders > 0 })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(try checkpoint.encoded() == encoder.encode(checkpoint))
        // Written in small pieces (as a checkpoint is stored), the pieces make the same bytes.
        var pieces: [[UInt8]] = []
        try checkpoint.encode(pieceSize: 64) { pieces.append($0) }
        #expect(pieces.count > 3)
        #expect(Data(pieces.joined()) == (try encoder.encode(checkpoint)))
        let empty = Checkpoint(Replay(decoder: JSONDecoder(), accounts: [:]))
        #expect(try empty.encoded() == encoder.encode(empty))
    }

    /// The risk book keeps no entry per working order: it follows each order from the state the engine
    /// last held. Its open quantities and count must equal a recount over the engine's working orders,
    /// after a session with partial fills, a replace, a cancel and a refusal, and after a restart from a
    /// checkpoint.
    func expectRiskBookEqualsARecount(_ engine: ExecutionEngine) async throws {
        let (risk, orders) = try await engine.read { engine in
            .success((engine.riskBooks[paper]!, engine.orders.open(in: paper)))
        }.get()
        let working = orders.filter { $0.leavesQty.isPositive }
        #expect(risk.openOrders == working.count)
        #expect(!working.isEmpty)
        let now = Timestamp(nanosecondsSinceEpoch: 0)
        for symbol in Set(working.map(\.symbol) + [aapl]) {
            let seen = risk.context(for: symbol, now: now, today: now.date)
            let mine = working.filter { $0.symbol == symbol }
            #expect(seen.openBuyQty == mine.filter(\.side.isBuy).reduce(.zero) { $0 + $1.leavesQty })
            #expect(seen.openSellQty == mine.filter { !$0.side.isBuy }.reduce(.zero) { $0 + $1.leavesQty })
        }
    }

    @Test func theRiskBookEqualsARecountOfTheWorkingOrdersBeforeAndAfterARestart() async throws {
        let broker = FakeBroker()
        let first = try await EngineHarness(journalPath: journalPath, accounts: [account(broker)], checkpointEvery: 5)
        try await trade(first, broker, tag: "a")
        try await expectRiskBookEqualsARecount(first.engine)
        try await first.stop()
        let second = try await EngineHarness(
            journalPath: journalPath, accounts: [account(FakeBroker())], checkpointEvery: 1_000_000)
        #expect(second.engine.restoredFromCheckpoint != nil)
        try await expectRiskBookEqualsARecount(second.engine)
        try await second.stop()
    }

    @Test func aCheckpointEqualsAFullReplayAndARestartStartsFromTheNewest() async throws {
        let broker = FakeBroker()
        let first = try await EngineHarness(
            journalPath: journalPath, accounts: [account(broker)], checkpointEvery: 7)
        try await trade(first, broker, tag: "a")
        try await first.stop()  // a graceful stop writes a last checkpoint

        // Whole checkpoints and checkpoints holding only what the index and the fills gained since the one
        // before alternate at this size (a chain is extended while what it added is smaller than its whole
        // root); the newest two are one of each. Restored from the newest delta and the events after it,
        // the state is the one a full replay builds.
        let raw = try DatabaseQueue(path: journalPath)
        let deltas = try await raw.read { db in
            try Int64.fetchAll(db, sql: "SELECT seq FROM checkpoints WHERE base IS NOT NULL ORDER BY seq DESC")
        }
        let delta = try #require(deltas.first)
        try await raw.write { db in try db.execute(sql: "DELETE FROM checkpoints WHERE seq > ?", arguments: [delta]) }
        try raw.close()
        let journal = try EventJournal(path: journalPath)
        let last = try journal.lastSequence()
        let (seq, state, bases) = try #require(try journal.latestCheckpoint())
        #expect(seq == delta)
        #expect(!bases.isEmpty)
        let newest = try JSONDecoder().decode(Checkpoint.self, from: state)
        let whole = try JSONDecoder().decode(
            Checkpoint.self, from: try encodedFullReplay(upTo: delta, accounts: [account(broker)], running: journal))
        #expect(newest.base != nil)
        #expect(newest.clientIndex.count + newest.seenFills.count < whole.clientIndex.count + whole.seenFills.count)
        let (fromChain, chainSeq) = try ExecutionEngine.restore(
            journal, accounts: [paper: account(broker)], decoder: JSONDecoder(), logger: Logger(label: "t"))
        #expect(chainSeq == delta)
        #expect(fromChain.lastSeq == last)
        #expect(
            try Checkpoint(fromChain).encoded()
                == (try encodedFullReplay(accounts: [account(broker)], running: journal)))
        try journal.close()

        // A second session starts from it (and its chain), trades on without a checkpoint: the state
        // restored from the same chain and the longer tail still equals a full replay.
        let secondBroker = FakeBroker()
        let second = try await EngineHarness(
            journalPath: journalPath, accounts: [account(secondBroker)], checkpointEvery: 1_000_000)
        #expect(second.engine.restoredFromCheckpoint == delta)
        try await trade(second, secondBroker, tag: "b")
        // Read while the second engine still runs (through its own journal: one journal writes the file
        // at a time): everything is committed, no checkpoint since `delta`.
        let (restored, from) = try ExecutionEngine.restore(
            second.journal, accounts: [paper: account(secondBroker)], decoder: JSONDecoder(),
            logger: Logger(label: "t"))
        #expect(from == delta)
        #expect(restored.lastSeq > last)
        #expect(
            try Checkpoint(restored).encoded()
                == (try encodedFullReplay(accounts: [account(secondBroker)], running: second.journal)))
        // The running engine's own state equals a fresh replay too, and a refused id stays taken.
        #expect(try await second.engine.verifyState().get().matches)
        #expect(try await second.engine.submit(buy(1, limit: "100", id: "a-big")).get().duplicate)
        try await second.stop()
    }

    @Test func aCheckpointThatDoesNotMatchTheJournalIsPassedOverForAFullReplay() async throws {
        let broker = FakeBroker()
        let first = try await EngineHarness(journalPath: journalPath, accounts: [account(broker)], checkpointEvery: 5)
        try await trade(first, broker, tag: "a")
        try await first.stop()
        let raw = try DatabaseQueue(path: journalPath)
        try await raw.write { db in
            try db.execute(
                sql: "UPDATE checkpoint_pieces SET bytes = CAST(replace(CAST(bytes AS TEXT), 'a-0', 'a-9') AS BLOB)")
            #expect(db.changesCount > 0)
        }
        try raw.close()
        let again = try await EngineHarness(journalPath: journalPath, accounts: [account(FakeBroker())])
        #expect(again.engine.restoredFromCheckpoint == nil)
        #expect(try await again.engine.submit(buy(1, limit: "100", id: "a-0")).get().duplicate)
        try await again.stop()
    }

    /// A checkpoint that cannot be written (here: the checkpoint it would build on is gone) is not stored,
    /// and the next is whole; a restart from it and its links equals a full replay.
    @Test func aCheckpointThatCannotBeWrittenMakesTheNextWhole() async throws {
        let broker = FakeBroker()
        let harness = try await EngineHarness(
            journalPath: journalPath, accounts: [account(broker)], checkpointEvery: 1_000_000)
        let engine = harness.engine
        func checkpointNow() async {
            await engine.checkpointIfDue(force: true)
            await engine.checkpointWriting?.value
        }
        let raw = try DatabaseQueue(
            path: journalPath,
            configuration: {
                var configuration = Configuration()
                configuration.busyMode = .timeout(10)
                return configuration
            }())
        func stored() async throws -> [(seq: Int64, base: Int64?)] {
            try await raw.read { db in
                try Row.fetchAll(db, sql: "SELECT seq, base FROM checkpoints ORDER BY seq").map {
                    ($0["seq"], $0["base"])
                }
            }
        }
        // Ids taken by orders pre-trade risk refused: the whole checkpoint's index is long, so that the
        // next ones, which hold only what it gained, build on it.
        for n in 0..<200 {
            #expect(await engine.submit(buy(5_000, limit: "100", id: "refused-\(n)")).failure?.code == .riskRejected)
        }
        try await trade(harness, broker, tag: "a")
        await checkpointNow()
        try await trade(harness, broker, tag: "b")
        await checkpointNow()
        let chain = try await stored()
        #expect(chain.count == 2 && chain[0].base == nil && chain[1].base == chain[0].seq)

        try await raw.write { db in try db.execute(sql: "DELETE FROM checkpoints") }
        try await trade(harness, broker, tag: "c")
        await checkpointNow()
        #expect(try await stored().isEmpty)
        try await trade(harness, broker, tag: "d")
        await checkpointNow()
        let whole = try #require(try await stored().first)
        #expect(try await stored().count == 1 && whole.base == nil)
        try await trade(harness, broker, tag: "e")
        try await harness.stop()  // a graceful stop writes a last checkpoint, on the whole one
        #expect(try await stored().last?.base == whole.seq)
        try raw.close()

        let journal = try EventJournal(path: journalPath)
        let (restored, from) = try ExecutionEngine.restore(
            journal, accounts: [paper: account(broker)], decoder: JSONDecoder(), logger: Logger(label: "t"))
        #expect(from == (try journal.lastSequence()))
        #expect(
            try Checkpoint(restored).encoded() == (try encodedFullReplay(accounts: [account(broker)], running: journal))
        )
        try journal.close()
    }

    /// A checkpoint extends the last while the chain is shorter than `maxLinks` and what its links hold,
    /// with one more like the last, stays within the whole one it starts from (a restart reads the whole
    /// chain: at most twice a whole checkpoint).
    @Test func aChainOfCheckpointsStartsAgainWholeWhenLongOrLarge() {
        var chain = CheckpointChain(seq: 10, rootSize: 1_000)
        #expect(chain.extendable)
        chain.extend(to: 20, size: 300)
        #expect(chain.seq == 20 && chain.extendable)
        chain.extend(to: 30, size: 300)
        #expect(chain.extendable)
        chain.extend(to: 40, size: 300)
        #expect(!chain.extendable)
        // Links as large as the root (every checkpoint holds many open orders): one link, then whole.
        var large = CheckpointChain(seq: 10, rootSize: 1_000)
        large.extend(to: 20, size: 990)
        #expect(!large.extendable)
        var long = CheckpointChain(seq: 10, rootSize: 1_000_000)
        for n in 1..<CheckpointChain.maxLinks { long.extend(to: 10 + Int64(n), size: 1) }
        #expect(long.extendable)
        long.extend(to: 100, size: 1)
        #expect(!long.extendable)
    }

    /// Checkpoints come every `every` events, or every as many events as there are open orders when
    /// there are more (a checkpoint costs about as much as the orders it holds); a forced one (at
    /// shutdown) whenever anything happened; none with `every` 0.
    @Test func aCheckpointIsDueEveryNEventsOrEveryOpenOrdersCountWhenThatIsMore() {
        let due = ExecutionEngine.checkpointDue
        #expect(due(10_000, 0, 10_000, 5, false))
        #expect(!due(9_999, 0, 10_000, 5, false))
        #expect(!due(20_000, 10_001, 10_000, 5, false))
        #expect(!due(109_999, 10_000, 10_000, 100_000, false))
        #expect(due(110_000, 10_000, 10_000, 100_000, false))
        #expect(due(10_001, 10_000, 10_000, 100_000, true))
        #expect(!due(10_000, 10_000, 10_000, 0, true))
        #expect(!due(1_000_000, 0, 0, 0, true))
    }
}
