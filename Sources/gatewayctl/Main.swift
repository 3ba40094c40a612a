import ArgumentParser
import Foundation

/// Exit codes a script can rely on.
enum ExitStatus {
    /// The daemon refused: a rejection or an error answer.
    static let refused: Int32 = 1
    /// The command line was wrong.
    static let usage: Int32 = 2
    /// No daemon at the socket.
    static let unreachable: Int32 = 3
}

@main
enum Main {
    static func main() {
        do {
            var command = try Gatewayctl.parseAsRoot(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data((failure.message + "\n").utf8))
            exit(failure.status)
        } catch {
            let code = Gatewayctl.exitCode(for: error)
            if code == .success || code.rawValue != ExitCode.validationFailure.rawValue {
                Gatewayctl.exit(withError: error)
            }
            FileHandle.standardError.write(Data((Gatewayctl.fullMessage(for: error) + "\n").utf8))
            exit(ExitStatus.usage)
        }
    }
}

/// `gatewayctl [--socket PATH] [--json] <verb> …`: options written before the verb are moved after it,
/// where the verb's own parser reads them.
func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
    var rest = arguments[...]
    var hoisted: [String] = []
    while let first = rest.first {
        if first == "--json" {
            hoisted.append(first)
            rest = rest.dropFirst()
        } else if first == "--socket", rest.count >= 2 {
            hoisted += Array(rest.prefix(2))
            rest = rest.dropFirst(2)
        } else if first.hasPrefix("--socket=") {
            hoisted.append(first)
            rest = rest.dropFirst()
        } else {
            break
        }
    }
    guard !hoisted.isEmpty, let verb = rest.first else { return arguments }
    return [verb] + hoisted + Array(rest.dropFirst())
}

/// A failure that ends gatewayctl with a given status and message.
struct CommandFailure: Error {
    var status: Int32
    var message: String
}

struct Gatewayctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatewayctl",
        abstract: "Trade and inspect through a running gatewayd.",
        discussion: """
            Exit codes: 0 done, 1 the daemon refused (printed with its reasons), 2 usage, 3 daemon not reachable.
            The socket is --socket, else $GATEWAYD_SOCKET, else ./var/gatewayd.sock when it exists, else
            /run/gatewayd/gatewayd.sock.
            """,
        subcommands: [
            Hello.self, Buy.self, Sell.self, Cancel.self, Replace.self, CancelAll.self, Orders.self, Positions.self,
            AccountCommand.self, Status.self, QuoteCommand.self, Watch.self, JournalCommand.self, ReportCommand.self,
            Halt.self, Resume.self, Reconcile.self, Reload.self, AlertCommand.self,
        ])
}

/// Options every verb takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The daemon's control socket.")
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's JSON answer instead of a table.")
    var json = false

    var socketPath: String {
        if let socket { return socket }
        if let env = ProcessInfo.processInfo.environment["GATEWAYD_SOCKET"], !env.isEmpty { return env }
        if FileManager.default.fileExists(atPath: "./var/gatewayd.sock") { return "./var/gatewayd.sock" }
        return "/run/gatewayd/gatewayd.sock"
    }
}
