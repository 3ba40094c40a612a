import ControlServer
import Dispatch
import Execution
import Foundation
import GatewayCore
import Logging
import ServiceLifecycle
import SystemdIntegration

/// Tells systemd READY=1 once the journal is recovered, the engine has started (brokers asked to
/// connect) and the control socket listens, with a STATUS= line a person can read; then, when the unit
/// sets `WatchdogSec=`, sends WATCHDOG=1 only after the engine itself answered a ping — a request that
/// goes through the engine's inbox and waits for its batch to commit — so a stuck engine or journal
/// stops the pings and systemd restarts the daemon. STOPPING=1 when shutdown begins. Last in the
/// group, so it hears of the shutdown first.
struct SystemdNotifyService: Service {
    let notifier: SystemdNotifier
    let watchdog: WatchdogSettings?
    let engine: ExecutionEngine
    let server: ControlServer
    let logger: Logger

    func run() async throws {
        for await _ in engine.started { break }
        for await _ in server.listening { break }
        if notifier.send(["READY=1", "STATUS=" + (await statusLine())]) {
            logger.info("told systemd READY=1")
        }
        if let watchdog, notifier.path != nil {
            logger.info("watchdog on", metadata: ["watchdog.interval": "\(watchdog.pingInterval)"])
            await cancelWhenGracefulShutdown { await self.watch(every: watchdog.pingInterval) }
        } else {
            try? await gracefulShutdown()
        }
        notifier.send(["STOPPING=1", "STATUS=stopping: finishing broker calls in flight"])
    }

    /// One ping at a time: WATCHDOG=1 (with a fresh STATUS=) each time the engine answers within the
    /// interval; while it does not, nothing is sent and the stall is logged.
    func watch(every interval: Duration) async {
        while !Task.isCancelled {
            let began = ContinuousClock.now
            // The first of: the ping answered, or the interval passed. The ping is never abandoned.
            let (first, arrived) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(2))
            let ping = Task {
                let answered = await engine.ping()
                arrived.yield(answered)
                return answered
            }
            let timer = Task {
                try? await Task.sleep(for: interval)
                arrived.yield(false)
            }
            var outcomes = first.makeAsyncIterator()
            let answered = await outcomes.next() ?? false
            timer.cancel()
            if !answered {
                if Task.isCancelled { return }
                logger.critical(
                    "the engine has not answered the watchdog ping; WATCHDOG=1 withheld",
                    metadata: ["watchdog.waited": "\(interval)"])
                guard await ping.value else { return }
                logger.warning(
                    "the engine answers again; WATCHDOG=1 resumes",
                    metadata: ["watchdog.stalled": "\(ContinuousClock.now - began)"])
            }
            notifier.send(["WATCHDOG=1", "STATUS=" + (await statusLine())])
            let rest = interval - (ContinuousClock.now - began)
            if rest > .zero { try? await Task.sleep(for: rest) }
        }
    }

    /// "trading · paper: active, connected, 3 open · journal seq 42"
    func statusLine() async -> String {
        guard case .success(let status) = await engine.status() else { return "trading" }
        let accounts = status.accounts.map {
            "\($0.account): \($0.tradingState), \($0.connection), \($0.openOrders) open"
        }
        let journal =
            status.journalFailure.map { " · JOURNAL FAILED: \($0)" }
            ?? status.tablesProblem.map {
                " · JOURNAL TABLES FAILING (\(status.tablesBacklog) events in the log only): \($0)"
            }
            ?? ""
        return "trading · " + accounts.joined(separator: ", ") + " · journal seq \(status.seq)" + journal
    }
}

/// While the journal is replayed at start, asks systemd for 15 more seconds (`EXTEND_TIMEOUT_USEC`)
/// at once and then every 5 seconds in which the replay moved on, with a STATUS= line of how far it is;
/// a replay that stops moving stops the extensions, and systemd's start timeout then applies.
final class StartupExtender {
    private let timer: any DispatchSourceTimer
    static let request = "EXTEND_TIMEOUT_USEC=15000000"

    /// Starts extending; `nil` when not run by systemd.
    static func start(notifier: SystemdNotifier, progress: RecoveryProgress) -> StartupExtender? {
        guard notifier.path != nil else { return nil }
        notifier.send([request, "STATUS=recovering the journal"])
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "gatewayd.startup-extender"))
        let last = LastCount()
        timer.setEventHandler {
            let events = progress.events
            guard events != last.value else { return }
            last.value = events
            notifier.send([request, "STATUS=recovering the journal: \(events) events replayed"])
        }
        timer.schedule(deadline: .now() + 5, repeating: 5)
        timer.resume()
        return StartupExtender(timer: timer)
    }

    private init(timer: any DispatchSourceTimer) { self.timer = timer }

    func stop() { timer.cancel() }

    /// The count seen at the previous tick; touched only on the timer's queue.
    private final class LastCount: @unchecked Sendable { var value: Int64 = 0 }
}
