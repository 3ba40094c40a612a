import Alerts
import Foundation
import GatewayCore
import Yams

extension GatewayConfig {
    /// One `alerts:` entry as written: which service, which credentials by name, which events. The
    /// secrets themselves are read later (`Credentials`), so this holds nothing secret.
    struct Alert: Sendable {
        enum Endpoint: Sendable {
            case url(String)
            case credential(String)
        }

        var name: String
        var kind: String
        var endpoint: Endpoint?
        var tokenCredential: String?
        var chatID: String?
        var apiURL: String
        var secretCredential: String?
        var signatureHeader: String
        var categories: Set<AlertCategory>
        var accounts: Set<AccountID>?
        var strategies: Set<String>?
        var maxPerMinute: Int
        var queueSize: Int
        var timeoutSeconds: Int
    }

    static let alertKinds = ["discord", "slack", "telegram", "webhook"]
    static let telegramAPI = "https://api.telegram.org"
}

extension ConfigReader {
    mutating func alerts(_ node: Node?, accounts: [GatewayConfig.Account]) -> [GatewayConfig.Alert] {
        guard let node else { return [] }
        guard case .sequence(let items) = node else {
            problems.append("alerts: must be a list of destinations")
            return []
        }
        let known = Set(accounts.map(\.id))
        var result: [GatewayConfig.Alert] = []
        for (index, item) in items.enumerated() {
            if let alert = alert(item, at: "alerts[\(index)]", accounts: known) { result.append(alert) }
        }
        var seen: Set<String> = []
        for alert in result where !seen.insert(alert.name).inserted {
            problems.append("alerts: the name '\(alert.name)' is used twice")
        }
        return result
    }

