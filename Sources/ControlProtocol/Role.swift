/// What a peer of the control socket may do, from its uid and groups (`access:` in the configuration).
/// Each role may do everything the roles below it may.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Read-only verbs: orders, positions, account, status, subscribe, journal, report.
    case viewer
    /// Orders: submit, signal, cancel, replace, cancel_all, quote.
    case trader
    /// The kill switch and the daemon itself: halt, resume, reload, reconcile, journal_backup, alert_test.
    case admin

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    var rank: Int {
        switch self {
        case .viewer: 0
        case .trader: 1
        case .admin: 2
        }
    }

    /// The least role that may use `op`; `nil` for `hello`, which anyone connected may send (it says
    /// what role the peer has). A verb not known here needs `viewer`, and is then answered `unknown_op`.
    public static func required(for op: String) -> Role? {
        switch op {
        case "hello": nil
        case "submit", "signal", "cancel", "replace", "cancel_all", "quote": .trader
        case "halt", "resume", "reload", "reconcile", "journal_backup", "alert_test": .admin
        default: .viewer
        }
    }
}
