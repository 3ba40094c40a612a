import Foundation
import Glibc

/// Temporary folders for tests, all under one folder per test process that is removed when the process
/// exits; a process that was killed leaves its folder to the next test process, which removes it.
///
/// Each end-to-end test's daemon and each engine test's journal left a folder in the temporary
/// directory: about 300 MB a run of the suite, which filled the disk of a machine that ran it often. The
/// journal's, the paper broker's and the FIX transport's tests left about 43 MB more; every test target
/// that writes files now makes them here.
public enum TestFolders {
    /// `<temporary directory>/gateway-tests`, which holds one `pid-<n>` folder per test process.
    static let base = NSTemporaryDirectory() + "gateway-tests"

    /// This process's folder, made (and its removal at exit arranged) on first use, after the folders of
    /// test processes that no longer run are removed.
    static let root: String = {
        let files = FileManager.default
        try? files.createDirectory(atPath: base, withIntermediateDirectories: true)
        for name in (try? files.contentsOfDirectory(atPath: base)) ?? [] {
            guard name.hasPrefix("pid-"), let pid = pid_t(name.dropFirst(4)), pid != getpid() else { continue }
            if kill(pid, 0) != 0, errno == ESRCH { try? files.removeItem(atPath: base + "/" + name) }
        }
        let path = base + "/pid-\(getpid())"
        try? files.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { TestFolders.removeAll() }
        return path
    }()

    /// A new, empty folder named `prefix-<random>`.
    public static func make(_ prefix: String) -> String {
        let path = root + "/" + prefix + "-" + String(UUID().uuidString.prefix(8))
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Removes this process's folder and everything in it.
    static func removeAll() {
        try? FileManager.default.removeItem(atPath: root)
    }
}
