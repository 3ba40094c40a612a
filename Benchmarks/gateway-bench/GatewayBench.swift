import ArgumentParser
import ControlProtocol
import Foundation
import Glibc
import Histogram

/// Drives a real gatewayd (paper broker, durable journal) over its socket with many concurrent clients
/// and prints submit→answer latency percentiles and sustained submits per second, next to two baselines
/// measured in the same run on the same machine: the socket's own round trip (`hello`, which touches
/// neither the engine nor the journal) and one `fsync` of a small write in the journal's folder.
@main
struct GatewayBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-bench", abstract: "Measure the order path of gatewayd against its baselines.")

    @Option(help: "Concurrent clients, one connection each.") var clients = 16
    @Option(help: "Submits per client per run.") var orders = 2_000
    @Option(help: "Runs; medians across runs are printed last.") var runs = 3
    @Option(help: "The gatewayd binary (default: next to this one).") var gatewayd: String?
    @Option(help: "The journal's durability: durable (synchronous=FULL) or fast (synchronous=NORMAL).")
    var durability = "durable"
    @Flag(
        help: """
            Also run a second gatewayd whose alerts (every event, three destinations) go to an endpoint that \
            accepts connections and never answers, and measure its submits beside the first's.
            """)
    var compareAlerts = false
    @Flag(
        help: """
            Also run a second gatewayd with metrics off (metrics_listen: off), and scrape the first's /metrics \
            ten times a second while it is measured, to show what metrics cost the order path.
            """)
    var compareMetrics = false

    func run() throws {
        let folder = NSTemporaryDirectory() + "gateway-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let binary =
            gatewayd ?? (URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/gatewayd")
        let daemon = try BenchDaemon(
            binary: binary, folder: folder, metricsPort: try freePort(), durability: durability)
        defer { daemon.stop() }
        let stalled = compareAlerts ? try StalledEndpoint() : nil
        // Other daemons measured beside the first, each in turn, taking turns going first.
        var others: [(name: String, daemon: BenchDaemon)] = []
        if let stalled {
            others.append(
                (
                    "submit, alerts stalled",
                    try BenchDaemon(
                        binary: binary, folder: folder + "/alerting", alerts: stalled.url, durability: durability)
                ))
        }
        if compareMetrics {
            others.append(
                (
                    "submit, metrics off",
                    try BenchDaemon(binary: binary, folder: folder + "/no-metrics", durability: durability)
                ))
        }
        defer { for other in others { other.daemon.stop() } }

        print(
            "gateway-bench: \(clients) clients × \(orders) submits, \(runs) runs, journal \(folder)/journal.sqlite (\(durability))"
        )
        let setup = try ControlClient(socketPath: daemon.socket)
        for socket in [daemon.socket] + others.map(\.daemon.socket) {
            _ = try ControlClient(socketPath: socket).request(
                "quote", ["symbol": "BENCH", "bid": "100", "ask": "100.01"])
        }
        let submitName = compareMetrics ? "submit, metrics on" : "submit → answer"
        let names = ["fsync", "socket round trip (hello)", submitName] + others.map(\.name)
        var results: [String: [Summary]] = [:]
        for run in 1...runs {
            var measured = [
                ("fsync", Self.fsyncBaseline(folder: folder, count: 300)),
                ("socket round trip (hello)", try drive(socket: daemon.socket, run: run, op: "hello")),
            ]
            // The daemons take turns going first, so none gains from the order.
            let first = run % (others.count + 1)
            let order =
                Array(([(submitName, daemon)] + others)[first...]) + Array(([(submitName, daemon)] + others)[..<first])
            for (name, target) in order {
                let scraper = compareMetrics && target === daemon ? daemon.metricsPort.map(Scraper.init) : nil
                measured.append((name, try drive(socket: target.socket, run: run, op: "submit")))
                if let scraper { print("run \(run)  scraped /metrics \(scraper.stop()) times while measuring") }
            }
            for (name, summary) in measured {
                results[name, default: []].append(summary)
                print("run \(run)  \(summary.line(name))")
            }
        }
        print("\nmedians of \(runs) runs:")
        for name in names {
            print("  " + Summary.median(results[name]!).line(name))
        }
        if let alerting = others.first(where: { $0.name == "submit, alerts stalled" })?.daemon {
            let dropped = try ControlClient(socketPath: alerting.socket).request(
                "journal", ["kinds": ["alert_dropped"], "limit": 10_000])
            let notes = dropped["events"] as? [[String: Any]] ?? []
            print(
                "alerting daemon: \(notes.count) alert_dropped notes journaled so far "
                    + "(one per destination a minute; the rest at its stop)")
        }
        let status = try setup.request("status")
        print("journal seq after the benchmark: \(status["seq"] ?? "?")")
    }

    /// `clients` threads, each sending `orders` requests one after another on its own connection.
    func drive(socket: String, run: Int, op: String) throws -> Summary {
        let latencies = LatencyBox()
        let ready = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        let failures = LatencyBox()
        for client in 0..<clients {
            ready.enter()
            done.enter()
            let thread = Thread { [orders] in
                defer { done.leave() }
                guard let connection = try? ControlClient(socketPath: socket) else {
                    failures.add([1])
                    ready.leave()
                    return
                }
                ready.leave()
                start.wait()
                var mine: [UInt64] = []
                mine.reserveCapacity(orders)
                for n in 0..<orders {
                    let fields: [String: Any] =
                        op == "submit"
                        ? [
                            "account": "paper", "symbol": "BENCH", "side": n % 2 == 0 ? "buy" : "sell", "qty": "1",
                            "type": "market", "client_order_id": "b\(run)-\(client)-\(n)",
                        ] : ["client": "bench"]
                    let began = monotonicNanos()
                    guard let answer = try? connection.request(op, fields), answer["ok"] as? Bool == true else {
                        failures.add([1])
                        continue
                    }
                    mine.append(monotonicNanos() - began)
                }
                latencies.add(mine)
            }
            thread.start()
        }
        ready.wait()
        let began = monotonicNanos()
        for _ in 0..<clients { start.signal() }
        done.wait()
        let elapsed = monotonicNanos() - began
        if !failures.values.isEmpty { print("  \(failures.values.count) \(op) requests failed") }
        return Summary(latencies.values, elapsed: elapsed)
    }

    /// `count` appends of 64 bytes, each followed by fsync, in the journal's folder.
    static func fsyncBaseline(folder: String, count: Int) -> Summary {
        let path = folder + "/fsync-probe"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer {
            close(fd)
            unlink(path)
        }
        let bytes = [UInt8](repeating: 0x2a, count: 64)
        var samples: [UInt64] = []
        let began = monotonicNanos()
        for _ in 0..<count {
            let t0 = monotonicNanos()
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            fsync(fd)
            samples.append(monotonicNanos() - t0)
        }
        return Summary(samples, elapsed: monotonicNanos() - began)
    }
}

