import Foundation

/// The `fix-echo` executable started for a test on a free port.
public final class FixEchoProcess: @unchecked Sendable {
    // The process handle is only read after start; stop is idempotent.
    private let process: Process
    /// The port it listens on.
    public let port: Int

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts `fix-echo --port 0` with the project's dictionaries and waits (off the cooperative pool)
    /// for its listening line.
    public static func start(arguments: [String] = []) async throws -> FixEchoProcess {
        try await offPool { try startBlocking(arguments: arguments) }
    }

    private static func startBlocking(arguments: [String]) throws -> FixEchoProcess {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Daemon.binaryFolder + "/fix-echo")
        process.arguments =
            ["--port", "0", "--dictionaries", root.appendingPathComponent("config/fix").path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line: [UInt8] = []
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            guard let first = byte.first else { break }
            if first == UInt8(ascii: "\n") { break }
            line.append(first)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let port = text.split(separator: ":").last.flatMap({ Int($0) }) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "fix-echo said: \(text)"])
        }
        return FixEchoProcess(process: process, port: port)
    }

    /// Stops the process.
    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