    mutating func alert(_ node: Node, at path: String, accounts known: Set<AccountID>) -> GatewayConfig.Alert? {
        guard
            let map = mapping(
                node, at: path,
                keys: [
                    "name", "kind", "url", "url_credential", "token_credential", "chat_id", "api_url",
                    "secret_credential", "signature_header", "events", "accounts", "strategies", "max_per_minute",
                    "queue_size", "timeout_seconds",
                ])
        else { return nil }
        let name = string(map["name"], at: "\(path).name", required: true)
        if let name, !Self.isPlainName(name) {
            problems.append("\(path).name: '\(name)' must be 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        let kind = string(map["kind"], at: "\(path).kind", required: true)
        if let kind, !GatewayConfig.alertKinds.contains(kind) {
            problems.append("\(path).kind: '\(kind)' is not one of \(GatewayConfig.alertKinds.joined(separator: ", "))")
        }
        let url = string(map["url"], at: "\(path).url")
        let urlCredential = credentialName(map["url_credential"], at: "\(path).url_credential")
        let token = credentialName(map["token_credential"], at: "\(path).token_credential")
        let chatID = string(map["chat_id"], at: "\(path).chat_id")
        let apiURL = string(map["api_url"], at: "\(path).api_url")
        let secret = credentialName(map["secret_credential"], at: "\(path).secret_credential")
        let header = string(map["signature_header"], at: "\(path).signature_header")

        var endpoint: GatewayConfig.Alert.Endpoint?
        switch kind {
        case "discord", "slack":
            if url != nil {
                problems.append(
                    "\(path).url: a \(kind!) webhook URL holds its token; put it in a credential file and name "
                        + "that with url_credential")
            }
            if urlCredential == nil { problems.append("\(path).url_credential: missing; a \(kind!) alert needs one") }
            endpoint = urlCredential.map { .credential($0) }
        case "telegram":
            if url != nil || urlCredential != nil {
                problems.append("\(path): a telegram alert takes token_credential and chat_id, not url")
            }
            if token == nil {
                problems.append("\(path).token_credential: missing; a telegram alert needs the bot token")
            }
            if chatID == nil { problems.append("\(path).chat_id: missing; a telegram alert needs the chat to post to") }
        case "webhook":
            switch (url, urlCredential) {
            case (let url?, nil):
                if checkURL(url, at: "\(path).url") { endpoint = .url(url) }
            case (nil, let credential?): endpoint = .credential(credential)
            case (nil, nil): problems.append("\(path).url: missing; a webhook alert needs url or url_credential")
            case (.some, .some): problems.append("\(path): give url or url_credential, not both")
            }
        default:
            break
        }
        if kind != "telegram" {
            for (key, value) in [("token_credential", token), ("chat_id", chatID), ("api_url", apiURL)]
            where value != nil {
                problems.append("\(path).\(key): only a telegram alert takes it")
            }
        }
        if kind != "webhook" {
            for (key, value) in [("secret_credential", secret), ("signature_header", header)] where value != nil {
                problems.append("\(path).\(key): only a webhook alert takes it")
            }
        }
        if header != nil, secret == nil {
            problems.append("\(path).signature_header: set secret_credential too, or nothing is signed")
        }
        if let header, header.isEmpty || !header.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
            problems.append("\(path).signature_header: '\(header)' is not an HTTP header name")
        }
        if let apiURL { _ = checkURL(apiURL, at: "\(path).api_url") }

        let categories = alertCategories(map["events"], at: "\(path).events")
        let accounts = list(map["accounts"], at: "\(path).accounts").map { names in
            Set(
                names.compactMap { text -> AccountID? in
                    guard let id = AccountID(text), known.contains(id) else {
                        problems.append("\(path).accounts: '\(text)' is not a configured account")
                        return nil
                    }
                    return id
                })
        }
        let strategies = list(map["strategies"], at: "\(path).strategies").map(Set.init)
        let perMinute = bounded(map["max_per_minute"], at: "\(path).max_per_minute", 1...600)
        let queueSize = bounded(map["queue_size"], at: "\(path).queue_size", 1...100_000)
        let timeout = bounded(map["timeout_seconds"], at: "\(path).timeout_seconds", 1...120)
        guard let name, let kind, let categories else { return nil }
        return GatewayConfig.Alert(
            name: name, kind: kind, endpoint: endpoint, tokenCredential: token, chatID: chatID,
            apiURL: apiURL ?? GatewayConfig.telegramAPI, secretCredential: secret,
            signatureHeader: header ?? "X-Gateway-Signature", categories: categories, accounts: accounts,
            strategies: strategies, maxPerMinute: perMinute ?? AlertDestination.defaultMaxPerMinute,
            queueSize: queueSize ?? AlertDestination.defaultQueueCapacity, timeoutSeconds: timeout ?? 10)
    }

    mutating func alertCategories(_ node: Node?, at path: String) -> Set<AlertCategory>? {
        guard node != nil else {
            problems.append("\(path): missing; list the events to send (or [all])")
            return nil
        }
        guard let names = list(node, at: path) else { return nil }
        var categories: Set<AlertCategory> = []
        for name in names {
            if name == AlertCategory.everything {
                categories.formUnion(AlertCategory.allCases)
            } else if let category = AlertCategory(rawValue: name) {
                categories.insert(category)
            } else {
                let known = [AlertCategory.everything] + AlertCategory.allCases.map(\.rawValue)
                problems.append("\(path): '\(name)' is not one of \(known.joined(separator: ", "))")
            }
        }
        if names.isEmpty { problems.append("\(path): empty; list the events to send (or [all])") }
        return categories
    }

    mutating func bounded(_ node: Node?, at path: String, _ range: ClosedRange<Int>) -> Int? {
        guard let value = count(node, at: path) else { return nil }
        guard range.contains(value) else {
            problems.append("\(path): \(value) is not from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    mutating func credentialName(_ node: Node?, at path: String) -> String? {
        guard let name = string(node, at: path) else { return nil }
        guard Self.isPlainName(name) else {
            problems.append("\(path): '\(name)' is not a credential name (1 to 64 of A-Z a-z 0-9 . _ -)")
            return nil
        }
        return name
    }

    /// An http or https URL with a host. Never repeats the URL in a problem: it may hold a token.
    @discardableResult
    mutating func checkURL(_ text: String, at path: String) -> Bool {
        guard let scheme = text.split(separator: ":").first, ["http", "https"].contains(scheme.lowercased()),
            let host = Self.host(of: text), !host.isEmpty
        else {
            problems.append("\(path): not an http:// or https:// URL with a host")
            return false
        }
        return true
    }

    static func host(of url: String) -> Substring? {
        guard let range = url.range(of: "://") else { return nil }
        let rest = url[range.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return authority.split(separator: "@").last.map { $0.prefix { $0 != ":" } }
    }

    static func isPlainName(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy {
                $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
            }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (48...57).contains(self) || (65...90).contains(self) || (97...122).contains(self)
    }
}
