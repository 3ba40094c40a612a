import BrokerAlpaca
import Foundation
import GatewayCore
import Yams

extension GatewayConfig {
    /// `accounts[].alpaca`: where the account is and the names of its two credentials.
    struct Alpaca: Sendable, Hashable {
        var restURL: String
        var streamURL: String
        var keyIDCredential: String
        var secretCredential: String
    }

    /// Every Alpaca account's settings with its key and secret read, or every problem doing so.
    func alpacaSettings(_ credentials: Credentials) -> Result<[AccountID: AlpacaSettings], ConfigProblems> {
        var problems: [String] = []
        var settings: [AccountID: AlpacaSettings] = [:]
        for (index, account) in accounts.enumerated() {
            guard let alpaca = account.alpaca, let rest = URL(string: alpaca.restURL) else { continue }
            let path = "accounts[\(index)].alpaca"
            func read(_ name: String, _ key: String) -> String? {
                switch credentials.read(name, at: "\(path).\(key)") {
                case .success(let value): return value
                case .failure(let problem):
                    problems.append(problem.message)
                    return nil
                }
            }
            let keyID = read(alpaca.keyIDCredential, "key_id_credential")
            let secret = read(alpaca.secretCredential, "secret_credential")
            if let keyID, let secret {
                settings[account.id] = AlpacaSettings(
                    restURL: rest, streamURL: alpaca.streamURL, keyID: keyID, secret: secret)
            }
        }
        return problems.isEmpty ? .success(settings) : .failure(ConfigProblems(problems))
    }
}

extension ConfigReader {
    /// `accounts[].alpaca`, with exactly the keys the Alpaca issue names. `https://` and `wss://` URLs;
    /// `http://` and `ws://` only to a loopback host (test beds).
    mutating func alpaca(_ node: Node, at path: String) -> GatewayConfig.Alpaca? {
        guard
            let map = mapping(
                node, at: path, keys: ["rest_url", "stream_url", "key_id_credential", "secret_credential"])
        else { return nil }
        let rest = string(map["rest_url"], at: "\(path).rest_url", required: true)
        let stream = string(map["stream_url"], at: "\(path).stream_url", required: true)
        let keyID = string(map["key_id_credential"], at: "\(path).key_id_credential", required: true)
        let secret = string(map["secret_credential"], at: "\(path).secret_credential", required: true)
        if let rest { checkEndpoint(rest, secure: "https", plain: "http", at: "\(path).rest_url") }
        if let stream { checkEndpoint(stream, secure: "wss", plain: "ws", at: "\(path).stream_url") }
        for (name, key) in [(keyID, "key_id_credential"), (secret, "secret_credential")] {
            if let name, !Self.isPlainName(name) {
                problems.append("\(path).\(key): '\(name)' is not a credential name (letters, digits, . _ -)")
            }
        }
        guard let rest, let stream, let keyID, let secret else { return nil }
        return GatewayConfig.Alpaca(restURL: rest, streamURL: stream, keyIDCredential: keyID, secretCredential: secret)
    }

    mutating func checkEndpoint(_ text: String, secure: String, plain: String, at path: String) {
        let scheme = text.split(separator: ":").first.map { $0.lowercased() } ?? ""
        guard let host = Self.host(of: text), !host.isEmpty, scheme == secure || scheme == plain else {
            problems.append("\(path): not a \(secure):// URL with a host")
            return
        }
        if scheme == plain, !["127.0.0.1", "localhost", "[::1]", "::1"].contains(host.lowercased()) {
            problems.append("\(path): \(plain):// is taken only for a loopback test bed; use \(secure)://")
        }
    }
}
