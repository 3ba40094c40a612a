import Foundation
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
        do {
            let (body, response) = try await session.data(for: urlRequest)
            guard let http = response as? HTTPURLResponse else { return .failed(problem: "not an HTTP answer") }
            return .answered(
                status: http.statusCode, retryAfter: http.value(forHTTPHeaderField: "Retry-After"), body: body)
        } catch let error as URLError {
            return .failed(problem: Self.describe(error.code))
        } catch {
            return .failed(problem: "the request failed")
        }
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
