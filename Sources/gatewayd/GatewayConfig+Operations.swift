import ControlProtocol
import ControlServer
import Glibc
import Yams

extension GatewayConfig {
    /// `access:` in the file: per role, users and groups by name or number.
    struct Access: Sendable, Hashable {
        var role: Role
        var users: [String]
        var groups: [String]
    }

    /// Where the Prometheus exposition listens; `nil` when `metrics_listen: off`.
    struct MetricsAddress: Sendable, Hashable, CustomStringConvertible {
        var host: String
        var port: Int
        var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    static let defaultMetricsAddress = MetricsAddress(host: "127.0.0.1", port: 9464)

    /// The access rules with every user and group looked up; `nil` rules (no `access:`) mean every peer
    /// that can open the socket is `admin`.
    func accessPolicy() -> Result<AccessPolicy, ConfigProblems> {
        guard let access else { return .success(.open) }
        var problems: [String] = []
        let rules = access.map { entry in
            var rule = AccessPolicy.Rule(role: entry.role)
            for user in entry.users {
                if let uid = Self.userID(user) {
                    rule.users.insert(uid)
                } else {
                    problems.append("access.\(entry.role.rawValue).users: no user named '\(user)' on this host")
                }
            }
            for group in entry.groups {
                if let gid = Self.groupID(group) {
                    rule.groups.insert(gid)
                } else {
                    problems.append("access.\(entry.role.rawValue).groups: no group named '\(group)' on this host")
                }
            }
            return rule
        }
        return problems.isEmpty
            ? .success(AccessPolicy(rules: rules)) : .failure(ConfigProblems(problems))
    }

    static func userID(_ name: String) -> UInt32? {
        if let number = UInt32(name) { return number }
        return getpwnam(name).map { $0.pointee.pw_uid }
    }

    static func groupID(_ name: String) -> UInt32? {
        if let number = UInt32(name) { return number }
        return getgrnam(name).map { $0.pointee.gr_gid }
    }
}

extension ConfigReader {
    /// `access:`: a mapping of role (`admin`, `trader`, `viewer`) to `users` and `groups` lists.
    mutating func access(_ node: Node?) -> [GatewayConfig.Access]? {
        guard let node else { return nil }
        guard let map = mapping(node, at: "access", keys: Set(Role.allCases.map(\.rawValue))) else { return [] }
        return Role.allCases.compactMap { role in
            guard let entry = map[role.rawValue] else { return nil }
            let path = "access.\(role.rawValue)"
            guard let fields = mapping(entry, at: path, keys: ["users", "groups"]) else { return nil }
            let users = list(fields["users"], at: "\(path).users") ?? []
            let groups = list(fields["groups"], at: "\(path).groups") ?? []
            if users.isEmpty && groups.isEmpty { problems.append("\(path): name at least one user or group") }
            return GatewayConfig.Access(role: role, users: users, groups: groups)
        }
    }

    /// `metrics_listen:` `HOST:PORT` (default `127.0.0.1:9464`), or `off`.
    mutating func metricsListen(_ node: Node?) -> GatewayConfig.MetricsAddress? {
        guard let text = string(node, at: "metrics_listen") else { return GatewayConfig.defaultMetricsAddress }
        if text == "off" || text == "false" { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else {
            problems.append("metrics_listen: '\(text)' is not HOST:PORT (such as 127.0.0.1:9464) or off")
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty {
            problems.append("metrics_listen: '\(text)' names no host; use 127.0.0.1:\(port) to stay on this machine")
            return nil
        }
        return GatewayConfig.MetricsAddress(host: host, port: port)
    }
}
