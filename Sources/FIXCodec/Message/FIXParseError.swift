/// Why bytes are not a FIX message (QuickFIX's InvalidMessage): the session ignores such a message
/// when logged on and drops the connection before logon.
public struct FIXParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, in QuickFIX's words where it has them.
    public var reason: String

    /// An error saying `reason`.
    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
