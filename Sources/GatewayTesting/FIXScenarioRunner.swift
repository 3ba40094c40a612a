import FIXCodec
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Plays QuickFIX acceptance scenarios against an acceptor over TCP, as QuickFIX's own runner does:
/// sends the `I` lines with `<TIME>` filled in and BodyLength/CheckSum added where the line has none,
/// and compares each received message with its `E` line field by field (the tags of `fields.fmt`
/// by pattern, found anywhere in the value as the suite's own runner matches them; every other value
/// and BodyLength exactly).
public struct FIXScenarioRunner: Sendable {
    /// The outcome of one scenario.
    public struct Result: Sendable, CustomStringConvertible {
        /// The scenario's name.
        public var name: String
        /// Nil when it passed; else the line, and what was expected and what happened.
        public var failure: String?
        /// Whether every step went as scripted.
        public var passed: Bool { failure == nil }

        public var description: String { passed ? "PASS \(name)" : "FAIL \(name): \(failure ?? "")" }
    }

    let host: String
    let port: Int
    let patterns: [Int: String]
    let timeout: Duration

    /// A runner against `host`:`port`, matching the tags of `fieldsFormat` (the text of `fields.fmt`)
    /// by pattern, waiting at most `timeout` for each expected message or disconnect.
    public init(host: String = "127.0.0.1", port: Int, fieldsFormat: String, timeout: Duration = .seconds(20)) {
        self.host = host
        self.port = port
        self.timeout = timeout
        var patterns: [Int: String] = [:]
        for line in fieldsFormat.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "="), let tag = Int(line[..<equals]) else { continue }
            patterns[tag] = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        }
        self.patterns = patterns
    }

    /// Plays `scenario` on a thread of its own (its socket reads block) and reports how it went.
    public func run(_ scenario: FIXScenario) async -> Result {
        let runner = self
        return await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: runner.runBlocking(scenario)) }.start()
        }
    }

    /// Plays `scenario` on the calling thread, blocking it.
    public func runBlocking(_ scenario: FIXScenario) -> Result {
        var connections: [Int: ScenarioConnection] = [:]
        defer { connections.values.forEach { $0.close() } }
        for (line, step) in scenario.steps {
            switch step {
            case .connect(let number):
                do {
                    connections[number] = try ScenarioConnection(host: host, port: port)
                } catch {
                    return Result(name: scenario.name, failure: "line \(line): cannot connect: \(error)")
                }
            case .disconnect(let number):
                connections[number]?.closeAndAwaitPeer(timeout: timeout)
                connections[number] = nil
            case .expectConnected(let number):
                if connections[number] == nil {
                    return Result(name: scenario.name, failure: "line \(line): connection \(number) is not open")
                }
            case .expectDisconnect(let number):
                guard let connection = connections[number] else { continue }
                switch connection.awaitMessageOrClose(timeout: timeout) {
                case .closed:
                    connections[number] = nil
                case .message(let received):
                    return Result(
                        name: scenario.name,
                        failure: "line \(line): expected a disconnect, received \(Self.readable(received))")
                case .timedOut:
                    return Result(name: scenario.name, failure: "line \(line): expected a disconnect, none came")
                }
            case .send(let number, let text):
                guard let connection = connections[number] else {
                    return Result(name: scenario.name, failure: "line \(line): connection \(number) is not open")
                }
                connection.send(Self.prepare(text, now: Date()))
            case .expect(let number, let text):
                guard let connection = connections[number] else {
                    return Result(name: scenario.name, failure: "line \(line): connection \(number) is not open")
                }
                switch connection.awaitMessageOrClose(timeout: timeout) {
                case .message(let received):
                    if let mismatch = mismatch(expected: Self.completed(text), received: received) {
                        return Result(
                            name: scenario.name,
                            failure:
                                "line \(line): \(mismatch)\n  expected \(Self.readable(Array(text.utf8)))\n  received \(Self.readable(received))"
                        )
                    }
                case .closed:
                    connections[number] = nil
                    return Result(
                        name: scenario.name,
                        failure: "line \(line): expected \(Self.readable(Array(text.utf8))), the acceptor disconnected")
                case .timedOut:
                    return Result(
                        name: scenario.name,
                        failure: "line \(line): expected \(Self.readable(Array(text.utf8))), nothing came")
                }
            }
        }
        for connection in connections.values { connection.closeAndAwaitPeer(timeout: timeout) }
        connections.removeAll()
        return Result(name: scenario.name, failure: nil)
    }

    private func mismatch(expected text: String, received: [UInt8]) -> String? {
        let expected = Self.fields(Array(text.utf8))
        let actual = Self.fields(received)
        guard expected.count == actual.count else {
            return "expected \(expected.count) fields, received \(actual.count)"
        }
        for (want, got) in zip(expected, actual) {
            guard want.tag == got.tag else { return "expected tag \(want.tag), received tag \(got.tag)" }
            if let pattern = Int(want.tag).flatMap({ patterns[$0] }) {
                guard let regex = try? Regex(pattern), (try? regex.firstMatch(in: got.value)) != nil else {
                    return "tag \(got.tag)=\(got.value) does not match \(pattern)"
                }
            } else if want.value != got.value {
                return "tag \(want.tag): expected \(want.value), received \(got.value)"
            }
        }
        return nil
    }

    static func fields(_ bytes: [UInt8]) -> [(tag: String, value: String)] {
        bytes.split(separator: 1, omittingEmptySubsequences: true).map { field in
            let equals = field.firstIndex(of: UInt8(ascii: "=")) ?? field.endIndex
            let value = equals < field.endIndex ? field[(equals + 1)...] : []
            return (String(decoding: field[..<equals], as: UTF8.self), String(decoding: value, as: UTF8.self))
        }
    }

    static func readable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 == 1 ? UInt8(ascii: "|") : $0 }, as: UTF8.self)
    }

    /// The bytes to send for an `I` line: `<TIME>`, `<TIME+N>`, `<TIME-N>` filled with the UTC time,
    /// BodyLength inserted after BeginString when absent, CheckSum appended when absent.
    static func prepare(_ text: String, now: Date) -> [UInt8] {
        var text = text
        while let open = text.range(of: "<TIME"), let close = text[open.upperBound...].firstIndex(of: ">") {
            let offset = Int(text[open.upperBound..<close].replacingOccurrences(of: "+", with: "")) ?? 0
            text.replaceSubrange(open.lowerBound...close, with: timestamp(now.addingTimeInterval(Double(offset))))
        }
        var fields = text.split(separator: "\u{01}", omittingEmptySubsequences: true).map(String.init)
        if !fields.contains(where: { $0.hasPrefix("9=") }) {
            let length = fields.dropFirst().filter { !$0.hasPrefix("10=") }.reduce(0) { $0 + $1.utf8.count + 1 }
            fields.insert("9=\(length)", at: min(1, fields.count))
        }
        let checkSum = fields.last?.hasPrefix("10=") == true ? fields.removeLast() : nil
        var bytes = Array((fields.joined(separator: "\u{01}") + "\u{01}").utf8)
        if let checkSum {
            bytes += Array((checkSum + "\u{01}").utf8)
        } else {
            let sum = bytes.reduce(0) { ($0 + Int($1)) % 256 }
            bytes += Array(String(format: "10=%03d\u{01}", sum).utf8)
        }
        return bytes
    }

    /// An `E` line with BodyLength and CheckSum added where it has none (their values are then those
    /// of the expected text, compared as the received ones are).
    static func completed(_ text: String) -> String {
        return String(decoding: prepare(text, now: Date()), as: UTF8.self)
    }

    static func timestamp(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d%02d%02d-%02d:%02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
            parts.tm_min, parts.tm_sec)
    }
}

