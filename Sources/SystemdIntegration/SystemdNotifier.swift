import Glibc

/// systemd's notify protocol (sd_notify(3)), spoken by hand: one datagram to the `AF_UNIX` socket named
/// by `$NOTIFY_SOCKET` (a path, or `@` for the abstract namespace). A documented protocol of a few lines,
/// so a build needs neither libsystemd nor its -dev package. Without `$NOTIFY_SOCKET` nothing is sent.
public struct SystemdNotifier: Sendable {
    /// The notify socket, or `nil` when not run by systemd with `Type=notify`.
    public let path: String?

    public init(environment: [String: String]) {
        path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sends `lines` (for example `READY=1`) as one datagram; returns whether it was sent.
    @discardableResult
    public func send(_ lines: [String]) -> Bool {
        guard let path else { return false }
        return UnixDatagram.send(Array(lines.joined(separator: "\n").utf8), to: path)
    }
}

/// One datagram to a Unix socket path (a leading `@` names the abstract namespace).
enum UnixDatagram {
    static func send(_ message: [UInt8], to path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes {
                    sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        return sent == message.count
    }
}
