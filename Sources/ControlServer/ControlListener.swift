import ControlProtocol
import Foundation
import Glibc

/// The control socket, listening before the journal is replayed so that a client connecting during a
/// long recovery waits in the listen queue instead of failing: either passed by systemd (socket
/// activation, `gatewayd.socket`) or bound here.
public struct ControlListener: Sendable {
    /// The listening descriptor; the server takes it over.
    public let descriptor: Int32
    public let path: String
    /// Whether the socket file is this daemon's to remove when it stops (not when systemd made it).
    public let ownsPath: Bool

    /// A socket systemd passed; systemd keeps the file and its mode. Its path is read from the socket.
    public static func inherited(_ descriptor: Int32) -> ControlListener {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        var path = "descriptor \(descriptor)"
        if named == 0 {
            path = withUnsafeBytes(of: address.sun_path) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return ControlListener(descriptor: descriptor, path: path, ownsPath: false)
    }

    /// Binds `path` with file mode `mode` and listens. Refuses a path another gatewayd listens on; a
    /// stale socket file left by a crash is replaced.
    public static func bind(path: String, mode: UInt32, backlog: Int32 = 256) throws -> ControlListener {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        if FileManager.default.fileExists(atPath: path) {
            if (try? ControlClient(socketPath: path)) != nil {
                throw ControlServerError("another gatewayd is already listening at \(path)")
            }
            unlink(path)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ControlServerError("the socket path \(path) is longer than a Unix socket path may be (107 bytes)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlServerError("cannot make a socket: \(Self.errorText())") }
        // The file is made with the final mode at once: no moment where it is wider than configured.
        let previous = umask(~mode_t(mode) & 0o777)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        umask(previous)
        guard bound == 0 else {
            let reason = Self.errorText()
            close(fd)
            throw ControlServerError("cannot bind \(path): \(reason)")
        }
        chmod(path, mode_t(mode))
        guard listen(fd, backlog) == 0 else {
            let reason = Self.errorText()
            close(fd)
            unlink(path)
            throw ControlServerError("cannot listen on \(path): \(reason)")
        }
        return ControlListener(descriptor: fd, path: path, ownsPath: true)
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
