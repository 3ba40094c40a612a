import Foundation
import GatewayTesting
import Testing

/// QuickFIX's acceptance suite (117 scenarios, copied into `Fixtures/acceptance` with its license)
/// played against the real `fix-echo` binary over TCP.
@Suite struct AcceptanceSuiteTests {
    static let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test func everyScenarioOfFIX42AndFIX44Passes() async throws {
        let echo = try FixEchoProcess.start()
        defer { echo.stop() }
        let format = try String(
            contentsOf: Self.shared.appendingPathComponent("acceptance/fields.fmt"), encoding: .utf8)
        let runner = FIXScenarioRunner(port: echo.port, fieldsFormat: format)
        let results = try await withThrowingTaskGroup(of: (String, [FIXScenarioRunner.Result]).self) { group in
            for version in ["fix42", "fix44"] {
                let scenarios = try FIXScenario.load(
                    folder: Self.shared.appendingPathComponent("acceptance/server/\(version)").path)
                group.addTask { (version, scenarios.map(runner.run)) }
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
