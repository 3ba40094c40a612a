public import ControlProtocol

/// What the control server needs of the alerting to answer `alert_test`; `gatewayd` wires the alert
/// dispatcher to it, so this module does not depend on the alerting's.
public protocol AlertTesting: Sendable {
    /// The configured destinations' names, in configuration order.
    var destinationNames: [String] { get }
    /// Sends a test message now to `destination` (every one when `nil`) and returns what each did.
    /// Called from any task; may take as long as the destinations' timeouts.
    func sendTest(to destination: String?) async -> [AlertTestOutcome]
}
