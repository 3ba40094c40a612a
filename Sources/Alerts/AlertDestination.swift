public import Foundation
public import GatewayCore

/// One place alerts go, as the configuration names it. Secrets (a webhook URL that embeds a token, a
/// bot token, a signing key) are read from credential files before this is made and live only here: a
/// destination's `description` and everything the dispatcher logs or answers name it, never them.
public struct AlertDestination: Sendable, CustomStringConvertible {
    /// The service, and what it needs to be reached.
    public enum Service: Sendable {
        /// A Discord channel webhook: the webhook URL (a secret).
        case discord(url: URL)
        /// A Slack incoming webhook: its URL (a secret).
        case slack(url: URL)
        /// A Telegram bot: the Bot API's base URL, the bot token (a secret) and the chat to post to.
        case telegram(api: URL, token: String, chatID: String)
        /// A plain JSON POST of the alert and its event; with `signingKey`, the body's HMAC-SHA256 in
        /// `signatureHeader` as `sha256=<hex>`.
        case webhook(url: URL, signingKey: Data?, signatureHeader: String)

        /// Everything that says where and how messages go, secrets included: compared, never printed.
        var settings: [String] {
            switch self {
            case .discord(let url), .slack(let url): [kind, url.absoluteString]
            case .telegram(let api, let token, let chatID): [kind, api.absoluteString, token, chatID]
            case .webhook(let url, let key, let header):
                [kind, url.absoluteString, key.map { $0.base64EncodedString() } ?? "", header]
            }
        }

        /// The config's name for the service.
        public var kind: String {
            switch self {
            case .discord: "discord"
            case .slack: "slack"
            case .telegram: "telegram"
            case .webhook: "webhook"
            }
        }
    }

    public var name: String
    public var service: Service
    /// The categories this destination wants.
    public var categories: Set<AlertCategory>
    /// When set, only alerts about these accounts (and alerts about the whole gateway).
    public var accounts: Set<AccountID>?
    /// When set, only alerts about orders of these strategies (and alerts that concern no strategy).
    public var strategies: Set<String>?
    /// At most this many messages a minute; what does not fit is summarised in the last one.
    public var maxPerMinute: Int
    /// Messages waiting beyond this many drop the oldest (counted and journaled).
    public var queueCapacity: Int
    /// One request's timeout.
    public var timeout: Duration
    /// Every value this destination read from a credential file; redacted from anything logged.
    public var secrets: [String]

    /// Whether `other` is this destination with every setting the same (a reload keeps its queue).
    public func hasSameSettings(as other: AlertDestination) -> Bool {
        name == other.name && service.settings == other.service.settings && categories == other.categories
            && accounts == other.accounts && strategies == other.strategies && maxPerMinute == other.maxPerMinute
            && queueCapacity == other.queueCapacity && timeout == other.timeout
    }

    public static let defaultMaxPerMinute = 20
    public static let defaultQueueCapacity = 1_000
    public static let defaultTimeout = Duration.seconds(10)

    public init(
        name: String, service: Service, categories: Set<AlertCategory>, accounts: Set<AccountID>? = nil,
        strategies: Set<String>? = nil, maxPerMinute: Int = defaultMaxPerMinute,
        queueCapacity: Int = defaultQueueCapacity, timeout: Duration = defaultTimeout, secrets: [String] = []
    ) {
        self.secrets = secrets
        self.name = name
        self.service = service
        self.categories = categories
        self.accounts = accounts
        self.strategies = strategies
        self.maxPerMinute = maxPerMinute
        self.queueCapacity = queueCapacity
        self.timeout = timeout
    }

    /// Whether this destination wants `alert`.
    public func wants(_ alert: Alert) -> Bool {
        guard categories.contains(alert.category) else { return false }
        if let accounts, let account = alert.account, !accounts.contains(account) { return false }
        if let strategies, let strategy = alert.strategy, !strategies.contains(strategy) { return false }
        return true
    }

    /// Names the destination and its service, nothing secret.
    public var description: String { "\(name) (\(service.kind))" }
}
