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
    @Flag(
        help: """
            Also run a second gatewayd whose alerts (every event, three destinations) go to an endpoint that \
            accepts connections and never answers, and measure its submits beside the first's.
            """)
    var compareAlerts = false

    func run() throws {
        let folder = NSTemporaryDirectory() + "gateway-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let binary =
            gatewayd ?? (URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/gatewayd")
        let daemon = try BenchDaemon(binary: binary, folder: folder)
        defer { daemon.stop() }
        let stalled = compareAlerts ? try StalledEndpoint() : nil
        let alerting = try stalled.map { endpoint in
            try BenchDaemon(binary: binary, folder: folder + "/alerting", alerts: endpoint.url)
        }
        defer { alerting?.stop() }

        print(
            "gateway-bench: \(clients) clients × \(orders) submits, \(runs) runs, journal \(folder)/journal.sqlite (synchronous=FULL)"
        )
        let setup = try ControlClient(socketPath: daemon.socket)
        _ = try setup.request("quote", ["symbol": "BENCH", "bid": "100", "ask": "100.01"])
        if let alerting {
            _ = try ControlClient(socketPath: alerting.socket).request(
                "quote", ["symbol": "BENCH", "bid": "100", "ask": "100.01"])
        }
        var names = ["fsync", "socket round trip (hello)", "submit → answer"]
        if alerting != nil { names.append("submit, alerts stalled") }
        var results: [String: [Summary]] = [:]
        for run in 1...runs {
            var measured = [
                ("fsync", Self.fsyncBaseline(folder: folder, count: 300)),
                ("socket round trip (hello)", try drive(socket: daemon.socket, run: run, op: "hello")),
            ]
            // With the alerting daemon, the two take turns going first, so neither gains from the order.
            let alertingFirst = alerting != nil && run % 2 == 0
            if alertingFirst, let alerting {
                measured.append(("submit, alerts stalled", try drive(socket: alerting.socket, run: run, op: "submit")))
            }
            measured.append(("submit → answer", try drive(socket: daemon.socket, run: run, op: "submit")))
            if !alertingFirst, let alerting {
                measured.append(("submit, alerts stalled", try drive(socket: alerting.socket, run: run, op: "submit")))
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
        if let alerting {
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

    init(binary: String, folder: String, alerts url: String? = nil) throws {
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
                metrics_listen: 127.0.0.1:0
                journal: \(folder)/journal.sqlite
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