/// Percentiles and rate of one measurement.
struct Summary {
    var count: Int
    var p50: UInt64
    var p99: UInt64
    var p999: UInt64
    var perSecond: Double

    init(count: Int, p50: UInt64, p99: UInt64, p999: UInt64, perSecond: Double) {
        self.count = count
        self.p50 = p50
        self.p99 = p99
        self.p999 = p999
        self.perSecond = perSecond
    }

    init(_ samples: [UInt64], elapsed: UInt64) {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for sample in samples { _ = histogram.record(max(1, sample)) }
        self.init(
            count: samples.count, p50: histogram.valueAtPercentile(50), p99: histogram.valueAtPercentile(99),
            p999: histogram.valueAtPercentile(99.9), perSecond: Double(samples.count) / (Double(elapsed) / 1e9))
    }

    func line(_ name: String) -> String {
        func us(_ nanos: UInt64) -> String { String(format: "%9.1f µs", Double(nanos) / 1_000) }
        return name.padding(toLength: 26, withPad: " ", startingAt: 0)
            + " p50 \(us(p50))  p99 \(us(p99))  p99.9 \(us(p999))  \(String(format: "%9.0f", perSecond))/s  (n=\(count))"
    }

    static func median(_ all: [Summary]) -> Summary {
        func mid<T: Comparable>(_ values: [T]) -> T { values.sorted()[values.count / 2] }
        return Summary(
            count: mid(all.map(\.count)), p50: mid(all.map(\.p50)), p99: mid(all.map(\.p99)),
            p999: mid(all.map(\.p999)),
            perSecond: mid(all.map(\.perSecond)))
    }
}

