public import GatewayCore

/// Why the engine refused a request. `code` is the protocol's error code (PROTOCOL.md "Errors").
public struct EngineError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case badRequest = "bad_request"
        case riskRejected = "risk_rejected"
        /// The trading state forbids it.
        case halted
        case unknownAccount = "unknown_account"
        case unknownOrder = "unknown_order"
        /// The order's state does not allow the request (cancel a filled order).
        case invalidState = "invalid_state"
        case notSupported = "not_supported"
        case brokerUnavailable = "broker_unavailable"
        case unavailable = "unavailable"
        case `internal`
    }

    public var code: Code
    public var message: String
    /// The request field at fault, for `bad_request`.
    public var field: String?
    /// Every failed pre-trade check, for `risk_rejected`.
    public var checks: [RiskFailure]?
    /// The order as journaled, for `risk_rejected`.
    public var order: Order?

    public init(
        _ code: Code, _ message: String, field: String? = nil, checks: [RiskFailure]? = nil, order: Order? = nil
    ) {
        self.code = code
        self.message = message
        self.field = field
        self.checks = checks
        self.order = order
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static func badRequest(_ field: String, _ message: String) -> EngineError {
        EngineError(.badRequest, message, field: field)
    }
}
