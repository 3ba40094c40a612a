import Foundation
import Glibc

/// What the benchmarks that count heap allocations share: they run themselves again with the malloc
/// interposer (ordo-one/malloc-interposer, built beside them) preloaded, since it counts only in a
/// process it was loaded into.
public enum InterposerPreload {
    /// Re-executes the running benchmark with the interposer in `LD_PRELOAD`, unless it is there already;
    /// when the library is missing it says so and goes on (allocations then read zero).
    public static func reexecIfNeeded() throws {
        let library =
            URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("libMallocInterposerSwift.so").path
        guard ProcessInfo.processInfo.environment["LD_PRELOAD"]?.contains("MallocInterposer") != true else { return }
        guard FileManager.default.fileExists(atPath: library) else {
            print("note: \(library) not found; allocations will read zero")
            return
        }
        setenv("LD_PRELOAD", library, 1)
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        throw Failure(description: "cannot re-execute with the interposer: errno \(errno)")
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }
}
