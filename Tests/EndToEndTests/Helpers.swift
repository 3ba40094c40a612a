import ControlProtocol
import Foundation
import GatewayTesting
import Testing

/// The JSON object of a line.
func object(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
}

extension [String: Any] {
    var errorCode: String? { (self["error"] as? [String: Any])?["code"] as? String }
    var errorField: String? { ((self["error"] as? [String: Any])?["details"] as? [String: Any])?["field"] as? String }
    var order: [String: Any] { self["order"] as? [String: Any] ?? [:] }
}

/// Sends one raw line and reads one answer line as an object.
func exchange(_ client: ControlClient, _ line: String) throws -> [String: Any] {
    try client.send(line)
    guard let answer = try client.readObject() else { throw ControlClient.Failure.io("closed") }
    return answer
}

/// The `change` of every pushed order event about `orderID`, read until the order reaches one of `statuses`.
func orderChanges(_ watcher: ControlClient, _ orderID: String, until statuses: Set<String>) throws -> [String] {
    var changes: [String] = []
    while let event = try watcher.readObject() {
        guard event.order["order_id"] as? String == orderID else { continue }
        changes.append(event["change"] as? String ?? "?")
        if statuses.contains(event.order["status"] as? String ?? "") { break }
    }
    return changes
}

/// Starts a daemon or fails the test with its log.
func startedDaemon(extraPaper: [String] = [], risk: [String] = [], sizing: [String] = [], top: [String] = [])
    async throws -> Daemon
{
    let daemon = Daemon()
    let binary = Daemon.binaryFolder + "/gatewayd"
    try #require(
        FileManager.default.isExecutableFile(atPath: binary), "build gatewayd first (swift build): no \(binary)")
    let listening = try await daemon.start(extraPaper: extraPaper, risk: risk, sizing: sizing, top: top)
    try #require(listening, "gatewayd did not start:\n\(daemon.log)")
    return daemon
}

/// Every end-to-end suite runs inside this one, one test at a time: each test blocks on socket reads
/// and child processes, and two cores' worth of cooperative threads must not all be blocked at once.
@Suite(.serialized) struct EndToEnd {}
