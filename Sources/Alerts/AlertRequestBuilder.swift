import GatewayCore
import Crypto
public import Foundation

/// Renders a message in each service's own format: Discord's `content`, Slack's `text`, Telegram's
/// `sendMessage`, or a plain webhook's JSON object of the alert and its event, signed when a key is set.
/// Pure: the same inputs make the same bytes.
public enum AlertRequestBuilder {
    public static let userAgent = "gatewayd-alerts/1"

    /// The request that delivers `message`; `delay` is how long it waited, said in the text past a minute.
    public static func request(
        for message: DeliveryQueue.Message, to destination: AlertDestination, delay: Duration = .zero
    ) -> AlertHTTPRequest {
        switch message {
        case .alert(let alert, _):
            var text = alert.text
            if delay >= .seconds(60) { text += " · delayed \(Self.minutes(delay))" }
            var fields: [String: Any] = ["ts": alert.ts.description]
            if let account = alert.account { fields["account"] = account.rawValue }
            if let strategy = alert.strategy { fields["strategy"] = strategy }
            if let symbol = alert.symbol { fields["symbol"] = symbol }
            if let seq = alert.seq { fields["seq"] = seq }
            if let event = alert.event, let object = try? JSONSerialization.jsonObject(with: Data(event.utf8)) {
                fields["event"] = object
            }
            return post(category: alert.category.rawValue, text: text, fields: fields, to: destination)
        case .summary(let summary):
            let counts = Dictionary(uniqueKeysWithValues: summary.counts.map { ($0.key.rawValue, $0.value) })
            return post(
                category: "summary", text: summary.text,
                fields: [
                    "count": summary.count, "counts": counts, "symbols": summary.symbols, "dropped": summary.dropped,
                ],
                to: destination)
        }
    }

    /// The request of `gatewayctl alert test`.
    public static func testRequest(to destination: AlertDestination, text: String) -> AlertHTTPRequest {
        post(category: "test", text: text, fields: [:], to: destination)
    }

    static func post(category: String, text: String, fields: [String: Any], to destination: AlertDestination)
        -> AlertHTTPRequest
    {
        var headers = ["Content-Type": "application/json", "User-Agent": userAgent]
        let url: URL
        let object: [String: Any]
        switch destination.service {
        case .discord(let webhook):
            url = webhook
            // No mentions: a symbol or a broker's message must never ping @everyone.
            object = ["content": clip(text, to: 2_000), "allowed_mentions": ["parse": [String]()]]
        case .slack(let webhook):
            url = webhook
            object = ["text": clip(slackEscaped(text), to: 3_000)]
        case .telegram(let api, let token, let chatID):
            url = api.appendingPathComponent("bot" + token).appendingPathComponent("sendMessage")
            object = ["chat_id": chatID, "text": clip(text, to: 4_096), "disable_web_page_preview": true]
        case .webhook(let hook, _, _):
            url = hook
            object = fields.merging(["category": category, "text": text, "destination": destination.name]) { $1 }
        }
        let body =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        if case .webhook(_, let key?, let header) = destination.service {
            headers[header] = "sha256=" + signature(of: body, key: key)
        }
        return AlertHTTPRequest(url: url, headers: headers, body: body)
    }

    /// HMAC-SHA256 of `body` under `key`, lowercase hex.
    public static func signature(of body: Data, key: Data) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: key))
        return code.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Slack's three control characters (its "mrkdwn" escaping).
    static func slackEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    static func clip(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    static func minutes(_ delay: Duration) -> String {
        let minutes = delay.components.seconds / 60
        return minutes < 60 ? "\(minutes)m" : "\(minutes / 60)h\(minutes % 60)m"
    }
}
