public import ControlProtocol
import Logging

extension AlertDispatcher {
    /// Sends a test message to `name` (every destination when `nil`) now, past the queue and its limits,
    /// and reports what each answered. `nil` when no destination has that name.
    public func sendTest(to name: String?, from host: String) async -> [AlertTestOutcome]? {
        let chosen = lanes.filter { name == nil || $0.destination.name == name }
        guard !chosen.isEmpty else { return nil }
        return await withTaskGroup(of: (Int, AlertTestOutcome).self) { group in
            for (index, lane) in chosen.enumerated() {
                group.addTask {
                    let destination = lane.destination
                    let text = "TEST alert from gatewayd on \(host) to '\(destination.name)': alerts reach you"
                    let request = AlertRequestBuilder.testRequest(to: destination, text: text)
                    let response = await self.transport.post(request, timeout: destination.timeout)
                    var result = AlertTestOutcome(
                        destination: destination.name, kind: destination.service.kind, delivered: false)
                    switch response {
                    case .answered(let status, _, _):
                        result.status = status
                        result.delivered = (200..<300).contains(status)
                        if !result.delivered { result.problem = "HTTP \(status)" }
                    case .failed(let problem):
                        result.problem = self.redacted(problem, lane)
                    }
                    self.logger.notice(
                        "alert test sent",
                        metadata: [
                            "alert.destination": "\(destination.name)", "alert.delivered": "\(result.delivered)",
                            "alert.problem": "\(result.problem ?? "")",
                        ])
                    return (index, result)
                }
            }
            var results: [(Int, AlertTestOutcome)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
