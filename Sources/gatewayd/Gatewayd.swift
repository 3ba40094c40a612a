import Alerts
import ArgumentParser
import BrokerAPI
import BrokerAlpaca
import BrokerPaper
import ControlServer
import Execution
import Foundation
import GatewayCore
import Glibc
import Journal
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SystemdIntegration
import UnixSignals

/// `gatewayd`: reads the configuration, opens the journal, replays it, connects the brokers and serves
/// the control socket until SIGTERM or SIGINT, then drains and exits 0.
@main
struct Gatewayd: AsyncParsableCommand {
    static let version = "0.1.0"
    /// With a durable journal, how long (in nanoseconds) a batch of broker events alone waits for requests
    /// to share its fsync: about one fsync on this kind of machine. With one client sending an order as
    /// soon as the last is answered, the next order usually arrives meanwhile, and its acknowledgement
    /// then waits for one fsync instead of two (docs/performance.md). A `fast` journal's commit costs
    /// less than the wait, so it does not wait.
    static let commitLinger: Int64 = 300_000

    static let configuration = CommandConfiguration(
        commandName: "gatewayd",
        abstract: "The execution gateway daemon: journals, risk-checks and routes orders to brokers.",
        version: version)

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String?

    @Option(
        name: .customLong("check-config"),
        help: "Check this configuration file and its credentials, print every problem, and exit (78 when any).")
    var checkConfig: String?

    @Option(name: .long, help: "The control socket's path (overrides the file).")
    var socket: String?

    @Option(name: .long, help: "The journal's path (overrides the file).")
    var journal: String?

    func validate() throws {
        guard (config == nil) != (checkConfig == nil) else {
            throw ValidationError("give --config FILE to run, or --check-config FILE to check a file")
        }
    }

    func run() async throws {
        // One malloc arena for every thread, before the other threads start: with one arena per thread
        // (glibc's default, up to eight per core), memory freed by one thread is not reused by another's
        // arena, and the daemon held about 20 MiB more at its peak with 100 000 open orders; no
        // difference in throughput was measured (docs/performance.md). `MALLOC_ARENA_MAX` in the
        // environment still wins.
        if ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil { Self.useOneMallocArena() }
        if let checkConfig {
            let settings = try Self.read(checkConfig)
            let credentials = Credentials(
                environment: ProcessInfo.processInfo.environment, configured: settings.credentialsDir)
            var problems: [String] = []
            if case .failure(let found) = settings.alertDestinations(credentials) { problems += found.problems }
            if case .failure(let found) = settings.accessPolicy() { problems += found.problems }
            if case .failure(let found) = settings.alpacaSettings(credentials) { problems += found.problems }
            if case .failure(let found) = PaperMarketService.replays(settings) { problems += found.problems }
            guard problems.isEmpty else {
                FileHandle.standardError.write(
                    Data("gatewayd: \(checkConfig) has problems:\n\(ConfigProblems(problems))\n".utf8))
                throw ExitCode(78)
            }
            print(
                "gatewayd: \(checkConfig) is good: \(settings.accounts.count) account(s), "
                    + "\(settings.alerts.count) alert destination(s)")
            return
        }
        var settings = try Self.read(config!)
        if let socket { settings.socket = socket }
        if let journal { settings.journal = journal }
        try await serve(settings)
    }

    /// The file parsed and validated; every problem printed, and exit 78, when it is not good.
    static func read(_ config: String) throws -> GatewayConfig {
        do {
            let text = try String(contentsOfFile: config, encoding: .utf8)
            return try GatewayConfig.parse(text)
        } catch let problems as ConfigProblems {
            FileHandle.standardError.write(Data("gatewayd: \(config) has problems:\n\(problems)\n".utf8))
            throw ExitCode(78)
        } catch {
            FileHandle.standardError.write(
                Data("gatewayd: cannot read \(config): \(error.localizedDescription)\n".utf8))
            throw ExitCode(66)
        }
    }

