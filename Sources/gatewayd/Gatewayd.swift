import Alerts
import ArgumentParser
import BrokerAPI
import BrokerPaper
import ControlServer
import Execution
import Foundation
import GatewayCore
import Journal
import Logging
import ServiceLifecycle
import UnixSignals

/// `gatewayd`: reads the configuration, opens the journal, replays it, connects the brokers and serves
/// the control socket until SIGTERM or SIGINT, then drains and exits 0.
@main
struct Gatewayd: AsyncParsableCommand {
    static let version = "0.1.0"

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
        if let checkConfig {
            let settings = try Self.read(checkConfig)
            let credentials = Credentials(
                environment: ProcessInfo.processInfo.environment, configured: settings.credentialsDir)
            if case .failure(let problems) = settings.alertDestinations(credentials) {
                FileHandle.standardError.write(Data("gatewayd: \(checkConfig) has problems:\n\(problems)\n".utf8))
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

        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gatewayd")
        let clock = SystemWallClock()
        let credentials = Credentials(
            environment: ProcessInfo.processInfo.environment, configured: settings.credentialsDir)
        let destinations: [AlertDestination]
        switch settings.alertDestinations(credentials) {
        case .success(let found): destinations = found
        case .failure(let problems):
            FileHandle.standardError.write(Data("gatewayd: \(config) has problems:\n\(problems)\n".utf8))
            throw ExitCode(78)
        }

        let journal: EventJournal
        do {
            journal = try EventJournal(path: settings.journal)
        } catch {
            logger.critical(
                "cannot open the journal", metadata: ["journal.path": "\(settings.journal)", "error": "\(error)"])
            throw ExitCode(74)
        }
        let accounts = settings.accounts.map { account in
            var engineAccount = EngineAccount(
                id: account.id, adapter: Self.adapter(for: account, clock: clock), openingCash: account.startingCash,
                currency: account.currency, limits: account.risk, sizing: account.sizing)
            engineAccount.strategyLimits = account.strategyLimits
            engineAccount.strategySizing = account.strategySizing
            engineAccount.session = account.session
            return engineAccount
        }
        let engine: ExecutionEngine
        do {
            engine = try await ExecutionEngine(
                journal: journal, accounts: accounts, clock: clock, logger: logger,
                checkpointEvery: settings.checkpointEvery)
        } catch {
            logger.critical("cannot replay the journal", metadata: ["error": "\(error)"])
            throw ExitCode(74)
        }
        let alerts = Self.alertDispatcher(destinations, engine: engine, clock: clock, logger: logger)
        let server = ControlServer(
            socketPath: settings.socket,
            handler: RequestHandler(
                engine: engine, clock: clock, version: Self.version,
                alerts: alerts.map { DispatcherAlertTesting(dispatcher: $0, host: Self.host) }),
            logger: logger, socketMode: settings.socketMode)
        // The alert dispatcher comes first so that it stops last: it tells the destinations about the
        // engine's final events, then that the gateway is stopping.
        let alertServices: [ServiceGroupConfiguration.ServiceConfiguration] =
            alerts.map {
                [
                    .init(
                        service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                ]
            } ?? []
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: alertServices + [
                    .init(
                        service: engine, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(
                        service: KillSwitchSignal(engine: engine, logger: logger),
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(
                        service: server, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(
                        service: SystemdNotifyService(
                            notifier: SystemdNotifier(environment: ProcessInfo.processInfo.environment),
                            engine: engine, server: server, logger: logger),
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info(
            "gatewayd starting",
            metadata: [
                "version": "\(Self.version)", "journal.path": "\(settings.journal)", "socket": "\(settings.socket)",
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
    static func adapter(for account: GatewayConfig.Account, clock: any WallClock) -> any BrokerAdapter {
        switch account.broker {
        default:
            return PaperBroker(
                clock: clock, ledgerPath: account.paper?.ledger, faults: account.paper?.faults ?? PaperFaults())
        }
    }
}
