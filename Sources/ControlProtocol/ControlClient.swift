import Foundation
import Glibc

/// A blocking client of the gateway's socket, for `gatewayctl`, benchmarks and tests: one connection,
/// one line at a time. Requests get increasing numeric ids; `request` skips pushed events until the
/// answer with its id arrives.
public final class ControlClient {
    /// Why the client could not talk to the daemon.
    public enum Failure: Error, CustomStringConvertible {
        /// No daemon is listening at the path.
        case unreachable(path: String, reason: String)
        /// The connection broke.
        case io(String)
        /// The daemon sent something that is not a JSON object line.
        case malformed(String)

        public var description: String {
            switch self {
            case .unreachable(let path, let reason): "cannot reach gatewayd at \(path): \(reason)"
            case .io(let reason): "connection to gatewayd failed: \(reason)"
            case .malformed(let line): "gatewayd sent a line that is not a JSON object: \(line.prefix(200))"
            }
        }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []
    private var nextID = 1
    public let path: String

    /// Connects to the Unix socket at `path`. With `timeoutSeconds`, a read or write that waits longer
    /// fails with `.io` instead of blocking for ever.
    public init(socketPath path: String, timeoutSeconds: Int? = nil) throws(Failure) {
        self.path = path
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw .unreachable(path: path, reason: "the socket path is too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .unreachable(path: path, reason: String(cString: strerror(errno))) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw .unreachable(path: path, reason: reason)
        }
        if let timeoutSeconds {
            var limit = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    /// Sends one line (a newline is added).
    public func send(_ line: String) throws(Failure) {
        var data = Array(line.utf8)
        data.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < data.count {
            // MSG_NOSIGNAL: a daemon that went away is an error to report, not a SIGPIPE that kills the caller.
            let written = data[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(String(cString: strerror(errno)))
            }
            offset += written
        }
    }

    /// The next line from the daemon, without its newline; `nil` when the daemon closed the connection.
    public func readLine() throws(Failure) -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .io("no answer within the time limit") }
                throw .io(String(cString: strerror(errno)))
            }
            if count == 0 {
                guard !buffer.isEmpty else { return nil }
                let line = String(decoding: buffer, as: UTF8.self)
                buffer.removeAll()
                return line
            }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// The next line parsed as a JSON object; `nil` at the end of the stream.
    public func readObject() throws(Failure) -> [String: Any]? {
        guard let line = try readLine() else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw .malformed(line)
        }
        return object
    }

    /// Sends `fields` with `op` and a fresh id; returns the answer with that id. Events pushed meanwhile
    /// go to `onEvent`.
    public func request(
        _ op: String, _ fields: [String: Any] = [:], onEvent: ([String: Any]) -> Void = { _ in }
    ) throws(Failure) -> [String: Any] {
        let id = nextID
        nextID += 1
        var object = fields
        object["op"] = op
        object["id"] = id
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]) else {
            throw .malformed("cannot encode the request")
        }
        try send(String(decoding: data, as: UTF8.self))
        while true {
            guard let answer = try readObject() else { throw .io("gatewayd closed the connection") }
            if answer["event"] != nil {
                onEvent(answer)
                continue
            }
            if (answer["id"] as? Int) == id { return answer }
            if answer["id"] is NSNull { return answer }
        }
    }
}
