/// A broker failure, classified by what the engine may do next (STYLE.md §9).
public struct BrokerError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Nothing reached the broker; the same request may be tried again (rate limit, connection refused).
        case retryable
        /// The broker refused the request; trying again will not help (invalid order, insufficient funds).
        case nonRetryable = "non_retryable"
        /// The connection or credentials are unusable; stop trading on this account.
        case fatal
        /// The request may or may not have reached the broker (a timeout): never a rejection, and never
        /// a reason to send again without asking the broker first.
        case unknownOutcome = "unknown_outcome"
    }

    public var kind: Kind
    /// A stable code (`not_connected`, `timeout`, `insufficient_funds`, or the broker's own).
    public var code: String
    public var message: String

    public init(_ kind: Kind, code: String, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "\(kind.rawValue) \(code): \(message)" }

    /// The adapter is not connected; nothing was sent.
    public static func notConnected(_ broker: String) -> BrokerError {
        BrokerError(.retryable, code: "not_connected", message: "\(broker) is not connected")
    }
}