/// Samples gathered from several threads.
final class LatencyBox: @unchecked Sendable {
    // Guarded by `lock`; a plain class so that client threads can append without an actor hop.
    private let lock = NSLock()
    private var storage: [UInt64] = []
    func add(_ samples: [UInt64]) {
        lock.lock()
        storage += samples
        lock.unlock()
    }
    var values: [UInt64] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}

func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// A gatewayd started for the benchmark, stopped with SIGTERM at the end.
final class BenchDaemon {
    let process = Process()
    let socket: String
    let metricsPort: Int?

    init(
        binary: String, folder: String, alerts url: String? = nil, metricsPort: Int? = nil,
        durability: String = "durable"
    ) throws {
        self.metricsPort = metricsPort
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        socket = folder + "/gatewayd.sock"
        let alerts =
            url.map { url in
                "alerts:\n"
                    + ["ops", "desk", "phone"].map {
                        "  - {name: \($0), kind: webhook, url: \"\(url)\", events: [all], timeout_seconds: 120}\n"
                    }.joined()
            } ?? ""
        let config =
            alerts + """
                socket: \(socket)
                metrics_listen: \(metricsPort.map { "127.0.0.1:\($0)" } ?? "off")
                journal: \(folder)/journal.sqlite
                journal_durability: \(durability)
                log_level: warning
                accounts:
                  - name: paper
                    broker: paper
                    starting_cash: "100000000"
                    paper:
                      ledger: \(folder)/paper-broker.jsonl
                """
        try config.write(toFile: folder + "/gatewayd.yaml", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config", folder + "/gatewayd.yaml"]
        try process.run()
        // Wait until the socket answers: each failed connect is an immediate refusal, not a sleep.
        var attempts = 0
        while (try? ControlClient(socketPath: socket)) == nil {
            attempts += 1
            guard process.isRunning, attempts < 1_000_000 else { throw ValidationError("gatewayd did not start") }
            sched_yield()
        }
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

/// A TCP endpoint on 127.0.0.1 that accepts connections (the kernel completes them into its backlog)
/// and never answers: an alert destination that hangs.
final class StalledEndpoint {
    let fd: Int32
    let url: String

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 1024) == 0 else {
            close(fd)
            throw ValidationError("cannot listen on 127.0.0.1")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))/hook"
    }

    deinit { close(fd) }
}

/// A free TCP port on 127.0.0.1, found by binding port 0 and closing.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw ValidationError("cannot bind 127.0.0.1") }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Scrapes `http://127.0.0.1:PORT/metrics` ten times a second on a thread of its own until stopped.
final class Scraper: @unchecked Sendable {
    private let stopping = NSCondition()
    private var stopped = false
    private var count = 0
    private let done = DispatchSemaphore(value: 0)

    init(port: Int) {
        Thread { [self] in
            while true {
                Self.scrape(port: port)
                stopping.lock()
                count += 1
                let wake = Date().addingTimeInterval(0.1)
                while !stopped, stopping.wait(until: wake) {}
                let finished = stopped
                stopping.unlock()
                if finished { break }
            }
            done.signal()
        }.start()
    }

    /// Stops, waits for the thread; returns how many scrapes were made.
    func stop() -> Int {
        stopping.lock()
        stopped = true
        stopping.signal()
        stopping.unlock()
        done.wait()
        return count
    }

    static func scrape(port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return }
        let request = Array("GET /metrics HTTP/1.0\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {}
    }
}
