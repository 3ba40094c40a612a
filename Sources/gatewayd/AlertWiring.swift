import Alerts
import ControlProtocol
import ControlServer
import Foundation
import GatewayCore

extension GatewayConfig {
    /// Every alert destination with its secrets read, or every problem found doing so.
    func alertDestinations(_ credentials: Credentials) -> Result<[AlertDestination], ConfigProblems> {
        var problems: [String] = []
        var destinations: [AlertDestination] = []
        for (index, alert) in alerts.enumerated() {
            let path = "alerts[\(index)]"
            var secrets: [String] = []
            func secret(_ name: String?, _ key: String) -> String? {
                guard let name else { return nil }
                switch credentials.read(name, at: "\(path).\(key)") {
                case .success(let value):
                    secrets.append(value)
                    return value
                case .failure(let problem):
                    problems.append(problem.message)
                    return nil
                }
            }
            func url(_ text: String?, _ key: String) -> URL? {
                guard let text else { return nil }
                var reader = ConfigReader()
                guard reader.checkURL(text, at: "\(path).\(key)"), let url = URL(string: text) else {
                    problems.append(reader.problems.first ?? "\(path).\(key): not a URL")
                    return nil
                }
                return url
            }
            let service: AlertDestination.Service?
            switch (alert.kind, alert.endpoint) {
            case ("telegram", _):
                let token = secret(alert.tokenCredential, "token_credential")
                service = url(alert.apiURL, "api_url").flatMap { api in
                    token.map { .telegram(api: api, token: $0, chatID: alert.chatID ?? "") }
                }
            case (let kind, .credential(let name)?):
                let hook = url(secret(name, "url_credential"), "url_credential")
                let key = secret(alert.secretCredential, "secret_credential").map { Data($0.utf8) }
                service = hook.map { hook in
                    switch kind {
                    case "discord": .discord(url: hook)
                    case "slack": .slack(url: hook)
                    default: .webhook(url: hook, signingKey: key, signatureHeader: alert.signatureHeader)
                    }
                }
            case (_, .url(let text)?):
                let key = secret(alert.secretCredential, "secret_credential").map { Data($0.utf8) }
                service = url(text, "url").map {
                    .webhook(url: $0, signingKey: key, signatureHeader: alert.signatureHeader)
                }
            default:
                service = nil
            }
            guard let service else { continue }
            destinations.append(
                AlertDestination(
                    name: alert.name, service: service, categories: alert.categories, accounts: alert.accounts,
                    strategies: alert.strategies, maxPerMinute: alert.maxPerMinute, queueCapacity: alert.queueSize,
                    timeout: .seconds(alert.timeoutSeconds), secrets: secrets))
        }
        return problems.isEmpty ? .success(destinations) : .failure(ConfigProblems(problems))
    }
}

/// `alert_test` through the dispatcher.
struct DispatcherAlertTesting: AlertTesting {
    let dispatcher: AlertDispatcher<ContinuousClock>
    let host: String

    var destinationNames: [String] { dispatcher.destinations.map(\.name) }

    func sendTest(to destination: String?) async -> [AlertTestOutcome] {
        await dispatcher.sendTest(to: destination, from: host) ?? []
    }
}
