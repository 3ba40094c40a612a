public import GatewayCore
import Logging

/// An account's limits and sizing as a configuration reload gives them.
public struct AccountLimits: Sendable {
    public var limits: RiskLimits
    public var strategyLimits: [String: RiskLimits]
    public var sizing: SizingPolicy?
    public var strategySizing: [String: SizingPolicy]

    public init(
        limits: RiskLimits, strategyLimits: [String: RiskLimits] = [:], sizing: SizingPolicy? = nil,
        strategySizing: [String: SizingPolicy] = [:]
    ) {
        self.limits = limits
        self.strategyLimits = strategyLimits
        self.sizing = sizing
        self.strategySizing = strategySizing
    }
}

extension ExecutionEngine {
    /// Takes the new limits and sizing, and stages the note; accounts this engine does not have are
    /// skipped (the caller reports them as needing a restart).
    func applyLimits(_ limits: [AccountID: AccountLimits], note: ConfigReloadNote) -> Int64 {
        for (id, update) in limits {
            guard var account = accounts[id] else { continue }
            account.limits = update.limits
            account.strategyLimits = update.strategyLimits
            account.sizing = update.sizing
            account.strategySizing = update.strategySizing
            accounts[id] = account
            riskBooks[id]?.resizeRateWindow(to: account.rateWindow)
        }
        logger.notice(
            "configuration reloaded",
            metadata: [
                "requested_by": "\(note.requestedBy)", "applied": "\(note.applied.joined(separator: "; "))",
                "needs_restart": "\(note.needsRestart.joined(separator: "; "))",
            ])
        return stage(.configReloaded(note), at: clock.now())
    }
}