/// One blocking TCP connection of the scenario driver, framing what it reads with ``FIXFramer``.
final class ScenarioConnection: @unchecked Sendable {
    // Used by one runner thread at a time; not shared.
    enum Event {
        case message([UInt8])
        case closed
        case timedOut
    }

    private var socket: Int32
    private var framer = FIXFramer()
    private var peerClosed = false

    init(host: String, port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.EMFILE) }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(socket)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED)
        }
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { return }
            offset += written
        }
    }

    func awaitMessageOrClose(timeout: Duration) -> Event {
        let deadline = ContinuousClock.now + timeout
        while true {
            while let frame = framer.next() {
                if case .message(let range) = frame { return .message(Array(framer.buffer[range])) }
            }
            if peerClosed { return .closed }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return .timedOut }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(
                remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            guard poll(&descriptor, 1, max(1, milliseconds)) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                peerClosed = true
            } else {
                framer.append(chunk[0..<count])
            }
        }
    }

    /// Half-closes and waits for the acceptor to close its side, so that the next connection for the
    /// same session does not race this one's teardown.
    func closeAndAwaitPeer(timeout: Duration) {
        shutdown(socket, Int32(SHUT_WR))
        while !peerClosed {
            if case .timedOut = awaitMessageOrClose(timeout: timeout) { break }
        }
        close()
    }

    func close() {
        if socket >= 0 { Glibc.close(socket) }
        socket = -1
    }
}
