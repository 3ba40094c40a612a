import ArgumentParser
import ControlProtocol
import Foundation
import Glibc

/// Drives real gatewayd daemons (paper broker) over their sockets and reports the order path against the
/// machine's floors measured in the same run (issue: performance): a Unix-socket ping-pong, one SQLite
/// commit with `synchronous=FULL` and one with `NORMAL`.
///
/// Modes: `closed` — N clients, each sending its next submit when the last is answered (the most the
/// daemon does); `open` — orders offered at fixed rates whatever the answers do, latency counted from when
/// each order was due (queueing shows, no coordinated omission); `resting` — 100 000 limit orders that
/// stay open, for the daemon's peak memory, then a quote that fills them all, and on a second daemon one
/// `cancel_all` over as many; `cancel` — a resting limit order and then its cancel, the
/// cancel timed; `quote` — quotes for the benchmark's symbol (the paper broker's market data); `signal` —
/// signals with their quantity given, entering at the market. Each measurement gives
/// submit→acknowledgement and submit→fill percentiles (HdrHistogram), orders per second and the daemon's
/// peak RSS. With `--json`, stdout carries one JSON object per mode, durability and rate (medians across
/// runs) and the human summary goes to stderr.
@main
struct GatewayBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-bench", abstract: "Measure the order path of gatewayd against the machine's floors.")

    @Option(help: "Modes, comma-separated: closed, open, resting, cancel, quote, signal.") var modes = "closed,open"
    @Option(help: "Concurrent clients (connections), in every mode.") var clients = 16
    @Option(help: "Closed loop: submits per client per run.") var orders = 2_000
    @Option(help: "Closed loop: submits each client keeps in flight (1: the next after the last answer).")
    var window = 1
    @Option(help: "Open loop: offered rates in orders per second, comma-separated.")
    var rates = "250,500,1000,2000,4000"
    @Option(help: "Open loop: seconds per rate.") var seconds = 3.0
    @Option(help: "Resting: limit orders left open.") var resting = 100_000
    @Option(help: "Runs; medians across runs are reported.") var runs = 3
    @Option(help: "The journal's durability: durable, fast, or both.") var durability = "both"
    @Option(help: "The gatewayd binary (default: next to this one).") var gatewayd: String?
    @Option(
        name: .customLong("config-line"),
        help: "A top-level line for every daemon's configuration, e.g. 'journal_checkpoint_every: 0' (repeatable).")
    var configLines: [String] = []
    @Option(
        help: """
            The daemons' heap allocator: 'unit' runs them with the environment the service unit sets \
            (systemd/gatewayd.service: jemalloc, where installed), 'glibc' without it.
            """)
    var allocator = "unit"
    @Flag(help: "One JSON object per mode on stdout; the human summary on stderr.") var json = false
    @Flag(
        help: """
            Also run a gatewayd whose alerts (every event, three destinations) go to an endpoint that \
            accepts connections and never answers, and measure its closed loop beside the first's.
            """)
    var compareAlerts = false
    @Flag(
        help: """
            Also run a gatewayd with metrics off, and scrape the first's /metrics ten times a second while \
            it is measured in the closed loop, to show what metrics cost the order path.
            """)
    var compareMetrics = false

    func validate() throws {
        guard !selectedModes.isEmpty,
            selectedModes.allSatisfy({ ["closed", "open", "resting", "cancel", "quote", "signal"].contains($0) })
        else {
            throw ValidationError("--modes takes closed, open, resting, cancel, quote and signal, comma-separated")
        }
        guard !durabilities.isEmpty else { throw ValidationError("--durability is durable, fast or both") }
        guard ["unit", "glibc"].contains(allocator) else { throw ValidationError("--allocator is unit or glibc") }
        guard !selectedRates.isEmpty, selectedRates.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--rates takes positive whole numbers, comma-separated")
        }
        guard clients > 0, orders > 0, runs > 0, resting > 0, seconds > 0, window > 0 else {
            throw ValidationError("--clients, --orders, --window, --runs, --resting and --seconds must be positive")
        }
    }

    var selectedModes: [String] { modes.split(separator: ",").map { String($0) } }
    var selectedRates: [Int] { rates.split(separator: ",").compactMap { Int($0) } }
    var durabilities: [String] {
        switch durability {
        case "both": ["durable", "fast"]
        case "durable", "fast": [durability]
        default: []
        }
    }

    func say(_ line: String) {
        if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
    }

    func run() throws {
        let folder = NSTemporaryDirectory() + "gateway-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let binary =
            gatewayd ?? (URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/gatewayd")
        BenchDaemon.extraConfig = configLines
        if allocator == "unit" {
            let (settings, path) = BenchDaemon.unitEnvironment(besides: binary)
            BenchDaemon.environment = settings
            if let path {
                let listed = settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                say("daemons' environment, from \(path): " + listed.joined(separator: " "))
            } else {
                say("note: systemd/gatewayd.service not found; the daemons run without its environment")
            }
        }
        say(
            "gateway-bench: modes \(modes), \(clients) clients, durability \(durabilities.joined(separator: " and ")), "
                + "\(runs) runs, in \(folder)")

        var results = Results()
        if !Set(selectedModes).isDisjoint(with: ["closed", "open", "cancel", "quote", "signal"]) {
            try measureOrderPath(binary: binary, folder: folder, into: &results)
        }
        if selectedModes.contains("resting") {
            try measureResting(binary: binary, folder: folder, into: &results)
        }
        report(results)
    }

    /// Each run: the floors, then every daemon in turn (taking turns going first), closed loop then open.
    func measureOrderPath(binary: String, folder: String, into results: inout Results) throws {
        var daemons: [(name: String, durability: String, daemon: BenchDaemon)] = try durabilities.map {
            ($0, $0, try BenchDaemon(binary: binary, folder: folder + "/\($0)", durability: $0))
        }
        let stalled = compareAlerts ? try StalledEndpoint() : nil
        if let stalled {
            daemons.append(
                (
                    "alerts stalled", durabilities[0],
                    try BenchDaemon(
                        binary: binary, folder: folder + "/alerting", alerts: stalled.url, durability: durabilities[0])
                ))
        }
        var metricsPort: Int?
        if compareMetrics {
            metricsPort = try freePort()
            daemons.append(
                (
                    "metrics on", durabilities[0],
                    try BenchDaemon(
                        binary: binary, folder: folder + "/metrics", metricsPort: metricsPort,
                        durability: durabilities[0])
                ))
        }
        defer { for entry in daemons { entry.daemon.stop() } }
        for entry in daemons {
            _ = try ControlClient(socketPath: entry.daemon.socket).request(
                "quote", ["symbol": "BENCH", "bid": "100", "ask": "100.01"])
        }
        for run in 1...runs {
            let floors = try Floors.measure(folder: folder)
            results.floors.append(floors)
            for line in floors.lines() { say("run \(run)  \(line)") }
            // The cheapest request through the same socket, framing, JSON and engine thread, sent the way
            // the orders are (the same clients, the same window): the most requests a second this machine
            // gives any order rate, and the daemon's CPU for a request that does no order's work.
            let helloCPU = ProcessCPU(pid: daemons[0].daemon.pid)
            var hello = try Driver.closed(
                socket: daemons[0].daemon.socket, tag: "h\(run)", clients: clients, orders: orders, window: window,
                hello: true, watchFills: false)
            let helloUsed = ProcessCPU(pid: daemons[0].daemon.pid).since(helloCPU)
            hello.cpu = (helloUsed.total, helloUsed.busiest)
            results.hello.append(hello)
            say("run \(run)  \(hello.ack.line(helloName))")
            if let cpu = hello.cpuPerOrder {
                say("run \(run)  \(helloName): " + Measurement.cpuLine(cpu, per: "hello"))
            }
            let first = run % daemons.count
            for (name, durability, daemon) in Array(daemons[first...]) + Array(daemons[..<first]) {
                let isCompared = name != durability
                if selectedModes.contains("closed") {
                    let scraper = name == "metrics on" ? metricsPort.map(Scraper.init) : nil
                    let before = ProcessCPU(pid: daemon.pid)
                    var measured = try Driver.closed(
                        socket: daemon.socket, tag: "c\(run)", clients: clients, orders: orders, window: window,
                        watchFills: true)
                    let used = ProcessCPU(pid: daemon.pid).since(before)
                    measured.cpu = (used.total, used.busiest)
                    let scrapes = scraper?.stop()
                    let key = Key(mode: "closed", durability: name, rate: nil)
                    results.add(key, measured, rss: peakRSSMiB(pid: daemon.pid))
                    say("run \(run)  \(measured.ack.line("\(name) closed: submit→ack"))")
                    if let fill = measured.fill { say("run \(run)  \(fill.line("\(name) closed: submit→fill"))") }
                    if let cpu = measured.cpuLine { say("run \(run)  \(name) closed: \(cpu)") }
                    if measured.failures > 0 { say("run \(run)  \(measured.failures) submits failed") }
                    if let scrapes { say("run \(run)  scraped /metrics \(scrapes) times while measuring") }
                }
                for verb in VerbLines.Verb.allCases where selectedModes.contains(verb.rawValue) && !isCompared {
                    let before = ProcessCPU(pid: daemon.pid)
                    var measured = try Driver.verbs(
                        socket: daemon.socket, tag: "\(verb.tag)\(run)", clients: clients, orders: orders, verb: verb)
                    let used = ProcessCPU(pid: daemon.pid).since(before)
                    measured.cpu = (used.total, used.busiest)
                    results.add(
                        Key(mode: verb.rawValue, durability: name, rate: nil), measured,
                        rss: peakRSSMiB(pid: daemon.pid))
                    say("run \(run)  \(measured.ack.line("\(name) \(verb.rawValue): \(verb.rawValue)→ack"))")
                    if let cpu = measured.cpuLine { say("run \(run)  \(name) \(verb.rawValue): \(cpu)") }
                    if measured.failures > 0 { say("run \(run)  \(measured.failures) \(verb.rawValue)s failed") }
                }
                guard selectedModes.contains("open"), !isCompared else { continue }
                for rate in selectedRates {
                    let measured = try Driver.open(
                        socket: daemon.socket, tag: "o\(run)r\(rate)", clients: clients, rate: rate, seconds: seconds)
                    let key = Key(mode: "open", durability: name, rate: rate)
                    results.add(key, measured, rss: peakRSSMiB(pid: daemon.pid))
                    say("run \(run)  \(measured.ack.line("\(name) open \(rate)/s: ack"))")
                    if let fill = measured.fill { say("run \(run)  \(fill.line("\(name) open \(rate)/s: fill"))") }
                    if let lag = measured.sendLag { say("run \(run)  \(lag.line("\(name) open \(rate)/s: send lag"))") }
                    if measured.failures > 0 { say("run \(run)  \(measured.failures) submits failed") }
                }
            }
        }
    }

    /// A fresh daemon takes `resting` limit orders that stay open; its peak RSS is read after, beside the
    /// peak of an idle daemon started the same way.
    func measureResting(binary: String, folder: String, into results: inout Results) throws {
        let idle = try BenchDaemon(binary: binary, folder: folder + "/idle", durability: durabilities[0])
        _ = try ControlClient(socketPath: idle.socket).request("status")
        results.idleRSS = peakRSSMiB(pid: idle.pid)
        idle.stop()
        let (daemon, measured) = try restingDaemon(binary: binary, folder: folder + "/resting")
        defer { daemon.stop() }
        let open = try Driver.openOrders(ControlClient(socketPath: daemon.socket)) ?? 0
        results.openOrders = open
        results.add(
            Key(mode: "resting", durability: durabilities[0], rate: nil), measured, rss: peakRSSMiB(pid: daemon.pid))
        say(measured.ack.line("resting: submit→ack"))
        // What the orders hold once the submits' own work is done (the tables caught up, freed pages given
        // back), beside the peak that includes it.
        _ = try ControlClient(socketPath: daemon.socket).request("journal", ["limit": 1])
        Thread.sleep(forTimeInterval: 2)
        results.settledRSS = currentRSSMiB(pid: daemon.pid)
        say(
            "resting: \(open) open orders, peak RSS \(peakRSSMiB(pid: daemon.pid)) MiB, \(results.settledRSS ?? 0) MiB "
                + "settled (idle daemon: \(results.idleRSS) MiB)")
        // Then a quote through every one of them: how long until none is open, and the longest a request
        // waited for its answer meanwhile.
        let sweep = try Driver.sweep(socket: daemon.socket)
        results.sweep = sweep
        // The pass's events are copied into the journal's tables after its last fill: a read of the journal,
        // which waits for the tables, lets the peak include that copying.
        _ = try ControlClient(socketPath: daemon.socket).request("journal", ["limit": 1])
        results.sweepPeakRSS = peakRSSMiB(pid: daemon.pid)
        say(
            "resting: a quote through \(open) orders: all filled after \(sweep.allFilledMillis) ms; "
                + "meanwhile \(sweep.answers) answers, the longest after \(sweep.longestAnswerMillis) ms, the median "
                + "after \(sweep.medianAnswerMillis) ms; peak RSS through the pass \(results.sweepPeakRSS ?? 0) MiB")
        try measureCancelAll(binary: binary, folder: folder, into: &results)
    }

    /// A fresh daemon in `folder`, with a quote for the benchmark's symbol and `resting` limit buys under
    /// it, sent by `clients` clients; and how those submits went.
    func restingDaemon(binary: String, folder: String) throws -> (BenchDaemon, Measurement) {
        let daemon = try BenchDaemon(binary: binary, folder: folder, durability: durabilities[0])
        do {
            _ = try ControlClient(socketPath: daemon.socket).request(
                "quote", ["symbol": "BENCH", "bid": "100", "ask": "100.01"])
            let measured = try Driver.closed(
                socket: daemon.socket, tag: "rest", clients: clients, orders: (resting + clients - 1) / clients,
                resting: true, watchFills: false)
            return (daemon, measured)
        } catch {
            daemon.stop()
            throw error
        }
    }

    /// A fresh daemon takes as many resting orders, then one `cancel_all` over them: how long until its
    /// answer (read whole, not decoded), the answer's size, and the daemon's peak RSS once `status` counts
    /// no order open (the broker's cancels journaled).
    func measureCancelAll(binary: String, folder: String, into results: inout Results) throws {
        let (daemon, _) = try restingDaemon(binary: binary, folder: folder + "/cancel-all")
        defer { daemon.stop() }
        let before = peakRSSMiB(pid: daemon.pid)
        let connection = try RawConnection(socketPath: daemon.socket, timeoutSeconds: 120)
        let began = monotonicNanos()
        guard connection.send(Array("{\"id\":1,\"op\":\"cancel_all\",\"account\":\"paper\"}\n".utf8)),
            let (ok, bytes) = connection.readLine({ line in
                (Line.contains(UnsafeBufferPointer(rebasing: line.prefix(64)), Line.ok), line.count)
            })
        else { throw BenchError("cancel_all: no answer") }
        let answered = monotonicNanos() - began
        guard ok else { throw BenchError("cancel_all was refused") }
        _ = try Driver.untilNoneOpen(ControlClient(socketPath: daemon.socket), since: began, after: "cancel_all")
        let run = CancelAllRun(
            answeredMillis: millis(answered), answerMB: (Double(bytes) / 100_000).rounded() / 10, peakRSSBefore: before,
            peakRSS: peakRSSMiB(pid: daemon.pid))
        results.cancelAll = run
        say(
            "resting: cancel_all over \(resting) orders answered after \(run.answeredMillis) ms (\(run.answerMB) MB); "
                + "peak RSS \(run.peakRSSBefore) MiB before it, \(run.peakRSS) MiB through it")
    }
}