    func serve(_ settings: GatewayConfig) async throws {
        let config = self.config ?? ""
        let environment = ProcessInfo.processInfo.environment
        // SIGHUP reloads; until its service traps it, it must not end the process.
        signal(SIGHUP, SIG_IGN)
        Self.bootstrapLogging(settings, environment: environment)
        let logger = Logger(label: "gatewayd")
        let clock = SystemWallClock()
        let notifier = SystemdNotifier(environment: environment)
        let credentials = Credentials(environment: environment, configured: settings.credentialsDir)
        let destinations: [AlertDestination]
        switch settings.alertDestinations(credentials) {
        case .success(let found): destinations = found
        case .failure(let problems):
            FileHandle.standardError.write(Data("gatewayd: \(config) has problems:\n\(problems)\n".utf8))
            throw ExitCode(78)
        }
        let access: AccessPolicy
        switch settings.accessPolicy() {
        case .success(let policy): access = policy
        case .failure(let problems):
            FileHandle.standardError.write(Data("gatewayd: \(config) has problems:\n\(problems)\n".utf8))
            throw ExitCode(78)
        }
        let alpaca: [AccountID: AlpacaSettings]
        switch settings.alpacaSettings(credentials) {
        case .success(let found): alpaca = found
        case .failure(let problems):
            FileHandle.standardError.write(Data("gatewayd: \(config) has problems:\n\(problems)\n".utf8))
            throw ExitCode(78)
        }
        let replays: [PaperMarketService.Replay]
        switch PaperMarketService.replays(settings) {
        case .success(let found): replays = found
        case .failure(let problems):
            FileHandle.standardError.write(Data("gatewayd: \(config) has problems:\n\(problems)\n".utf8))
            throw ExitCode(78)
        }
        let registry = settings.metricsListen.map { _ in MetricsWiring.bootstrap() }

        // The socket listens before the journal is replayed: a client that connects during a long
        // recovery waits in the listen queue and is answered once the engine has started.
        let listener: ControlListener
        do {
            listener = try Self.listener(settings, environment: environment)
        } catch {
            logger.critical("cannot listen on the control socket", metadata: ["error": "\(error)"])
            throw ExitCode(71)
        }

        let journal: EventJournal
        do {
            journal = try EventJournal(path: settings.journal, durability: settings.durability)
        } catch {
            logger.critical(
                "cannot open the journal", metadata: ["journal.path": "\(settings.journal)", "error": "\(error)"])
            throw ExitCode(74)
        }
        if journal.recoveredEvents > 0 {
            logger.notice(
                "copied events from the journal's log into its tables: the last stop was not a clean one",
                metadata: ["journal.recovered": "\(journal.recoveredEvents)"])
        }
        let accounts = settings.accounts.map { account in
            var engineAccount = EngineAccount(
                id: account.id,
                adapter: Self.adapter(for: account, alpaca: alpaca[account.id], clock: clock, logger: logger),
                openingCash: account.startingCash,
                currency: account.currency, limits: account.risk, sizing: account.sizing)
            engineAccount.strategyLimits = account.strategyLimits
            engineAccount.strategySizing = account.strategySizing
            engineAccount.session = account.session
            engineAccount.reconcile = account.reconcile
            return engineAccount
        }
        let progress = RecoveryProgress()
        let extender = StartupExtender.start(notifier: notifier, progress: progress)
        // One thread runs the engine and serves the control socket: a request is read, handled,
        // committed and answered there without waking another thread (ExecutionEngine, ControlServer).
        let engineLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
        let engine: ExecutionEngine
        do {
            engine = try await ExecutionEngine(
                journal: journal, accounts: accounts, clock: clock, logger: logger,
                thread: EngineThread(
                    executor: engineLoop.executor, schedule: { engineLoop.execute($0) },
                    later: { delay, body in engineLoop.scheduleTask(in: .nanoseconds(delay)) { body() } }),
                checkpointEvery: settings.checkpointEvery,
                commitLinger: settings.durability == .durable ? Self.commitLinger : 0, progress: progress)
            extender?.stop()
        } catch {
            extender?.stop()
            logger.critical("cannot replay the journal", metadata: ["error": "\(error)"])
            throw ExitCode(74)
        }
        logger.info("journal recovered", metadata: ["journal.events_replayed": "\(progress.events)"])
        let accessControl = AccessControl(access)
        let alerts = Self.alertDispatcher(destinations, engine: engine, clock: clock, logger: logger)
        let reloader = ConfigReloader(
            path: config, settings: settings, engine: engine, access: accessControl, alerts: alerts,
            credentials: credentials, logger: logger, overrides: (socket, journal: self.journal))
        let server = ControlServer(
            listener: listener,
            handler: RequestHandler(
                engine: engine, clock: clock, version: Self.version,
                alerts: alerts.map { DispatcherAlertTesting(dispatcher: $0, host: Self.host) }, reloader: reloader,
                spillDirectory: URL(fileURLWithPath: settings.journal).deletingLastPathComponent().path),
            logger: logger, access: accessControl, eventLoop: engineLoop)
        let paperBrokers = accounts.compactMap { $0.adapter as? PaperBroker }
        let paperMarket = PaperMarketService(
            brokers: paperBrokers,
            tick: settings.accounts.contains { $0.paper?.rules.latency != PaperLatency() }
                ? .milliseconds(10) : .milliseconds(100),
            replays: replays, engine: engine, clock: clock, logger: logger)
        let metricsServices: [any Service] =
            zip(settings.metricsListen.map { [$0] } ?? [], registry.map { [$0] } ?? []).map { address, registry in
                MetricsServer(host: address.host, port: address.port, logger: logger) {
                    await MetricsWiring.page(registry, engine: engine)
                }
            }
        func service(_ service: any Service) -> ServiceGroupConfiguration.ServiceConfiguration {
            .init(
                service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        // The alert dispatcher comes first so that it stops last: it tells the destinations about the
        // engine's final events, then that the gateway is stopping. The notify service comes last so that
        // it hears of the shutdown first (STOPPING=1).
        let services: [any Service] =
            (alerts.map { [$0] } ?? []) + [engine, KillSwitchSignal(engine: engine, logger: logger)]
            + [ReloadSignal(reloader: reloader, logger: logger), server, paperMarket] + metricsServices
            + [
                SystemdNotifyService(
                    notifier: notifier, watchdog: WatchdogSettings(environment: environment), engine: engine,
                    server: server, logger: logger)
            ]
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map(service), gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info(
            "gatewayd starting",
            metadata: [
                "version": "\(Self.version)", "journal.path": "\(settings.journal)", "socket": "\(listener.path)",
                "journal.durability": "\(settings.durability.rawValue)", "allocator": "\(Self.allocator)",
            ])
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
            logger.critical("gatewayd stopped on an error", metadata: ["error": "\(error)"])
        }
        do {
            try journal.close()
        } catch {
            logger.error("closing the journal failed", metadata: ["error": "\(error)"])
        }
        if failure != nil { throw ExitCode(1) }
        logger.info("gatewayd stopped")
    }

    /// Structured journald entries when stderr is the journal (or `$GATEWAYD_JOURNAL_SOCKET` names a
    /// socket speaking journald's protocol); readable lines on stderr otherwise.
    static func bootstrapLogging(_ settings: GatewayConfig, environment: [String: String]) {
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        let journald =
            environment["GATEWAYD_JOURNAL_SOCKET"]
            ?? (JournaldLogHandler.stderrIsJournal(environment: environment) ? JournaldLogHandler.defaultSocket : nil)
        LoggingSystem.bootstrap { label in
            if let journald {
                var handler = JournaldLogHandler(label: label, socketPath: journald)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// The socket systemd passed (socket activation), or the configured path bound here.
    static func listener(_ settings: GatewayConfig, environment: [String: String]) throws -> ControlListener {
        let passed = try SocketActivation.passedSockets(environment: environment)
        for name in SocketActivation.variables { unsetenv(name) }
        guard let first = passed.first else {
            return try ControlListener.bind(path: settings.socket, mode: settings.socketMode)
        }
        guard passed.count == 1 else {
            throw ActivationError(
                "systemd passed \(passed.count) sockets; gatewayd.socket must have exactly one ListenStream=")
        }
        return ControlListener.inherited(first)
    }

    static var host: String { ProcessInfo.processInfo.hostName }

    /// The alert dispatcher, fed the engine's events from the journal's current end; `nil` without
    /// destinations.
    static func alertDispatcher(
        _ destinations: [AlertDestination], engine: ExecutionEngine, clock: any WallClock, logger: Logger
    ) -> AlertDispatcher<ContinuousClock>? {
        guard !destinations.isEmpty else { return nil }
        let accounts = engine.accountIDs.count
        return AlertDispatcher(
            destinations: destinations, transport: URLSessionAlertTransport(), clock: ContinuousClock(),
            wallClock: clock, logger: logger,
            startText:
                "GATEWAY started · gatewayd \(version) on \(host) · \(accounts) account\(accounts == 1 ? "" : "s")",
            startAfter: engine.lastPublishedSeq,
            notes: { note in
                if case .success = await engine.journalAlertDrop(note) { return true }
                return false
            },
            feed: { after in
                engine.subscribe(afterSeq: after, kinds: AlertFeedEvent.kinds).map { event in
                    AlertFeedEvent(seq: event.seq, kind: event.kind, strategy: event.strategy, line: event.line)
                }
            })
    }

    /// The one place that knows every broker adapter.
    static func adapter(
        for account: GatewayConfig.Account, alpaca: AlpacaSettings?, clock: any WallClock, logger: Logger
    ) -> any BrokerAdapter {
        switch account.broker {
        case "alpaca" where alpaca != nil:
            var logger = logger
            logger[metadataKey: "account"] = "\(account.id)"
            logger[metadataKey: "broker"] = "alpaca"
            return AlpacaAdapter(settings: alpaca!, clock: clock, logger: logger)
        default:
            let broker = PaperBroker(
                clock: clock, ledgerPath: account.paper?.ledger, faults: account.paper?.faults ?? PaperFaults(),
                costs: account.paper?.costs ?? CostModel(), rules: account.paper?.rules ?? PaperRules(),
                cash: account.startingCash.isPositive ? account.startingCash : nil, calendar: account.paper?.calendar)
            if let retention = account.paper?.retention {
                broker.setRetention(finishedOrders: retention.keepFinished, compactEvery: retention.rewriteLines)
            }
            // Read while the journal replays: the engine connects the broker once it has.
            broker.readLedgerAhead()
            return broker
        }
    }
}

extension Gatewayd {
    /// The heap allocator this process runs with: `jemalloc` when the unit's `LD_PRELOAD` found it (it
    /// defines `mallctl`, glibc does not), else `glibc`.
    static var allocator: String { dlsym(nil, "mallctl") == nil ? "glibc" : "jemalloc" }

    /// glibc's `mallopt(M_ARENA_MAX, 1)`. `malloc.h` is not part of Swift's Glibc module, so the
    /// function is looked up by name; `M_ARENA_MAX` is -8 in glibc's `malloc.h`.
    static func useOneMallocArena() {
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(-8, 1)
    }
}
