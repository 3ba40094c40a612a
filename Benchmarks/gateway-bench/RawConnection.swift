import Foundation
import Glibc

/// A connection to the control socket that sends prepared bytes and reads answer lines into one buffer
/// of its own, without decoding JSON: the benchmark's clients share the machine's cores with the daemon,
/// so what they spend per request is kept small and the same for every mode.
final class RawConnection: @unchecked Sendable {
    // Used by one thread at a time: a writer thread calls `send`, a reader thread `readLine`.
    let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0
    private var end = 0
    /// How many bytes from `start` are known to hold no newline: a long line (`cancel_all`'s answer) is
    /// scanned once as it arrives, not again from its start after every read.
    private var scanned = 0
    /// How long a read waits for an answer before giving up.
    private let timeoutMilliseconds: Int32

    init(socketPath: String, timeoutSeconds: Int = 30) throws {
        timeoutMilliseconds = Int32(timeoutSeconds * 1000)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw BenchError("socket path too long: \(socketPath)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw BenchError("connect \(socketPath): \(reason)")
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // A daemon that stops reading fails the send after the timeout instead of hanging the benchmark.
        var sendTimeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Writes all of `bytes`; false if the socket refused.
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent < 0, errno == EINTR { continue }
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }
    }

    /// Hands the next line (without its newline) to `body`; nil at the end of the stream or a timeout.
    func readLine<T>(_ body: (UnsafeBufferPointer<UInt8>) -> T) -> T? {
        while true {
            if let newline = buffer[(start + scanned)..<end].firstIndex(of: 0x0A) {
                let result = buffer.withUnsafeBufferPointer { all in
                    body(UnsafeBufferPointer(rebasing: all[start..<newline]))
                }
                start = newline + 1
                scanned = 0
                return result
            }
            scanned = end - start
            if start > 0 {
                // Moved in place: a `replaceSubrange` from a slice of the buffer copied all 64 KiB of it
                // for every line (the slice shares its storage), a fifth of the clients' CPU.
                let (from, count) = (start, end - start)
                buffer.withUnsafeMutableBytes { raw in
                    if count > 0 { memmove(raw.baseAddress!, raw.baseAddress! + from, count) }
                }
                end = count
                start = 0
            }
            if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            // Wait in `poll` for input, then read, as the Python client (a socket with a timeout) and
            // every event-loop client do. A `recv` that blocks is woken for nothing whenever the daemon
            // reads this connection's request (the kernel wakes the sending socket's waiters as the
            // request's buffer is freed), and the daemon's thread pays for that wake-up.
            var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&waiting, 1, timeoutMilliseconds)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { return nil }
            let received = buffer.withUnsafeMutableBytes { raw in
                recv(fd, raw.baseAddress! + end, raw.count - end, 0)
            }
            if received < 0, errno == EINTR { continue }
            guard received > 0 else { return nil }
            end += received
        }
    }
}

/// Byte searches in an answer line.
enum Line {
    static let ok = Array(#""ok":true"#.utf8)
    static let clientOrderID = Array(#""client_order_id":""#.utf8)

    static func contains(_ line: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        index(of: needle, in: line) != nil
    }

    /// Where `needle` ends in `line`, or nil.
    static func index(of needle: [UInt8], in line: UnsafeBufferPointer<UInt8>) -> Int? {
        guard line.count >= needle.count else { return nil }
        var at = 0
        while at <= line.count - needle.count {
            if line[at] == needle[0] {
                var matched = 1
                while matched < needle.count, line[at + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return at + matched }
            }
            at += 1
        }
        return nil
    }

    /// The bytes of the string value after `key` (which ends with the opening quote).
    static func value(after key: [UInt8], in line: UnsafeBufferPointer<UInt8>) -> ArraySlice<UInt8>? {
        guard let from = index(of: key, in: line) else { return nil }
        var to = from
        while to < line.count, line[to] != 0x22 { to += 1 }
        return Array(line[from..<to])[...]
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
