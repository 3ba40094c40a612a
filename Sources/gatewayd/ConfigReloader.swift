import Alerts
import ControlProtocol
import ControlServer
import Execution
import Foundation
import GatewayCore
import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads the configuration file (SIGHUP, or the `reload` verb) and applies what can change while
/// trading: each account's risk limits and sizing (the engine takes them and journals
/// `config_reloaded` in one batch, so the next order faces them), the control socket's `access:` roles
/// and the alert destinations (unchanged ones keep their queues). Credentials are not re-read: under
/// systemd they are fixed for the service's life, so a destination's secret comes from the same files
/// as at start. Everything else that differs from the running daemon — accounts, brokers, paths, metrics,
/// log level — is listed as needing a restart, never half-applied. A file with problems changes
/// nothing. One reload at a time.
actor ConfigReloader: ConfigReloading {
    let path: String
    let engine: ExecutionEngine
    let access: AccessControl
    /// `nil` when the daemon started without alert destinations: adding some then needs a restart.
    let alerts: AlertDispatcher<ContinuousClock>?
    let credentials: Credentials
    let logger: Logger
    /// Command-line overrides, applied to the re-read file as at start.
    let overrides: (socket: String?, journal: String?)
    /// The file as the daemon started with it: what restart-only settings are compared with.
    let started: GatewayConfig
    /// The file as last applied: what live settings are compared with.
    var current: GatewayConfig

    init(
        path: String, settings: GatewayConfig, engine: ExecutionEngine, access: AccessControl,
        alerts: AlertDispatcher<ContinuousClock>?, credentials: Credentials, logger: Logger,
        overrides: (socket: String?, journal: String?)
    ) {
        self.alerts = alerts
        self.credentials = credentials
        self.path = path
        self.started = settings
        self.current = settings
        self.engine = engine
        self.access = access
        self.logger = logger
        self.overrides = overrides
    }

    func reload(requestedBy: String) async -> Result<ReloadAnswer, ReloadFailure> {
        var next: GatewayConfig
        do {
            next = try GatewayConfig.parse(try String(contentsOfFile: path, encoding: .utf8))
        } catch let problems as ConfigProblems {
            return refuse("\(path) has problems; nothing changed", problems.problems, requestedBy)
        } catch {
            return refuse("cannot read \(path): \(error.localizedDescription); nothing changed", [], requestedBy)
        }
        if let socket = overrides.socket { next.socket = socket }
        if let journal = overrides.journal { next.journal = journal }
        let policy: AccessPolicy
        switch next.accessPolicy() {
        case .success(let resolved): policy = resolved
        case .failure(let problems):
            return refuse("\(path) has problems; nothing changed", problems.problems, requestedBy)
        }
        let destinations: [AlertDestination]
        switch next.alertDestinations(credentials) {
        case .success(let found): destinations = found
        case .failure(let problems):
            return refuse("\(path) has problems; nothing changed", problems.problems, requestedBy)
        }
        var applied: [String] = []
        var limits: [AccountID: AccountLimits] = [:]
        let running = Dictionary(uniqueKeysWithValues: current.accounts.map { ($0.id, $0) })
        for account in next.accounts {
            guard let before = running[account.id] else { continue }
            let changes = [
                ("risk limits", before.risk != account.risk),
                ("strategy limits", before.strategyLimits != account.strategyLimits),
                ("sizing", before.sizing != account.sizing),
                ("strategy sizing", before.strategySizing != account.strategySizing),
            ].filter(\.1).map { "\(account.id): \($0.0)" }
            guard !changes.isEmpty else { continue }
            applied += changes
            limits[account.id] = AccountLimits(
                limits: account.risk, strategyLimits: account.strategyLimits, sizing: account.sizing,
                strategySizing: account.strategySizing)
        }
        if next.access != current.access { applied.append("access: roles") }
        var needsRestart = Self.restartOnly(started, next)
        let alertsChanged = "\(current.alerts)" != "\(next.alerts)"
        if alertsChanged {
            if alerts != nil {
                applied.append("alerts: \(destinations.count) destination\(destinations.count == 1 ? "" : "s")")
            } else {
                needsRestart.append("alerts (none were configured at start)")
            }
        }
        let note = ConfigReloadNote(
            requestedBy: requestedBy, path: path, applied: applied, needsRestart: needsRestart)
        switch await engine.reloadLimits(limits, note: note) {
        case .success(let seq):
            access.replace(with: policy)
            if alertsChanged { alerts?.replace(destinations: destinations) }
            current = next
            return .success(ReloadAnswer(applied: applied, needsRestart: needsRestart, seq: seq))
        case .failure(let error):
            return refuse("the engine did not take the new limits: \(error.message)", [], requestedBy)
        }
    }

    private func refuse(_ message: String, _ problems: [String], _ requestedBy: String) -> Result<
        ReloadAnswer, ReloadFailure
    > {
        logger.error(
            "configuration not reloaded",
            metadata: [
                "requested_by": "\(requestedBy)", "config.path": "\(path)", "error": "\(message)",
                "problems": "\(problems.joined(separator: "; "))",
            ])
        return .failure(ReloadFailure(message: message, problems: problems))
    }

    /// Settings that differ between the running daemon and the file but are read only at start.
    static func restartOnly(_ old: GatewayConfig, _ new: GatewayConfig) -> [String] {
        var differences: [String] = []
        func check(_ name: String, _ changed: Bool) { if changed { differences.append(name) } }
        check("socket", old.socket != new.socket)
        check("socket_mode", old.socketMode != new.socketMode)
        check("journal", old.journal != new.journal)
        check("journal_checkpoint_every", old.checkpointEvery != new.checkpointEvery)
        check("journal_durability", old.durability != new.durability)
        check("log_level", old.logLevel != new.logLevel)
        check("credentials_dir", old.credentialsDir != new.credentialsDir)
        check("metrics_listen", old.metricsListen != new.metricsListen)
        let oldAccounts = Dictionary(uniqueKeysWithValues: old.accounts.map { ($0.id, $0) })
        let newIDs = Set(new.accounts.map(\.id))
        for account in new.accounts {
            guard let before = oldAccounts[account.id] else {
                differences.append("accounts: \(account.id) added")
                continue
            }
            let fields = [
                ("broker", before.broker != account.broker), ("currency", before.currency != account.currency),
                ("starting_cash", before.startingCash != account.startingCash),
                ("paper", "\(String(describing: before.paper))" != "\(String(describing: account.paper))"),
                ("alpaca", before.alpaca != account.alpaca),
                ("session", "\(before.session)" != "\(account.session)"),
                ("reconcile", before.reconcile != account.reconcile),
            ]
            for (field, changed) in fields where changed { differences.append("\(account.id): \(field)") }
        }
        for id in old.accounts.map(\.id) where !newIDs.contains(id) { differences.append("accounts: \(id) removed") }
        return differences
    }
}

/// SIGHUP re-reads the configuration (`systemctl reload gatewayd`).
struct ReloadSignal: Service {
    let reloader: ConfigReloader
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                logger.notice("SIGHUP: re-reading the configuration")
                if case .success(let answer) = await reloader.reload(requestedBy: "SIGHUP") {
                    logger.notice(
                        "reloaded",
                        metadata: [
                            "applied": "\(answer.applied.joined(separator: "; "))",
                            "needs_restart": "\(answer.needsRestart.joined(separator: "; "))",
                            "journal.seq": "\(answer.seq)",
                        ])
                }
            }
        }
    }
}
