import Foundation
import GatewayTesting
import Testing

/// QuickFIX's acceptance suite (117 scenarios, copied into `Fixtures/acceptance` with its license)
/// played against the real `fix-echo` binary over TCP.
@Suite struct AcceptanceSuiteTests {
    static let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test func everyScenarioOfFIX42AndFIX44Passes() async throws {
        let echo = try await FixEchoProcess.start()
        defer { echo.stop() }
        let format = try String(
            contentsOf: Self.shared.appendingPathComponent("acceptance/fields.fmt"), encoding: .utf8)
        let runner = FIXScenarioRunner(port: echo.port, fieldsFormat: format)
        let results = try await withThrowingTaskGroup(of: (String, [FIXScenarioRunner.Result]).self) { group in
            for version in ["fix42", "fix44"] {
                let scenarios = try FIXScenario.load(
                    folder: Self.shared.appendingPathComponent("acceptance/server/\(version)").path)
                group.addTask {
                    var results: [FIXScenarioRunner.Result] = []
                    for scenario in scenarios { results.append(await runner.run(scenario)) }
                    return (version, results)
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for version in ["fix42", "fix44"] {
            let outcomes = results[version] ?? []
            let passed = outcomes.filter(\.passed).count
            print("acceptance \(version): \(passed) of \(outcomes.count) scenarios passed")
            for failure in outcomes where !failure.passed { print(failure) }
            #expect(passed == outcomes.count && !outcomes.isEmpty, "\(version): \(passed) of \(outcomes.count)")
        }
    }
}

extension AcceptanceSuiteTests {
    @Test func closesAConnectionWhoseFirstMessageIsGarbledOrNamesNoSession() async throws {
        let echo = try await FixEchoProcess.start()
        defer { echo.stop() }
        let format = try String(
            contentsOf: Self.shared.appendingPathComponent("acceptance/fields.fmt"), encoding: .utf8)
        let runner = FIXScenarioRunner(port: echo.port, fieldsFormat: format)
        let soh = "\u{01}"
        for first in [
            "8=FIX.4.2\(soh)9=abc\(soh)35=A\(soh)34=1\(soh)49=TW42\(soh)52=<TIME>\(soh)56=ISLD\(soh)10=000\(soh)",
            "8=FIX.4.2\(soh)35=A\(soh)34=1\(soh)49=TW42\(soh)52=<TIME>\(soh)56=ISLD\(soh)98=0\(soh)108=30\(soh)10=999\(soh)",
            "8=FIX.4.3\(soh)35=A\(soh)34=1\(soh)49=TW42\(soh)52=<TIME>\(soh)56=ISLD\(soh)98=0\(soh)108=30\(soh)",
        ] {
            let scenario = FIXScenario(name: "garbled first message", text: "iCONNECT\nI\(first)\neDISCONNECT\n")
            let result = await runner.run(scenario)
            #expect(result.passed, "\(result)")
        }
        // And the acceptor still serves a good logon afterwards.
        let good = FIXScenario(
            name: "logon after garbage",
            text: """
                iCONNECT
                I8=FIX.4.2\(soh)35=A\(soh)34=1\(soh)49=TW42\(soh)52=<TIME>\(soh)56=ISLD\(soh)98=0\(soh)108=30\(soh)
                E8=FIX.4.2\(soh)9=63\(soh)35=A\(soh)34=1\(soh)49=ISLD\(soh)52=00000000-00:00:00.000\(soh)56=TW42\(soh)98=0\(soh)108=30\(soh)10=0\(soh)
                """)
        #expect(await runner.run(good).passed)
    }
}
