import BrokerPaper
import Execution
import Foundation
import GatewayCore
import Logging
import ServiceLifecycle

/// Keeps the paper brokers' markets moving: each broker's clock advanced on a timer (day orders expiring
/// at the close, closing orders filling, latencies passing), and each configured replay played into the
/// gateway as if its prices were given with the `quote` verb (so every paper account and the risk checks
/// see them). Runs until the gateway stops; a replay that ends is logged and leaves the rest running.
struct PaperMarketService: Service {
    struct Replay: Sendable {
        var account: AccountID
        var file: String
        var replay: PaperReplay
        var speed: Price
    }

    let brokers: [PaperBroker]
    /// How often the brokers' clocks move: every 10 ms with a latency (so that it lands within 10 ms of
    /// its time), else every 100 ms.
    let tick: Duration
    let replays: [Replay]
    let engine: ExecutionEngine
    let clock: any WallClock
    let logger: Logger

    /// Reads every account's replay file, or names what is wrong with it.
    static func replays(_ settings: GatewayConfig) -> Result<[Replay], ConfigProblems> {
        var found: [Replay] = []
        var problems: [String] = []
        for account in settings.accounts {
            guard let replay = account.paper?.replay else { continue }
            let path = "accounts[\(account.id)].paper.replay"
            guard let text = try? String(contentsOfFile: replay.file, encoding: .utf8) else {
                problems.append("\(path): cannot read '\(replay.file)'")
                continue
            }
            do {
                let parsed = try PaperReplay(
                    text: text, fileName: replay.file, symbol: replay.symbol, calendar: account.paper?.calendar)
                found.append(Replay(account: account.id, file: replay.file, replay: parsed, speed: replay.speed))
            } catch {
                problems.append("\(path): \(error.description)")
            }
        }
        return problems.isEmpty ? .success(found) : .failure(ConfigProblems(problems))
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for broker in brokers {
                    group.addTask { await broker.run(every: tick) }
                }
                for replay in replays {
                    group.addTask { await play(replay) }
                }
                // Stay until the gateway stops, whatever has finished.
                group.addTask {
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                }
            }
        }
    }

    private func play(_ replay: Replay) async {
        logger.info(
            "replay started",
            metadata: [
                "account": "\(replay.account)", "replay.file": "\(replay.file)",
                "replay.quotes": "\(replay.replay.quotes.count)", "replay.speed": "\(replay.speed)",
            ])
        var played = 0
        await replay.replay.play(
            speed: replay.speed, sleep: { try await Task.sleep(for: $0) },
            deliver: { recorded in
                // The gateway's clock stamps the price; the recorded time only paces the replay.
                var quote = recorded
                quote.ts = clock.now()
                if case .success = await engine.quote(quote) { played += 1 }
            })
        logger.info(
            "replay finished",
            metadata: ["account": "\(replay.account)", "replay.file": "\(replay.file)", "replay.played": "\(played)"])
    }
}
