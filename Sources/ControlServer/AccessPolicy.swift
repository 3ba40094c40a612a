public import ControlProtocol
import Synchronization

/// Maps a peer's uid and groups to a role (`access:` in the configuration). A peer gets the highest role
/// any rule gives it; root is always `admin` (it could stop the daemon or edit the journal anyway). Without rules (`open`) every
/// peer that can open the socket — the socket's file mode and group decide who can — is `admin`.
public struct AccessPolicy: Sendable {
    /// Users and groups given one role.
    public struct Rule: Sendable, Hashable {
        public var role: Role
        public var users: Set<UInt32>
        public var groups: Set<UInt32>

        public init(role: Role, users: Set<UInt32> = [], groups: Set<UInt32> = []) {
            self.role = role
            self.users = users
            self.groups = groups
        }
    }

    /// `nil`: no `access:` section, so the socket's permissions are the only guard.
    public let rules: [Rule]?

    /// Every peer is `admin`.
    public static let open = AccessPolicy(rules: nil)

    public init(rules: [Rule]?) {
        self.rules = rules
    }

    /// The peer's role, or `nil` when no rule names it (it may then only say `hello`). A peer whose
    /// credentials could not be read gets a role only when the policy is open.
    public func role(of peer: PeerCredentials?) -> Role? {
        guard let rules else { return .admin }
        guard let peer else { return nil }
        if peer.uid == 0 { return .admin }
        // Looked up on every request: one pass, nothing allocated.
        var best: Role?
        for rule in rules where rule.users.contains(peer.uid) || !rule.groups.isDisjoint(with: peer.groups) {
            if best.map({ rule.role > $0 }) ?? true { best = rule.role }
        }
        return best
    }
}

/// The access policy in force, replaced whole by a configuration reload; every new request is checked
/// against the current one.
public final class AccessControl: Sendable {
    private let current: Mutex<AccessPolicy>

    public init(_ policy: AccessPolicy) { current = Mutex(policy) }

    public var policy: AccessPolicy { current.withLock { $0 } }

    public func replace(with policy: AccessPolicy) { current.withLock { $0 = policy } }
}
