import ControlServer
import Execution
import GatewayCore
import Logging
import Metrics
import Prometheus

/// swift-metrics into a Prometheus registry, and the page a scrape gets: the counters and histograms the
/// engine and the control server keep, plus gauges read from the engine's status at scrape time (open
/// orders, broker connection, trading state), so the order path pays nothing for them.
enum MetricsWiring {
    /// Buckets from 10 µs to 5 s: the order path's figures sit near the socket's round trip and one
    /// fsync, far below the library's default of 5 ms and up.
    static let durationBuckets: [Duration] = [
        .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
        .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(5),
    ]

    /// Makes swift-metrics write into a new registry; returns it.
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }

    static let states = ["active", "reducing", "halted"]

    /// The exposition page, with the gauges refreshed from the engine first.
    static func page(_ registry: PrometheusCollectorRegistry, engine: ExecutionEngine) async -> [UInt8] {
        if case .success(let status) = await engine.status() {
            for account in status.accounts {
                let id = account.account.rawValue
                Gauge(label: "gateway_open_orders", dimensions: [("account", id)]).record(account.openOrders)
                Gauge(label: "gateway_unknown_orders", dimensions: [("account", id)]).record(account.unknownOrders)
                Gauge(label: "gateway_broker_connected", dimensions: [("account", id), ("broker", account.broker)])
                    .record(account.connection == "connected" ? 1 : 0)
                for state in states {
                    Gauge(label: "gateway_trading_state", dimensions: [("account", id), ("state", state)])
                        .record(account.tradingState == state ? 1 : 0)
                }
            }
            Gauge(label: "gateway_journal_seq").record(status.seq)
            Gauge(label: "gateway_journal_failed").record(status.journalFailure == nil ? 0 : 1)
            Gauge(label: "gateway_journal_tables_failed").record(status.tablesProblem == nil ? 0 : 1)
            Gauge(label: "gateway_journal_backlog_events").record(status.tablesBacklog)
        }
        return registry.emitToBuffer()
    }
}
