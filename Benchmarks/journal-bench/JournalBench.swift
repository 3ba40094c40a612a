import ArgumentParser
import BrokerPaper
import Execution
import Foundation
import GRDB
import GatewayCore
import Glibc
import Journal
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The journal at scale (issue: journal as an audit trail, "Measure"): builds a journal of N events with
/// the real engine and paper broker (market orders, their fills, quotes on 50 symbols, spread over 10
/// trading days), then measures, each several times, beside a baseline from the same run:
///
/// - restart, from launching `gatewayd` to its engine started (replayed and reconciled), with the checkpoint and with the
///   checkpoints deleted (a full replay) — baseline: the same on an empty journal; the daemon is killed
///   with SIGKILL after each start, so that no start writes a checkpoint for the next. As in the README's
///   paper mode, the paper broker keeps its ledger (beside the journal, `<journal>.paper-ledger.jsonl`),
///   which it reads at each start; the empty journal's start has none;
/// - a filtered audit query, one symbol over one day;
/// - bytes per event on disk.
@main
struct JournalBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal-bench", abstract: "Restart time, audit query time and size of a large journal.")

    @Option(help: "Events to journal (roughly).") var events = 1_000_000
    @Option(help: "Runs of each measurement; medians are printed.") var runs = 5
    @Option(help: "Reuse this journal instead of building one (it is built there when missing).") var journal: String?
    @Option(help: "The gatewayd binary (default: next to this one).") var gatewayd: String?
    @Flag(help: "Only time walking the hash chain once, in process.") var verifyOnly = false

    func run() async throws {
        let folder = NSTemporaryDirectory() + "journal-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = journal ?? folder + "/journal.sqlite"
        let ledger = path + ".paper-ledger.jsonl"
        if !FileManager.default.fileExists(atPath: path) {
            let started = Date()
            try await Self.build(path: path, ledger: ledger, events: events)
            print("built \(path) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }
        let paperLedger = FileManager.default.fileExists(atPath: ledger) ? ledger : nil
        if let paperLedger {
            let lines = try String(contentsOfFile: paperLedger, encoding: .utf8).split(separator: "\n").count
            print("paper ledger: \(lines) lines, \(Self.fileSize(paperLedger) / 1_048_576) MiB")
        } else {
            print("paper ledger: none (a journal built without one): the starts read no ledger")
        }
        let binary =
            gatewayd ?? (URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/gatewayd")

        let store = try EventJournal(path: path)
        if verifyOnly {
            let started = Date()
            let result = try store.verify()
            print("verify: \(result.events) events in \(Self.ms(Date().timeIntervalSince(started)))")
            return
        }
        let count = try store.lastSequence()
        let checkpoint = try store.latestCheckpoint()
        try store.close()
        let size = Self.fileSize(path)
        print(
            "journal: \(count) events, \(size / 1_048_576) MiB, newest checkpoint after event \(checkpoint?.seq ?? 0)")

        let bare = folder + "/bare.sqlite"
        try? FileManager.default.removeItem(atPath: bare)
        try FileManager.default.copyItem(atPath: path, toPath: bare)
        let copy = try DatabaseQueue(path: bare)
        try await copy.write { db in try db.execute(sql: "DELETE FROM checkpoints") }
        try await copy.writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
        try copy.close()
        let bareSize = Self.fileSize(bare)

        var empty: [Double] = []
        var withCheckpoint: [Double] = []
        var fullReplay: [Double] = []
        for run in 1...runs {
            let emptyJournal = folder + "/empty-\(run).sqlite"
            empty.append(try Self.timeStart(binary: binary, journal: emptyJournal, folder: folder))
            withCheckpoint.append(
                try Self.timeStart(binary: binary, journal: path, ledger: paperLedger, folder: folder))
            fullReplay.append(try Self.timeStart(binary: binary, journal: bare, ledger: paperLedger, folder: folder))
            print(
                "run \(run)  start: empty journal \(Self.ms(empty.last!))  with checkpoint \(Self.ms(withCheckpoint.last!))  full replay \(Self.ms(fullReplay.last!))"
            )
        }

        let reader = try EventJournal(path: path)
        let day = 86_400_000_000_000 as Int64
        let first = try reader.records(after: 0, limit: 1).first?.ts ?? 0
        var queries: [Double] = []
        var matched = 0
        for run in 0..<max(runs, 20) {
            let since = first + Int64(run % 10) * day
            let query = JournalQuery(symbol: "S\(run % 50)", since: since, until: since + day, limit: 100_000)
            let started = DispatchTime.now().uptimeNanoseconds
            matched = try reader.records(matching: query).count
            queries.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
        }
        // The other questions an audit asks, each through its own index (docs/journal.md).
        let hour = 3_600_000_000_000 as Int64
        let audits: [(String, (Int) throws -> Int)] = [
            (
                "one client order id",
                { run in try reader.records(matching: JournalQuery(clientOrderID: "b-\(run * 997)", limit: 1000)).count
                }
            ),
            (
                "one strategy, one day",
                { run in
                    let since = first + Int64(run % 10) * day
                    return try reader.records(
                        matching: JournalQuery(
                            strategy: "st\(run % 8)", since: since, until: since + day, limit: 100_000)
                    ).count
                }
            ),
            (
                "every event of one hour",
                { run in
                    let since = first + Int64(run % 10) * day
                    return try reader.records(matching: JournalQuery(since: since, until: since + hour, limit: 100_000))
                        .count
                }
            ),
            (
                "1000 fills of an account",
                { run in
                    try reader.records(
                        matching: JournalQuery(
                            account: "paper", kinds: ["fill"], afterSeq: Int64(run) * (count / 20), limit: 1000)
                    ).count
                }
            ),
            (
                "an account's newest fill (start)",
                { _ in try reader.latestFillTimestamp(account: "paper") == nil ? 0 : 1 }
            ),
        ]
        var auditTimes: [(String, Double, Int)] = []
        for (name, body) in audits {
            var times: [Double] = []
            var rows = 0
            for run in 0..<max(runs, 20) {
                let started = DispatchTime.now().uptimeNanoseconds
                rows = try body(run)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
            }
            auditTimes.append((name, Self.median(times), rows))
        }
        let ordersStarted = DispatchTime.now().uptimeNanoseconds
        let symbolOrders = try reader.latestOrderPayloads(account: "paper", symbol: "S7").count
        let ordersOfSymbol = Double(DispatchTime.now().uptimeNanoseconds - ordersStarted) / 1e6
        // A finished order read back from the journal, as a duplicate submit, a cancel of a finished order
        // or a late fill does on the engine's thread: the oldest order, one in the middle, the newest.
        let orderIDs = try [0, Int(count) / 2, Int(count) - 200].compactMap { after in
            try reader.records(matching: JournalQuery(kinds: ["order"], afterSeq: Int64(after), limit: 1)).first?
                .orderID
        }
        var lookups: [[Double]] = Array(repeating: [], count: orderIDs.count)
        for _ in 0..<max(runs, 20) {
            for (n, id) in orderIDs.enumerated() {
                let started = DispatchTime.now().uptimeNanoseconds
                guard try reader.latestOrderPayload(id) != nil else {
                    throw ValidationError("order \(id) not found in the journal")
                }
                lookups[n].append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
            }
        }
        let countStarted = DispatchTime.now().uptimeNanoseconds
        _ = try reader.lastSequence()
        let indexLookup = Double(DispatchTime.now().uptimeNanoseconds - countStarted) / 1e6
        try reader.close()

        print("\nmedians of \(runs) runs (\(count) events):")
        print("  start, empty journal (baseline)      \(Self.ms(Self.median(empty)))")
        print("  start, with checkpoint               \(Self.ms(Self.median(withCheckpoint)))")
        print("  start, full replay (no checkpoint)   \(Self.ms(Self.median(fullReplay)))")
        print(
            "  audit query, one symbol, one day     \(String(format: "%.2f", Self.median(queries))) ms (\(matched) events; baseline: newest seq lookup \(String(format: "%.3f", indexLookup)) ms)"
        )
        for (name, ms, rows) in auditTimes {
            print(
                "  audit query, \(name)".padding(toLength: 52, withPad: " ", startingAt: 0)
                    + "\(String(format: "%.2f", ms)) ms (\(rows) events)")
        }
        print(
            "  orders verb, one symbol's orders (once)           \(String(format: "%.0f", ordersOfSymbol)) ms (\(symbolOrders) orders)"
        )
        print(
            "  finished order read back             "
                + lookups.map { String(format: "%.3f", Self.median($0)) }.joined(separator: " / ")
                + " ms (oldest / middle / newest order)")
        print(
            "  bytes per event                      \(size / max(1, Int(count))) with checkpoints, \(bareSize / max(1, Int(count))) without"
        )
    }

    static func ms(_ seconds: Double) -> String { String(format: "%.0f ms", seconds * 1000) }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
    }

    /// Launches gatewayd on `journal` and returns the seconds until its engine has started (replayed,
    /// reconciled with the broker, taking requests); then stops it.
    static func timeStart(binary: String, journal: String, ledger: String? = nil, folder: String) throws -> Double {
        let socket = folder + "/bench.sock"
        let config = folder + "/bench.yaml"
        try """
        socket: \(socket)
        metrics_listen: off
        journal: \(journal)
        log_level: info
        accounts:
          - name: paper
            broker: paper
            starting_cash: "100000000"

        """.appending(ledger.map { "    paper:\n      ledger: \($0)\n" } ?? "")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config", config]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let started = Date()
        try process.run()
        var log = ""
        let handle = pipe.fileHandleForReading
        // Ready: the journal replayed, the brokers connected and reconciled, requests taken (READY=1 next).
        while !log.contains("engine started") {
            let data = handle.availableData
            if data.isEmpty { throw ValidationError("gatewayd stopped before it started:\n\(log)") }
            log += String(decoding: data, as: UTF8.self)
        }
        let elapsed = Date().timeIntervalSince(started)
        // SIGKILL, not SIGTERM: a graceful stop would write a checkpoint and spoil the next full replay.
        kill(process.processIdentifier, SIGKILL)
        while !handle.availableData.isEmpty {}
        process.waitUntilExit()
        return elapsed
    }

    /// Builds a journal of about `events` events with the real engine: 64 clients submit market orders
    /// on 50 symbols that the paper broker fills at once, with a quote before each; the clock moves so
    /// that the events span ten trading days.
    static func build(path: String, ledger: String, events: Int) async throws {
        var logger = Logger(label: "journal-bench")
        logger.logLevel = .error
        let clock = SteppingClock()
        let broker = PaperBroker(clock: clock, ledgerPath: ledger)
        let journal = try EventJournal(path: path)
        let account = EngineAccount(id: AccountID("paper")!, adapter: broker, openingCash: Money(100_000_000))
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let engine = try await ExecutionEngine(
            journal: journal, accounts: [account], clock: clock, logger: logger,
            thread: EngineThread(executor: loop.executor) { loop.execute($0) }, checkpointEvery: 10_000)
        let group = ServiceGroup(services: [engine], logger: logger)
        let runner = Task { try await group.run() }
        // About six events per order: a quote, accepted, submitted, acknowledged, the fill, filled.
        let orders = events / 6
        let perDay = max(1, orders / 10)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<64 {
                group.addTask {
                    var n = client
                    while n < orders {
                        clock.set(day: n / perDay, step: n)
                        let symbol = Symbol("S\(n % 50)")!
                        let price = Price(100 + n % 7)
                        _ = try await engine.quote(Quote(symbol: symbol, bid: price, ask: price, ts: clock.now())).get()
                        let request = SubmitOrder(
                            account: AccountID("paper")!, clientOrderID: ClientOrderID("b-\(n)"), symbol: symbol,
                            side: n % 2 == 0 ? .buy : .sell, qty: Quantity(1), type: .market,
                            strategy: "st\(n % 8)")
                        _ = try await engine.submit(request).get()
                        n += 64
                    }
                }
            }
            try await group.waitForAll()
        }
        // Let the last fills land, then stop the way SIGTERM would (which writes a last checkpoint).
        while case .success(let open) = await engine.orders(OrderFilter()), !open.isEmpty { await Task.yield() }
        await group.triggerGracefulShutdown()
        try await runner.value
        try journal.close()
    }
}

/// A clock the builder moves: each order lands on its trading day, a microsecond apart.
final class SteppingClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)

    func set(day: Int, step: Int) {
        lock.lock()
        defer { lock.unlock() }
        let target = 1_795_000_000_000_000_000 + Int64(day) * 86_400_000_000_000 + Int64(step) * 1_000
        if target > current.nanosecondsSinceEpoch { current = Timestamp(nanosecondsSinceEpoch: target) }
    }

    func now() -> Timestamp {
        lock.lock()
        defer { lock.unlock() }
        return current
    }
}
