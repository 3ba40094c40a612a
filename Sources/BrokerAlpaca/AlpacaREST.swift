public import BrokerAPI
import Dispatch
public import Foundation
import Synchronization
#if canImport(FoundationNetworking)
    public import FoundationNetworking
#endif

/// One HTTP answer.
public struct AlpacaHTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// How Alpaca is reached; the platform's URLSession in production.
public protocol AlpacaTransport: Sendable {
    /// The answer, or a description of why none came (never naming the URL or a header).
    func send(_ request: URLRequest) async -> Result<AlpacaHTTPResponse, AlpacaTransportFailure>
}

/// No answer: `sent` says whether the request may have left (a timeout or a dropped connection after
/// connecting) or surely did not (the connection was refused, the host not found).
public struct AlpacaTransportFailure: Error, Sendable {
    public var sent: Bool
    public var problem: String
}

/// Alpaca's Trading API v2 over REST: one method per endpoint the adapter uses, each answer decoded,
/// each failure classified for the engine (`AlpacaOutcome`). Requests stay within Alpaca's budget of
/// 200 a minute per key (a request that would exceed it waits for its slot); a 429 all the same is tried
/// again (three attempts in all) after the wait Alpaca names (`Retry-After`, else `X-Ratelimit-Reset`,
/// else 3 s); nothing else is retried here, so a request that may have reached Alpaca is never sent
/// twice by this type. Credentials go in the two `APCA-` headers and nowhere else.
public struct AlpacaREST: Sendable {
    let base: URL
    let keyID: String
    let secret: String
    let transport: any AlpacaTransport
    let sleep: @Sendable (Duration) async -> Void
    let now: @Sendable () -> Date
    let timeout: TimeInterval
    let budget: RequestBudget

    /// `timeout` is each request's limit in whole seconds (the platform's URLSession on Linux drops a
    /// fraction: 0.3 would be no time at all).
    public init(
        base: URL, keyID: String, secret: String, transport: any AlpacaTransport = URLSessionAlpacaTransport(),
        timeout: TimeInterval = 10, requestsPerMinute: Int = 200,
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.budget = RequestBudget(perMinute: requestsPerMinute)
        self.base = base
        self.keyID = keyID
        self.secret = secret
        self.transport = transport
        self.timeout = timeout
        self.sleep = sleep
        self.now = now
    }

    /// `POST /v2/orders`.
    public func submit(_ order: AlpacaOrderRequest) async throws(BrokerError) -> AlpacaOrder {
        try decode(AlpacaOrder.self, try await call("POST", "/v2/orders", body: try encode(order)))
    }

    /// `GET /v2/orders/{id}` (legs nested), or `nil` when Alpaca has no such order.
    public func order(alpacaID: String) async throws(BrokerError) -> AlpacaOrder? {
        try await existingOrder("/v2/orders/\(alpacaID)", query: [URLQueryItem(name: "nested", value: "true")])
    }

    /// `GET /v2/orders:by_client_order_id`, legs nested (a bracket's or a spread's); `nil` when Alpaca has
    /// no such order.
    public func order(clientOrderID: String) async throws(BrokerError) -> AlpacaOrder? {
        try await existingOrder(
            "/v2/orders:by_client_order_id",
            query: [
                URLQueryItem(name: "client_order_id", value: clientOrderID),
                URLQueryItem(name: "nested", value: "true"),
            ])
    }

    /// One order read by `GET path`, or `nil` on Alpaca's 404.
    private func existingOrder(_ path: String, query: [URLQueryItem]) async throws(BrokerError) -> AlpacaOrder? {
        do {
            return try decode(AlpacaOrder.self, try await call("GET", path, query: query))
        } catch  where error.code == "not_found" {
            return nil
        }
    }

    /// `GET /v2/orders?status=open` (up to 500, oldest first).
    public func openOrders() async throws(BrokerError) -> [AlpacaOrder] {
        let query = [
            URLQueryItem(name: "status", value: "open"), URLQueryItem(name: "limit", value: "500"),
            URLQueryItem(name: "direction", value: "asc"), URLQueryItem(name: "nested", value: "true"),
        ]
        return try decode([AlpacaOrder].self, try await call("GET", "/v2/orders", query: query))
    }

    /// `DELETE /v2/orders/{id}`: the request was taken (204); the outcome arrives on the stream.
    public func cancel(alpacaID: String) async throws(BrokerError) {
        _ = try await call("DELETE", "/v2/orders/\(alpacaID)")
    }

    /// `PATCH /v2/orders/{id}`: the new order Alpaca made (its `replaces` is the old id).
    public func replace(alpacaID: String, with changes: AlpacaReplaceRequest) async throws(BrokerError) -> AlpacaOrder {
        try decode(AlpacaOrder.self, try await call("PATCH", "/v2/orders/\(alpacaID)", body: try encode(changes)))
    }

