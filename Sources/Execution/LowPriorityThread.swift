import Foundation
import Glibc

/// Runs work on a new thread of its own at nice 10, outside Swift's cooperative pool (which has one
/// thread per core and cannot preempt): the kernel then runs the order path first and this work in
/// the time left over. For large, infrequent work such as encoding a checkpoint.
enum LowPriorityThread {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                // On Linux the nice value belongs to a thread: `who` 0 names the calling thread only.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
                continuation.resume(with: Result { try body() })
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
