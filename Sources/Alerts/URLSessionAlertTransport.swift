import Dispatch
import Foundation
import Synchronization
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The platform's HTTP client (URLSession; on Linux, FoundationNetworking over libcurl). Its errors
/// carry the URL, which may embed a secret, so only the error's code is turned into words here.
public struct URLSessionAlertTransport: AlertTransport {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.httpMaximumConnectionsPerHost = 2
        session = URLSession(configuration: configuration)
    }

    public func post(_ request: AlertHTTPRequest, timeout: Duration) async -> AlertHTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = "POST"
        urlRequest.httpBody = request.body
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        let (seconds, attoseconds) = timeout.components
        urlRequest.timeoutInterval = Double(seconds) + Double(attoseconds) / 1e18
        // Not `session.data(for:)`: on Linux its cancellation handler calls into URLSession while the
        // task's status lock is held, and deadlocks against a completion arriving at the same moment
        // (seen here when a flush deadline cancelled a retry). The task is cancelled from another queue.
        let running = Mutex<URLSessionDataTask?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<AlertHTTPResponse, Never>) in
                let task = session.dataTask(with: urlRequest) { body, response, error in
                    continuation.resume(returning: Self.response(body, response, error))
                }
                running.withLock { $0 = task }
                task.resume()
                if Task.isCancelled { Self.cancel(task) }
            }
        } onCancel: {
            if let task = running.withLock({ $0 }) { Self.cancel(task) }
        }
    }

    private static func cancel(_ task: URLSessionDataTask) {
        DispatchQueue.global().async { task.cancel() }
    }

    private static func response(_ body: Data?, _ response: URLResponse?, _ error: (any Error)?) -> AlertHTTPResponse {
        if let error {
            if let error = error as? URLError { return .failed(problem: describe(error.code)) }
            return .failed(problem: "the request failed")
        }
        guard let http = response as? HTTPURLResponse else { return .failed(problem: "not an HTTP answer") }
        return .answered(
            status: http.statusCode, retryAfter: http.value(forHTTPHeaderField: "Retry-After"), body: body ?? Data())
    }

    /// Words for a URLError's code; never its description, which names the URL.
    static func describe(_ code: URLError.Code) -> String {
        switch code {
        case .timedOut: "timed out"
        case .cannotConnectToHost: "connection refused"
        case .cannotFindHost, .dnsLookupFailed: "host not found"
        case .networkConnectionLost: "connection lost"
        case .notConnectedToInternet: "no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            "TLS handshake failed"
        case .badServerResponse: "bad answer from the server"
        case .cancelled: "cancelled"
        default: "network error \(code.rawValue)"
        }
    }
}
