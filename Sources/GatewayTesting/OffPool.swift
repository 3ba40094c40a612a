import Foundation

/// Runs blocking work (socket reads, waiting for a process) on a thread of its own, so that it never
/// holds one of the few threads of Swift's cooperative pool: on a 2-core machine two blocked tasks
/// would starve every other test in the process.
public func offPool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