    /// `GET /v2/account`.
    public func account() async throws(BrokerError) -> AlpacaAccount {
        try decode(AlpacaAccount.self, try await call("GET", "/v2/account"))
    }

    /// `GET /v2/account/activities/FILL`: every fill after `after` (exclusive), oldest first, page by
    /// page (100 a page, the next page after the last activity's id), for reconciliation.
    public func fills(after: Date?) async throws(BrokerError) -> [AlpacaFillActivity] {
        var all: [AlpacaFillActivity] = []
        var pageToken: String?
        while true {
            var query = [URLQueryItem(name: "direction", value: "asc"), URLQueryItem(name: "page_size", value: "100")]
            if let after { query.append(URLQueryItem(name: "after", value: Self.rfc3339(after))) }
            if let pageToken { query.append(URLQueryItem(name: "page_token", value: pageToken)) }
            let page = try decode(
                [AlpacaFillActivity].self, try await call("GET", "/v2/account/activities/FILL", query: query))
            all += page
            guard let last = page.last, page.count >= 1, last.id != pageToken else { return all }
            pageToken = last.id
        }
    }

    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// `GET /v2/positions`.
    public func positions() async throws(BrokerError) -> [AlpacaPosition] {
        try decode([AlpacaPosition].self, try await call("GET", "/v2/positions"))
    }

    // MARK: The call itself

