import Execution
import GatewayCore
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGUSR1 is the kill switch from outside: halt every account and cancel every open order.
struct KillSwitchSignal: Service {
    let engine: ExecutionEngine
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sigusr1)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                logger.warning("SIGUSR1: halting every account and cancelling every open order")
                switch await engine.halt(account: nil, reason: "SIGUSR1 kill switch", cancelOpen: true) {
                case .success(let change):
                    logger.warning("halted", metadata: ["orders.canceled": "\(change.canceled?.count ?? 0)"])
                case .failure(let error):
                    logger.critical("the kill switch failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
