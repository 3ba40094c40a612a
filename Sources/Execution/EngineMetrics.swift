import GatewayCore
import Metrics

/// The engine's figures for swift-metrics (exported by `gatewayd` as Prometheus text): orders by the
/// status they reached, risk rejections by check, and how long each journal commit took. Metric objects
/// are made once per label set and kept, so the order path does no registry look-up after the first.
struct EngineMetrics {
    private var orders: [AccountID: [OrderStatus: Counter]] = [:]
    private var rejections: [AccountID: [String: Counter]] = [:]
    let commit = Timer(label: "gateway_journal_commit_seconds")

    /// One durable journal commit took `duration`.
    func committed(in duration: Duration) { commit.record(duration: duration) }

    /// An order reached `status` (counted once per transition, journaled in the same batch).
    mutating func order(_ account: AccountID, reached status: OrderStatus) {
        if let counter = orders[account]?[status] {
            counter.increment()
            return
        }
        let counter = Counter(
            label: "gateway_orders_total", dimensions: [("account", account.rawValue), ("status", status.rawValue)])
        orders[account, default: [:]][status] = counter
        counter.increment()
    }

    /// An order or a replace failed pre-trade risk: one count for each failed check.
    mutating func rejected(_ account: AccountID, checks: [RiskFailure]) {
        for failure in checks {
            if let counter = rejections[account]?[failure.check] {
                counter.increment()
                continue
            }
            let counter = Counter(
                label: "gateway_risk_rejections_total",
                dimensions: [("account", account.rawValue), ("check", failure.check)])
            rejections[account, default: [:]][failure.check] = counter
            counter.increment()
        }
    }
}
