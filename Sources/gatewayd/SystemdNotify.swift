import ControlServer
import Execution
import Foundation
import GatewayCore
import Glibc
import Logging
import ServiceLifecycle

/// systemd's notify protocol (sd_notify(3)), spoken by hand: one datagram to the `AF_UNIX` socket named
/// by `$NOTIFY_SOCKET` (a path, or `@` for the abstract namespace) — a documented protocol of a few
/// lines, so that a build needs neither libsystemd nor its -dev package. Without `$NOTIFY_SOCKET`
/// nothing is sent.
struct SystemdNotifier: Sendable {
    let path: String?

    init(environment: [String: String]) {
        path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sends `lines` (for example `READY=1`) as one datagram; returns whether it was sent.
    @discardableResult
    func send(_ lines: [String]) -> Bool {
        guard let path else { return false }
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
        let message = Array(lines.joined(separator: "\n").utf8)
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

/// Tells systemd READY=1 once the journal is recovered, the engine has started and the control socket
/// listens, with a STATUS= line a person can read; STOPPING=1 when shutdown begins. Last in the group,
/// so it hears of the shutdown first.
struct SystemdNotifyService: Service {
    let notifier: SystemdNotifier
    let engine: ExecutionEngine
    let server: ControlServer
    let logger: Logger

    func run() async throws {
        for await _ in engine.started { break }
        for await _ in server.listening { break }
        if notifier.send(["READY=1", "STATUS=" + (await statusLine())]) {
            logger.info("told systemd READY=1")
        }
        try? await gracefulShutdown()
        notifier.send(["STOPPING=1", "STATUS=stopping: finishing broker calls in flight"])
    }

    /// "trading · paper: active, connected, 3 open · journal seq 42"
    func statusLine() async -> String {
        guard case .success(let status) = await engine.status() else { return "trading" }
        let accounts = status.accounts.map {
            "\($0.account): \($0.tradingState), \($0.connection), \($0.openOrders) open"
        }
        return "trading · " + accounts.joined(separator: ", ") + " · journal seq \(status.seq)"
    }
}
