import Foundation
import GatewayTesting
import Glibc
import Testing

/// A datagram socket standing in for systemd's notify socket.
final class NotifySocket: Sendable {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
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
        try #require(bound == 0, "cannot bind \(path)")
    }

    /// The next datagram, or `nil` after 30 s without one.
    func receive() async -> String? {
        let fd = self.fd
        return await offPool {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
        }
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct SystemdNotifyTests {
        @Test func tellsSystemdReadyWithAStatusThenStopping() async throws {
            let daemon = Daemon()
            let notify = try NotifySocket(path: daemon.folder + "/notify.sock")
            try #require(
                try await daemon.start(environment: ["NOTIFY_SOCKET": notify.path]), "did not start:\n\(daemon.log)")
            let ready = try #require(await notify.receive())
            let lines = ready.split(separator: "\n").map(String.init)
            #expect(lines.first == "READY=1")
            #expect(lines.count == 2)
            #expect(lines.last?.hasPrefix("STATUS=trading · paper: active, connected, 0 open · journal seq ") == true)
            #expect(await daemon.stop() == 0)
            let stopping = try #require(await notify.receive())
            #expect(stopping.hasPrefix("STOPPING=1\nSTATUS=stopping"))
        }
    }
}
