import ControlProtocol
import Foundation
import Glibc

/// A gatewayd started for the benchmark, stopped with SIGTERM at the end.
final class BenchDaemon {
    /// Top-level configuration lines added to every daemon's file (`--config-line`); set once, before
    /// any daemon starts.
    nonisolated(unsafe) static var extraConfig: [String] = []
    /// Variables added to every daemon's environment (the service unit's `Environment=` settings, unless
    /// `--allocator glibc`); set once, before any daemon starts.
    nonisolated(unsafe) static var environment: [String: String] = [:]
    /// The allocators the daemons started ran with, read from their memory maps.
    nonisolated(unsafe) static var allocatorsSeen: Set<String> = []

    /// The `Environment=` settings of the service unit `systemd/gatewayd.service`, found in the current
    /// folder or three above the daemon's binary (a checkout's `.build/<triple>/release`); empty when
    /// not found.
    static func unitEnvironment(besides binary: String) -> (settings: [String: String], path: String?) {
        let near = URL(fileURLWithPath: binary).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("../../..").standardized.path
        for folder in [FileManager.default.currentDirectoryPath, near] {
            let path = folder + "/systemd/gatewayd.service"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            var settings: [String: String] = [:]
            for line in text.split(separator: "\n") where line.hasPrefix("Environment=") {
                let setting = line.dropFirst("Environment=".count)
                guard let equals = setting.firstIndex(of: "=") else { continue }
                settings[String(setting[..<equals])] = String(setting[setting.index(after: equals)...])
            }
            return (settings, path)
        }
        return ([:], nil)
    }

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
                \(Self.extraConfig.joined(separator: "\n"))
                log_level: warning
                accounts:
                  - name: paper
                    broker: paper
                    starting_cash: "100000000"
                    paper:
                      ledger: \(folder)/paper-broker.jsonl
                      calendar: always_open
                """
        try config.write(toFile: folder + "/gatewayd.yaml", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config", folder + "/gatewayd.yaml"]
        process.environment = ProcessInfo.processInfo.environment.merging(Self.environment) { $1 }
        try process.run()
        // Wait until the socket answers: each failed connect is an immediate refusal, not a sleep.
        var attempts = 0
        while (try? ControlClient(socketPath: socket)) == nil {
            attempts += 1
            guard process.isRunning, attempts < 1_000_000 else { throw BenchError("gatewayd did not start") }
            sched_yield()
        }
        // Read with `FileHandle`, which reads to the end: `String(contentsOfFile:)` stops after one page of a
        // `/proc` file, whose size reads zero.
        let maps = (try? FileHandle(forReadingAtPath: "/proc/\(pid)/maps")?.readToEnd()) ?? Data()
        Self.allocatorsSeen.insert(String(decoding: maps, as: UTF8.self).contains("libjemalloc") ? "jemalloc" : "glibc")
    }

    var pid: Int32 { process.processIdentifier }

    func stop() {
        guard process.isRunning else { return }
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
            throw BenchError("cannot listen on 127.0.0.1")
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
    guard bound == 0 else { throw BenchError("cannot bind 127.0.0.1") }
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
