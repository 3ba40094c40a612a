import ControlProtocol
import Foundation
import GatewayTesting
import Glibc
import Testing

extension EndToEnd {
    /// Socket activation under `systemd-socket-activate` (Debian's systemd package; `scripts/test`
    /// installs it with the units' checks): systemd's tool binds the socket and starts gatewayd only
    /// when the first client connects, passing the listening socket as descriptor 3. That client waits
    /// in the queue while the daemon starts and replays, then is answered on the passed socket.
    @Suite(.timeLimit(.minutes(2)))
    struct SocketActivationTests {
        static let tool = "/usr/bin/systemd-socket-activate"

        @Test func servesTheSocketSystemdPassesAndLeavesItToSystemd() async throws {
            try #require(
                FileManager.default.isExecutableFile(atPath: Self.tool),
                "\(Self.tool) is missing: apt-get install systemd (scripts/test does)")
            let daemon = Daemon()
            let notify = try DatagramSocket(path: daemon.folder + "/notify.sock")
            try daemon.writeConfig()
            let started = try await daemon.launch(
                [
                    "--listen=\(daemon.socketPath)", "-E", "NOTIFY_SOCKET=\(notify.path)",
                    Daemon.binaryFolder + "/gatewayd", "--config", daemon.configPath,
                ],
                executable: Self.tool, until: "Listening on")
            try #require(started, "systemd-socket-activate did not listen:\n\(daemon.log)")
            #expect(!daemon.log.contains("gatewayd starting"), "gatewayd ran before any client connected")

            // The first client connects before gatewayd exists; it is answered once the daemon is up.
            let client = try ControlClient(socketPath: daemon.socketPath)
            let hello = try client.request("hello", ["client": "activation-test"])
            #expect(hello["ok"] as? Bool == true, "\(hello)")
            // The log is read from a pipe on a thread of its own: wait for the line rather than race it.
            #expect(await daemon.waitForLog("socket.activated=true"), "\(daemon.log)")
            _ = try #require(await notify.receive(startingWith: "READY=1"))
            let order = try client.request(
                "submit",
                [
                    "account": "paper", "client_order_id": "act-1", "symbol": "AAPL", "side": "buy", "qty": "1",
                    "type": "market",
                ])
            #expect(order.order["status"] as? String == "accepted", "\(order)")

            #expect(await daemon.stop() == 0)
            // The socket file is systemd's: the daemon leaves it for the next activation.
            #expect(FileManager.default.fileExists(atPath: daemon.socketPath))
        }

        @Test func refusesADescriptorThatIsNotAListeningUnixSocket() async throws {
            let daemon = Daemon()
            try daemon.writeConfig()
            let started = try await daemon.launch(
                ["--config", daemon.configPath], environment: ["LISTEN_FDS": "1", "LISTEN_PID": "garbage"])
            #expect(!started)
            #expect(daemon.log.contains("LISTEN_PID is missing or not a process id"), "\(daemon.log)")
        }
    }
}
