public import Foundation

/// One POST to a destination, as the builder makes it and a transport sends it.
public struct AlertHTTPRequest: Sendable, Hashable {
    public var url: URL
    /// Header names and values, in the order sent.
    public var headers: [String: String]
    public var body: Data

    public init(url: URL, headers: [String: String], body: Data) {
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// What came back from one POST.
public enum AlertHTTPResponse: Sendable, Hashable {
    /// The destination answered with this status; `retryAfter` is its Retry-After header, if any.
    case answered(status: Int, retryAfter: String?, body: Data)
    /// No answer: refused, timed out, dropped. `problem` names what happened and never holds the URL.
    case failed(problem: String)

    /// How the delivery ended, in the queue's terms.
    public var outcome: DeliveryQueue.Outcome {
        switch self {
        case .failed(let problem):
            return .retry(after: nil, problem: problem)
        case .answered(let status, let retryAfter, let body):
            switch status {
            case 200..<300:
                return .delivered
            case 429:
                return .retry(
                    after: Self.seconds(retryAfter) ?? Self.bodyRetryAfter(body), problem: "HTTP 429 (rate limited)")
            case 408, 500..<600:
                return .retry(after: status == 503 ? Self.seconds(retryAfter) : nil, problem: "HTTP \(status)")
            default:
                return .refused(problem: "HTTP \(status)")
            }
        }
    }

    /// A Retry-After of delay-seconds (an HTTP date is not honoured: backoff applies then).
    static func seconds(_ header: String?) -> Duration? {
        guard let text = header?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let whole = Int(text), whole >= 0 { return .seconds(whole) }
        if let value = Double(text), value.isFinite, value >= 0 {
            return .milliseconds(Int((value * 1000).rounded(.up)))
        }
        return nil
    }

    /// Discord's `retry_after` (seconds, fractional) or Telegram's `parameters.retry_after` in a 429 body.
    static func bodyRetryAfter(_ body: Data) -> Duration? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        let value = object["retry_after"] ?? (object["parameters"] as? [String: Any])?["retry_after"]
        guard let number = value as? NSNumber else { return nil }
        let seconds = number.doubleValue
        guard seconds.isFinite, seconds >= 0 else { return nil }
        return .milliseconds(Int((seconds * 1000).rounded(.up)))
    }
}

/// Sends one alert request. Implementations never log the URL or the body and never throw: every
/// failure is an `AlertHTTPResponse.failed` naming what happened.
public protocol AlertTransport: Sendable {
    /// POSTs `request`, giving up after `timeout`.
    func post(_ request: AlertHTTPRequest, timeout: Duration) async -> AlertHTTPResponse
}
