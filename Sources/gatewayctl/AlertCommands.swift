import ArgumentParser
import Foundation

struct AlertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert", abstract: "The alert destinations of the config (alerts:).",
        subcommands: [AlertTest.self])
}

/// `gatewayctl alert test [DESTINATION]`: a test message now, past the queue, with what each service said.
struct AlertTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send a test message to one alert destination, or to every one: gatewayctl alert test phone")
    @Argument(help: "The destination's name in the config (default: every destination).") var destination: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let answer = try Session(global).call("alert_test", destination.map { ["destination": $0] } ?? [:])
        let results = answer["results"] as? [[String: Any]] ?? []
        if global.json {
            Output.printJSON(answer)
        } else {
            for result in results {
                let name = result["destination"] as? String ?? "?"
                let kind = result["kind"] as? String ?? "?"
                if result["delivered"] as? Bool == true {
                    let status = (result["status"] as? Int).map { "HTTP \($0)" } ?? "ok"
                    print("\(name) (\(kind)): delivered, \(status)")
                } else {
                    print("\(name) (\(kind)): NOT delivered: \(result["problem"] as? String ?? "unknown problem")")
                }
            }
        }
        if results.contains(where: { $0["delivered"] as? Bool != true }) {
            throw CommandFailure(status: ExitStatus.refused, message: "gatewayctl: not every destination took the test")
        }
    }
}
