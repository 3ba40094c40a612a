import ControlProtocol
import Foundation
import GRDB
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
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
        }
    }

    /// The next datagram if one arrives within `milliseconds`, else `nil`.
    func receive(within milliseconds: Int32) async -> String? {
        let fd = self.fd
        return await offPool {
            var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, milliseconds) == 1 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
        }
    }

    /// Datagrams until one starts with `prefix` (returned); `nil` if none comes within 30 s.
    func receive(startingWith prefix: String) async -> String? {
        while let datagram = await receive() {
            if datagram.hasPrefix(prefix) { return datagram }
        }
        return nil
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct SystemdNotifyTests {
        @Test func extendsTheStartThenTellsReadyWithAStatusThenStopping() async throws {
            let daemon = Daemon()
            let notify = try NotifySocket(path: daemon.folder + "/notify.sock")
            try #require(
                try await daemon.start(environment: ["NOTIFY_SOCKET": notify.path]), "did not start:\n\(daemon.log)")
            let extend = try #require(await notify.receive())
            #expect(extend.hasPrefix("EXTEND_TIMEOUT_USEC=15000000\nSTATUS=recovering the journal"))
            let ready = try #require(await notify.receive(startingWith: "READY=1"))
            let lines = ready.split(separator: "\n").map(String.init)
            #expect(lines.count == 2)
            #expect(lines.last?.hasPrefix("STATUS=trading · paper: active, connected, 0 open · journal seq ") == true)
            #expect(await daemon.stop() == 0)
            let stopping = try #require(await notify.receive())
            #expect(stopping.hasPrefix("STOPPING=1\nSTATUS=stopping"))
        }

        /// READY, WATCHDOG and STOPPING in order; and WATCHDOG=1 comes only from the engine's own
        /// progress: with the journal's write lock held by the test, an order's commit waits, the
        /// engine's ping waits behind it, and the pings stop; when the lock is released the order is
        /// accepted and the pings resume.
        @Test func aStalledEngineStopsTheWatchdogPings() async throws {
            let daemon = Daemon()
            let notify = try NotifySocket(path: daemon.folder + "/notify.sock")
            try #require(
                try await daemon.start(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"]),
                "did not start:\n\(daemon.log)")
            _ = try #require(await notify.receive(startingWith: "READY=1"))
            for _ in 0..<3 {
                let ping = try #require(await notify.receive(startingWith: "WATCHDOG=1"))
                #expect(ping.contains("STATUS=trading · paper: active"))
            }
            // A ping slow for the machine's own reasons may already have logged a stall: wait for a new one.
            let stallsBefore = daemon.logCount("has not answered the watchdog ping")
            var holding = Configuration()
            holding.allowsUnsafeTransactions = true  // the test holds the write lock across accesses
            let journal = try DatabaseQueue(path: daemon.journalPath, configuration: holding)
            try await journal.writeWithoutTransaction { try $0.execute(sql: "BEGIN IMMEDIATE") }
            let socket = daemon.socketPath
            let submitted = Task {
                await offPool {
                    let client = try? ControlClient(socketPath: socket)
                    let answer = try? client?.request(
                        "submit",
                        [
                            "account": "paper", "client_order_id": "stall-1", "symbol": "AAPL", "side": "buy",
                            "qty": "1", "type": "market",
                        ])
                    return answer.map { $0.order["status"] as? String ?? "\($0)" } ?? "no answer"
                }
            }
            #expect(
                await daemon.waitForLog("has not answered the watchdog ping", times: stallsBefore + 1),
                "no stall seen:\n\(daemon.log)")
            // Pings sent before the stall was noticed are already queued; none may come after it.
            for _ in 0..<20 where await notify.receive(within: 0) != nil {}
            var during: [String] = []
            while during.count < 10, let late = await notify.receive(within: 1_000) { during.append(late) }
            #expect(!during.contains { $0.hasPrefix("WATCHDOG=1") }, "pings went on while the engine was stalled")
            try await journal.writeWithoutTransaction { try $0.execute(sql: "COMMIT") }
            #expect(await submitted.value == "accepted")
            #expect(await daemon.waitForLog("the engine answers again", times: stallsBefore + 1))
            _ = try #require(await notify.receive(startingWith: "WATCHDOG=1"))
            try journal.close()
            #expect(await daemon.stop() == 0)
            // After the pings, STOPPING=1 comes last.
            let stopping = try #require(await notify.receive(startingWith: "STOPPING=1"))
            #expect(stopping.contains("STATUS=stopping"))
        }
    }
}
