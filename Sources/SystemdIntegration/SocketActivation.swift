import Glibc

/// Socket activation (sd_listen_fds(3)): the listening sockets systemd passes from `descriptor 3` on,
/// named by `$LISTEN_FDS` and meant for this process when `$LISTEN_PID` names it.
public enum SocketActivation {
    /// The first descriptor systemd passes.
    public static let firstDescriptor: Int32 = 3

    /// The descriptors passed to this process; empty when none were (the daemon then binds its own).
    /// Each is checked to be a listening `AF_UNIX` stream socket and marked close-on-exec.
    public static func passedSockets(environment: [String: String], pid: Int32? = nil) throws(ActivationError)
        -> [Int32]
    {
        guard let countText = environment["LISTEN_FDS"], !countText.isEmpty else { return [] }
        guard let owner = environment["LISTEN_PID"].flatMap({ Int32($0) }) else {
            throw ActivationError("LISTEN_FDS is set but LISTEN_PID is missing or not a process id")
        }
        guard owner == (pid ?? getpid()) else { return [] }
        guard let count = Int32(countText), count >= 0 else {
            throw ActivationError("LISTEN_FDS '\(countText)' is not a count of descriptors")
        }
        let descriptors = (0..<count).map { firstDescriptor + $0 }
        for fd in descriptors {
            guard isListeningUnixStream(fd) else {
                throw ActivationError(
                    "descriptor \(fd) passed by systemd is not a listening Unix stream socket; "
                        + "gatewayd.socket must use ListenStream= with a path")
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        return descriptors
    }

    /// Whether `fd` is a listening `AF_UNIX`, `SOCK_STREAM` socket.
    public static func isListeningUnixStream(_ fd: Int32) -> Bool {
        func option(_ name: Int32) -> Int32? {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
        }
        return option(SO_DOMAIN) == AF_UNIX && option(SO_TYPE) == Int32(SOCK_STREAM.rawValue)
            && option(SO_ACCEPTCONN) == 1
    }

    /// The environment variables a child process must not inherit once the sockets are taken.
    public static let variables = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"]
}

/// Socket activation's environment or descriptors are not what systemd passes.
public struct ActivationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
