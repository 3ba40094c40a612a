import Foundation
import Synchronization
import Glibc

/// The real `gatewayd` binary, started on a temporary socket and journal for end-to-end tests. Waits
/// on what the daemon says (its "listening" log line, its exit), never on time.
public final class Daemon: Sendable {
    public let folder: String
    public let socketPath: String
    public let journalPath: String
    public let ledgerPath: String
    private let state = Mutex<State>(State())

    struct State {
        var process: Process?
        var log = ""
        var earlierLogs = ""
        /// Text awaited, how many times the current run's log must hold it, and who waits.
        var waiters: [(String, Int, CheckedContinuation<Bool, Never>)] = []
        var exited = false
        var generation = 0
    }

    /// A daemon whose files live in a new temporary folder, removed when the test process exits
    /// (`TestFolders`); nothing runs until `start`.
    public init() {
        folder = TestFolders.make("gwd")
        socketPath = folder + "/gatewayd.sock"
        journalPath = folder + "/journal.sqlite"
        ledgerPath = folder + "/paper-broker.jsonl"
    }

    /// The folder holding the built executables: `$GATEWAY_BIN_DIR`, else the test bundle's folder.
    public static var binaryFolder: String {
        if let dir = ProcessInfo.processInfo.environment["GATEWAY_BIN_DIR"], !dir.isEmpty { return dir }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.path + "/gatewayd") { return url.path }
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug"
    }

    /// Writes a paper config (`extraPaper` adds lines under `paper:`) and starts the daemon; returns when
    /// it listens, or `false` when it exited first.
    @discardableResult
    public func start(
        extraPaper: [String] = [], risk: [String] = [], sizing: [String] = [], top: [String] = [],
        environment: [String: String] = [:]
    ) async throws -> Bool {
        try writeConfig(extraPaper: extraPaper, risk: risk, sizing: sizing, top: top)
        return try await launch(["--config", configPath], environment: environment)
    }

    /// Writes the paper config `start` uses, without starting anything.
    public func writeConfig(
        extraPaper: [String] = [], risk: [String] = [], sizing: [String] = [], top: [String] = []
    ) throws {
        // Tests run many daemons at once: no metrics port unless the test asks for one.
        let metrics = top.contains { $0.hasPrefix("metrics_listen:") } ? [] : ["metrics_listen: off"]
        // Tests trade at any hour unless they set a calendar of their own.
        let calendar = extraPaper.contains { $0.hasPrefix("calendar:") } ? [] : ["calendar: always_open"]
        let config = """
            \((metrics + top).joined(separator: "\n"))
            socket: \(socketPath)
            journal: \(journalPath)
            log_level: info
            accounts:
              - name: paper
                broker: paper
                starting_cash: "100000"
                paper:
                  ledger: \(ledgerPath)
            \((calendar + extraPaper).map { "      " + $0 }.joined(separator: "\n"))
            \(risk.isEmpty ? "" : "    risk:\n" + risk.map { "      " + $0 }.joined(separator: "\n"))
            \(sizing.isEmpty ? "" : "    sizing:\n" + sizing.map { "      " + $0 }.joined(separator: "\n"))
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// The paper config `start` writes, for a test that launches the daemon another way.
    public var configPath: String { folder + "/gatewayd.yaml" }

    /// Starts the binary (or `executable`, which runs it: `systemd-socket-activate`) with these
    /// arguments; returns when the log shows `until` (by default: the daemon listens; `nil`: at once),
    /// or `false` if it exited first.
    public func launch(
        _ arguments: [String], environment: [String: String] = [:], executable: String? = nil,
        until: String? = "[ControlServer] listening"
    ) async throws -> Bool {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.executableURL = URL(fileURLWithPath: executable ?? Self.binaryFolder + "/gatewayd")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let generation = state.withLock {
            $0.generation += 1
            $0.process = process
            $0.exited = false
            $0.earlierLogs += $0.log
            $0.log = ""
            return $0.generation
        }
        process.terminationHandler = { [weak self] ended in self?.finished(ended) }
        try process.run()
        let handle = pipe.fileHandleForReading
        let reader = Thread { [weak self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                self?.append(String(decoding: data, as: UTF8.self), generation: generation)
            }
        }
        reader.start()
        guard let until else { return true }
        return await waitForLog(until)
    }

    /// Returns when the current run's log contains `text` at least `times` times (true), or when the
    /// daemon exits first (false).
    public func waitForLog(_ text: String, times: Int = 1) async -> Bool {
        await withCheckedContinuation { continuation in
            let answer: Bool? = state.withLock { state in
                if Self.count(text, in: state.log) >= times { return true }
                if state.exited { return false }
                state.waiters.append((text, times, continuation))
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    /// How many times the current run's log holds `text`.
    public func logCount(_ text: String) -> Int { state.withLock { Self.count(text, in: $0.log) } }

    static func count(_ text: String, in log: String) -> Int { log.components(separatedBy: text).count - 1 }

    /// Everything the daemon wrote to stderr, over every start.
    public var log: String { state.withLock { $0.earlierLogs + $0.log } }

    private func append(_ text: String, generation: Int) {
        let ready = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard state.generation == generation else {
                state.earlierLogs += text
                return []
            }
            state.log += text
            let (met, waiting) = state.waiters.reduce(
                into: ([CheckedContinuation<Bool, Never>](), [(String, Int, CheckedContinuation<Bool, Never>)]())
            ) {
                if Self.count($1.0, in: state.log) >= $1.1 { $0.0.append($1.2) } else { $0.1.append($1) }
            }
            state.waiters = waiting
            return met
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    private func finished(_ ended: Process) {
        let waiting = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            // An earlier run's exit, reported late, says nothing about the current one.
            guard state.process === ended else { return [] }
            state.exited = true
            defer { state.waiters = [] }
            return state.waiters.map(\.2)
        }
        for continuation in waiting { continuation.resume(returning: false) }
    }

    /// Sends `signal` and returns at once.
    public func send(signal: Int32) {
        if let process = state.withLock({ $0.process }), process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Sends `signal` and returns the exit status (or the signal that ended it, negated).
    @discardableResult
    public func stop(signal: Int32 = 15) async -> Int32 {
        guard let process = state.withLock({ $0.process }) else { return 0 }
        if process.isRunning { kill(process.processIdentifier, signal) }
        return await Self.exitStatus(of: process)
    }

    /// Waits for the daemon to exit by itself and returns its status (negated signal when killed).
    public func waitForExit() async -> Int32 {
        guard let process = state.withLock({ $0.process }) else { return 0 }
        return await Self.exitStatus(of: process)
    }

    static func exitStatus(of process: Process) async -> Int32 {
        await offPool {
            process.waitUntilExit()
            return process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
        }
    }

    deinit {
        // A test that failed before stopping its daemon must not leave it running.
        if let process = state.withLock({ $0.process }), process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Runs `gatewayctl` with `--socket` pointing at this daemon.
    public func ctl(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
        try await Self.run(Self.binaryFolder + "/gatewayctl", arguments + ["--socket", socketPath])
    }

    /// Runs a program to its end and returns its status and output.
    public static func run(_ path: String, _ arguments: [String]) async throws -> (
        status: Int32, out: String, err: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return await offPool {
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (
                process.terminationStatus, String(decoding: stdout, as: UTF8.self),
                String(decoding: stderr, as: UTF8.self)
            )
        }
    }
}

/// Runs blocking work on a thread of its own, so that it never holds one of the few cooperative threads.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}
