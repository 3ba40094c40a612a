import ControlProtocol
import Foundation
import GatewayTesting
import Glibc
import Testing

extension EndToEnd {
    /// Roles from SO_PEERCRED, end to end: a client running as another user (`nobody`, through
    /// `setpriv`, when the tests run as root; else the test's own user, which is then not root) gets the
    /// role `access:` gives its uid, is refused verbs above it with `unauthorized`, and every refusal is
    /// journaled. A reload of `access:` applies to the next request.
    @Suite(.timeLimit(.minutes(2)))
    struct AccessTests {
        static let asRoot = getuid() == 0
        /// The uid the other client runs as.
        static let otherUID: UInt32 = asRoot ? 65_534 : getuid()

        /// gatewayctl as the other user.
        static func ctl(_ daemon: Daemon, _ arguments: [String]) async throws -> (
            status: Int32, out: String, err: String
        ) {
            let ctl = Daemon.binaryFolder + "/gatewayctl"
            let socket = ["--socket", daemon.socketPath]
            guard asRoot else { return try await Daemon.run(ctl, arguments + socket) }
            return try await Daemon.run(
                "/usr/bin/setpriv",
                ["--reuid=\(otherUID)", "--regid=\(otherUID)", "--clear-groups", ctl] + arguments + socket)
        }

        static func config(role: String) -> [String] {
            ["socket_mode: \"0666\"", "access:", "  \(role):", "    users: [\"\(otherUID)\"]"]
        }

        @Test func aViewerReadsButCannotTradeAndEachRefusalIsJournaled() async throws {
            let daemon = try await startedDaemon(top: Self.config(role: "viewer"))
            let hello = try await Self.ctl(daemon, ["hello"])
            #expect(hello.status == 0, "\(hello)")
            #expect(hello.out.contains("role: viewer"), "\(hello.out)")
            let status = try await Self.ctl(daemon, ["status"])
            #expect(status.status == 0, "\(status)")

            let buy = try await Self.ctl(daemon, ["buy", "AAPL", "1"])
            #expect(buy.status == 1)
            #expect(buy.err.contains("refused (unauthorized): 'submit' needs role trader"), "\(buy.err)")
            #expect(buy.err.contains("has role viewer (journaled as event"), "\(buy.err)")
            let halt = try await Self.ctl(daemon, ["halt"])
            #expect(halt.status == 1)
            #expect(halt.err.contains("'halt' needs role admin"), "\(halt.err)")

            let client = try ControlClient(socketPath: daemon.socketPath)
            let journal = try client.request("journal", ["kinds": ["access_denied"]])
            let events = journal["events"] as? [[String: Any]] ?? []
            #expect(events.map { $0["op"] as? String } == ["submit", "halt"], "\(journal)")
            #expect(events.first?["uid"] as? Int == Int(Self.otherUID))
            #expect(events.first?["role"] as? String == "viewer")
            #expect(events.first?["required"] as? String == "trader")
            #expect(events.first?["pid"] as? Int ?? 0 > 0)
            let orders = try client.request("orders", ["status": "all"])
            #expect((orders["orders"] as? [Any])?.isEmpty == true, "a refused order reached the engine: \(orders)")
            #expect(await daemon.stop() == 0)
        }

        @Test func aPeerNoRuleNamesMayOnlySayHello() async throws {
            let daemon = try await startedDaemon(
                top: ["socket_mode: \"0666\"", "access:", "  admin:", "    users: [\"0\"]"])
            guard Self.asRoot else {
                #expect(await daemon.stop() == 0)
                return  // the test's own user is root's only stand-in here, and root is always admin
            }
            let hello = try await Self.ctl(daemon, ["hello"])
            #expect(hello.status == 0)
            #expect(hello.out.contains("role: none"), "\(hello.out)")
            let orders = try await Self.ctl(daemon, ["orders"])
            #expect(orders.status == 1)
            #expect(orders.err.contains("'orders' needs role viewer; nobody has no role"), "\(orders.err)")
            #expect(await daemon.stop() == 0)
        }

        @Test func aReloadedRoleAppliesToTheNextRequest() async throws {
            let daemon = try await startedDaemon(top: Self.config(role: "viewer"))
            #expect(try await Self.ctl(daemon, ["buy", "AAPL", "1"]).status == 1)
            try daemon.writeConfig(top: Self.config(role: "trader"))
            daemon.send(signal: SIGHUP)
            #expect(await daemon.waitForLog("reloaded"), "\(daemon.log)")
            let buy = try await Self.ctl(daemon, ["buy", "AAPL", "1"])
            #expect(buy.status == 0, "\(buy)")
            let halt = try await Self.ctl(daemon, ["halt"])
            #expect(halt.err.contains("'halt' needs role admin; "), "\(halt.err)")
            let client = try ControlClient(socketPath: daemon.socketPath)
            let journal = try client.request("journal", ["kinds": ["config_reloaded"]])
            let events = journal["events"] as? [[String: Any]] ?? []
            #expect(events.count == 1)
            #expect(events.first?["requested_by"] as? String == "SIGHUP")
            #expect(events.first?["applied"] as? [String] == ["access: roles"], "\(journal)")
            #expect(await daemon.stop() == 0)
        }
    }
}
