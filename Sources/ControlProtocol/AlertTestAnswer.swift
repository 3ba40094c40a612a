/// What one alert destination did with a test message.
public struct AlertTestOutcome: Sendable, Hashable, Codable {
    public var destination: String
    /// `discord`, `slack`, `telegram` or `webhook`.
    public var kind: String
    public var delivered: Bool
    /// The HTTP status it answered with, if it answered.
    public var status: Int?
    /// Why it was not delivered.
    public var problem: String?

    public init(destination: String, kind: String, delivered: Bool, status: Int? = nil, problem: String? = nil) {
        self.destination = destination
        self.kind = kind
        self.delivered = delivered
        self.status = status
        self.problem = problem
    }
}

/// The answer of `alert_test`: one outcome per destination tried, in configuration order.
public struct AlertTestAnswer: Sendable, Hashable, Codable {
    public var results: [AlertTestOutcome]

    public init(results: [AlertTestOutcome]) { self.results = results }
}
