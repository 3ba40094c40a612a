/// A control-socket verb refused because the peer's role does not allow it, as the journal keeps it
/// (event kind `access_denied`, history only: replay skips it).
public struct AccessDeniedNote: Sendable, Hashable, Codable {
    /// The verb asked for.
    public var op: String
    /// The peer's uid, gid and pid by `SO_PEERCRED`; `nil` when the kernel did not say.
    public var uid: UInt32?
    public var gid: UInt32?
    public var pid: Int32?
    /// The peer's user name, or its uid as text.
    public var user: String
    /// The peer's role (`none` when it has none) and the least role the verb needs.
    public var role: String
    public var required: String

    public init(op: String, uid: UInt32?, gid: UInt32?, pid: Int32?, user: String, role: String, required: String) {
        self.op = op
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.user = user
        self.role = role
        self.required = required
    }
}

/// A configuration reload that was applied, as the journal keeps it (event kind `config_reloaded`,
/// history only: the limits themselves come from the configuration at every start).
public struct ConfigReloadNote: Sendable, Hashable, Codable {
    /// Who asked: `SIGHUP` or the control-socket peer (`uid 1000 (alice)`).
    public var requestedBy: String
    /// The file read.
    public var path: String
    /// What changed and took effect, one line each (`paper: max_order_qty 100 → 50`).
    public var applied: [String]
    /// What changed in the file but takes effect only at the next start (accounts, journal path, …).
    public var needsRestart: [String]

    enum CodingKeys: String, CodingKey {
        case requestedBy = "requested_by", path, applied, needsRestart = "needs_restart"
    }

    public init(requestedBy: String, path: String, applied: [String], needsRestart: [String]) {
        self.requestedBy = requestedBy
        self.path = path
        self.applied = applied
        self.needsRestart = needsRestart
    }
}
