/// The one thread the engine runs on: its executor, and a way to run work there outside any task.
///
/// In `gatewayd` both are an event loop's, the same loop that serves the control socket, so that a
/// request is read, handled, committed and answered on one thread. `schedule` is how a command that
/// finds the inbox empty starts a drain: called on that thread it queues the drain behind the work in
/// hand without waking anything, and called from another it wakes the loop once.
///
/// `later`, when given, runs work on that thread after a delay in nanoseconds: how a batch of broker
/// events waits a moment for requests to share its commit (`ExecutionEngine`'s `commitLinger`).
public struct EngineThread: Sendable {
    public let executor: any SerialExecutor
    public let schedule: @Sendable (@escaping @Sendable () -> Void) -> Void
    public let later: (@Sendable (Int64, @escaping @Sendable () -> Void) -> Void)?

    public init(
        executor: any SerialExecutor, schedule: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void,
        later: (@Sendable (Int64, @escaping @Sendable () -> Void) -> Void)? = nil
    ) {
        self.executor = executor
        self.schedule = schedule
        self.later = later
    }
}
