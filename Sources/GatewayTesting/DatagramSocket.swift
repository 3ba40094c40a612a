import Foundation
import Glibc

/// A bound `AF_UNIX` datagram socket standing in for one of systemd's: the notify socket, or journald's
/// socket for native entries. Receives wait on the datagram itself (at most 30 s, or `within`).
public final class DatagramSocket: Sendable {
    public let path: String
    let fd: Int32
    /// The folder made for the socket by `init()`, removed with it.
    let folder: String?

    public struct BindFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Binds `path`.
    public convenience init(path: String) throws {
        try self.init(path: path, folder: nil)
    }

    /// Binds a socket in a new temporary folder of its own.
    public convenience init() throws {
        let folder = NSTemporaryDirectory() + "sd-" + String(UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try self.init(path: folder + "/sock", folder: folder)
    }

    private init(path: String, folder: String?) throws {
        self.path = path
        self.folder = folder
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        var limit = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard bound == 0 else { throw BindFailure(description: "cannot bind \(path)") }
    }

    /// The next datagram's bytes if one arrives within `milliseconds` (30 s when `nil`), else `nil`.
    public func receiveBytes(within milliseconds: Int32? = nil) async -> [UInt8]? {
        let fd = self.fd
        return await offPool {
            if let milliseconds {
                var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&waiting, 1, milliseconds) == 1 else { return nil }
            }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count > 0 ? Array(buffer[..<count]) : nil
        }
    }

    /// The next datagram as text, or `nil` after 30 s without one.
    public func receive() async -> String? {
        await receiveBytes().map { String(decoding: $0, as: UTF8.self) }
    }

    /// The next datagram if one arrives within `milliseconds`, else `nil`.
    public func receive(within milliseconds: Int32) async -> String? {
        await receiveBytes(within: milliseconds).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Datagrams until one starts with `prefix` (returned); `nil` if none comes within 30 s.
    public func receive(startingWith prefix: String) async -> String? {
        while let datagram = await receive() {
            if datagram.hasPrefix(prefix) { return datagram }
        }
        return nil
    }

    deinit {
        close(fd)
        unlink(path)
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
    }
}