    func call(_ method: String, _ path: String, query: [URLQueryItem] = [], body: Data? = nil)
        async throws(BrokerError) -> AlpacaHTTPResponse
    {
        var components = URLComponents(url: base, resolvingAgainstBaseURL: false)!
        components.percentEncodedPath = components.percentEncodedPath.trimmingSuffix("/") + path
        if !query.isEmpty { components.queryItems = query }
        guard let url = components.url else {
            throw BrokerError(.nonRetryable, code: "bad_url", message: "cannot form the URL for \(path)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = timeout
        request.setValue(keyID, forHTTPHeaderField: "APCA-API-KEY-ID")
        request.setValue(secret, forHTTPHeaderField: "APCA-API-SECRET-KEY")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let changes = method != "GET"
        for attempt in 1...Self.attempts {
            let delay = budget.reserve(at: now())
            if delay > 0 { await sleep(.milliseconds(Int64((delay * 1_000).rounded(.up)))) }
            switch await transport.send(request) {
            case .failure(let failure):
                if changes && failure.sent {
                    throw BrokerError(
                        .unknownOutcome, code: "no_answer",
                        message:
                            "\(method) \(path): \(failure.problem) after sending; asking Alpaca before sending again")
                }
                throw BrokerError(.retryable, code: "unreachable", message: "\(method) \(path): \(failure.problem)")
            case .success(let response) where (200..<300).contains(response.status):
                return response
            case .success(let response) where response.status == 429 && attempt < Self.attempts:
                await sleep(wait(after: response))
            case .success(let response):
                throw AlpacaOutcome.error(status: response.status, body: Array(response.body), sent: changes)
            }
        }
        throw BrokerError(.retryable, code: "rate_limited", message: "Alpaca's rate limit")  // not reached
    }

    static let attempts = 3

    /// How long Alpaca asks to wait after a 429: `Retry-After` seconds, else until `X-Ratelimit-Reset`
    /// (UNIX seconds), else 3 s; never more than a minute.
    func wait(after response: AlpacaHTTPResponse) -> Duration {
        if let text = response.headers["retry-after"], let seconds = Double(text), seconds >= 0 {
            return .milliseconds(Int64(min(seconds, 60) * 1_000))
        }
        if let text = response.headers["x-ratelimit-reset"], let reset = Double(text) {
            let seconds = reset - now().timeIntervalSince1970
            return .milliseconds(Int64(min(max(seconds, 0), 60) * 1_000))
        }
        return .seconds(3)
    }

    func encode<T: Encodable>(_ value: T) throws(BrokerError) -> Data {
        do {
            return try JSONEncoder().encode(value)
        } catch {
            throw BrokerError(.nonRetryable, code: "encoding", message: "cannot encode the request: \(error)")
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: AlpacaHTTPResponse) throws(BrokerError) -> T {
        do {
            return try JSONDecoder().decode(type, from: response.body)
        } catch {
            // Alpaca took the request (2xx) but its answer cannot be read: what it did is not known.
            throw BrokerError(
                .unknownOutcome, code: "unreadable_answer", message: "Alpaca's answer could not be read: \(error)")
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

/// `PATCH /v2/orders/{id}`: what changes (every field optional).
public struct AlpacaReplaceRequest: Sendable, Hashable, Encodable {
    public var qty: String?
    public var timeInForce: String?
    public var limitPrice: String?
    public var stopPrice: String?
    public var trail: String?
    public var clientOrderID: String?

    enum CodingKeys: String, CodingKey {
        case qty, timeInForce = "time_in_force", limitPrice = "limit_price", stopPrice = "stop_price", trail
        case clientOrderID = "client_order_id"
    }

    public init(
        qty: String? = nil, timeInForce: String? = nil, limitPrice: String? = nil, stopPrice: String? = nil,
        trail: String? = nil, clientOrderID: String? = nil
    ) {
        self.qty = qty
        self.timeInForce = timeInForce
        self.limitPrice = limitPrice
        self.stopPrice = stopPrice
        self.trail = trail
        self.clientOrderID = clientOrderID
    }
}

/// `GET /v2/account`, the figures the gateway reads (numbers as strings).
public struct AlpacaAccount: Sendable, Hashable, Decodable {
    public var currency: String?
    public var cash: String
    public var equity: String
    public var buyingPower: String
    public var tradingBlocked: Bool?

    enum CodingKeys: String, CodingKey {
        case currency, cash, equity, buyingPower = "buying_power", tradingBlocked = "trading_blocked"
    }
}

/// One fill of `GET /v2/account/activities/FILL` (numbers as strings). Its `id` is not the stream's
/// `execution_id`; match a recovered fill by (`order_id`, `cum_qty`).
public struct AlpacaFillActivity: Sendable, Hashable, Decodable {
    public var id: String
    public var transactionTime: String?
    public var type: String?
    public var price: String
    public var qty: String
    public var side: String?
    public var symbol: String?
    public var cumQty: String?
    public var leavesQty: String?
    public var orderID: String
    public var orderStatus: String?

    enum CodingKeys: String, CodingKey {
        case id, transactionTime = "transaction_time", type, price, qty, side, symbol, cumQty = "cum_qty"
        case leavesQty = "leaves_qty", orderID = "order_id", orderStatus = "order_status"
    }
}

/// One of `GET /v2/positions`.
public struct AlpacaPosition: Sendable, Hashable, Decodable {
    public var symbol: String
    public var qty: String
    public var avgEntryPrice: String?

    enum CodingKeys: String, CodingKey { case symbol, qty, avgEntryPrice = "avg_entry_price" }
}

/// The platform's HTTP client (URLSession; on Linux FoundationNetworking over libcurl), as the stack
/// chooses. Its errors carry the URL, so only the error's code becomes words.
public struct URLSessionAlpacaTransport: AlpacaTransport {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    public func send(_ request: URLRequest) async -> Result<AlpacaHTTPResponse, AlpacaTransportFailure> {
        // A data task with a continuation, not `session.data(for:)`: on Linux the latter's cancellation
        // can deadlock against a completion (see the alert transport).
        let running = Mutex<URLSessionDataTask?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let task = session.dataTask(with: request) { body, response, error in
                    continuation.resume(returning: Self.result(body, response, error))
                }
                running.withLock { $0 = task }
                task.resume()
            }
        } onCancel: {
            if let task = running.withLock({ $0 }) { DispatchQueue.global().async { task.cancel() } }
        }
    }

    static func result(_ body: Data?, _ response: URLResponse?, _ error: (any Error)?) -> Result<
        AlpacaHTTPResponse, AlpacaTransportFailure
    > {
        if let error {
            let code = (error as? URLError)?.code
            let notSent: Set<URLError.Code> = [.cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .badURL]
            let sent = code.map { !notSent.contains($0) } ?? true
            return .failure(
                AlpacaTransportFailure(
                    sent: sent, problem: code.map { "URL error \($0.rawValue)" } ?? "the request failed"))
        }
        guard let http = response as? HTTPURLResponse else {
            return .failure(AlpacaTransportFailure(sent: true, problem: "not an HTTP answer"))
        }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return .success(AlpacaHTTPResponse(status: http.statusCode, headers: headers, body: body ?? Data()))
    }
}

/// Alpaca's request budget per key: at most `perMinute` requests in any 60 seconds. Each request takes
/// the next free slot; the answer is how long to wait for it.
final class RequestBudget: Sendable {
    let perMinute: Int
    /// When each of the last `perMinute` requests went (or will go), oldest first.
    private let slots = Mutex<[Date]>([])

    init(perMinute: Int) { self.perMinute = max(1, perMinute) }

    /// Seconds to wait before sending a request that wants to go at `now`; the slot is taken.
    func reserve(at now: Date) -> TimeInterval {
        slots.withLock { slots in
            var start = now
            if slots.count >= perMinute {
                start = max(now, slots[slots.count - perMinute].addingTimeInterval(60))
            }
            slots.append(start)
            if slots.count > perMinute { slots.removeFirst(slots.count - perMinute) }
            return start.timeIntervalSince(now)
        }
    }
}
