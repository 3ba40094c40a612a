import Glibc
import NIOCore

/// Who is at the other end of a control connection: the kernel's `SO_PEERCRED` (uid, gid and pid when
/// it connected) and the user's supplementary groups from the user database, since `SO_PEERCRED`
/// carries only the primary group.
public struct PeerCredentials: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    /// The primary group and every supplementary group of the user.
    public var groups: Set<UInt32>

    public init(uid: UInt32, gid: UInt32, pid: Int32, groups: Set<UInt32> = []) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.groups = groups.union([gid])
    }

    /// The user's name, or its number when the user database has none.
    public var userName: String {
        guard let entry = getpwuid(uid_t(uid)), let name = entry.pointee.pw_name else { return String(uid) }
        return String(cString: name)
    }

    /// The peer of a connected Unix socket channel, or `nil` when the kernel does not say.
    static func of(_ channel: any Channel) async -> PeerCredentials? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let future: EventLoopFuture<KernelPeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(KernelPeerCredentials.option))
        guard let credentials = try? await future.get() else { return nil }
        return PeerCredentials(
            uid: credentials.uid, gid: credentials.gid, pid: credentials.pid,
            groups: supplementaryGroups(uid: credentials.uid, gid: credentials.gid))
    }

    /// Every group the user belongs to, by the user database (`getgrouplist(3)`).
    static func supplementaryGroups(uid: UInt32, gid: UInt32) -> Set<UInt32> {
        guard let entry = getpwuid(uid_t(uid)), let name = entry.pointee.pw_name else { return [gid] }
        var count: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            let wanted = count
            if getgrouplist(name, gid_t(gid), &groups, &count) >= 0 {
                return Set(groups.prefix(Int(count)).map { UInt32($0) })
            }
            // Too many groups for the buffer: `count` now holds how many there are.
            guard count > wanted, count < 65_536 else { return [gid] }
        }
    }
}

/// The kernel's `struct ucred` (socket(7)), which Glibc's module leaves out without `_GNU_SOURCE`: the
/// same three fields in the same order.
struct KernelPeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0

    /// `SO_PEERCRED` on Linux.
    static let option: Int32 = 17
}
