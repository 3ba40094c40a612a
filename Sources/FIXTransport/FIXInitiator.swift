public import FIXCodec
public import FIXSession
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Connects to a FIX acceptor and keeps the session connected: after a connection ends (or fails to
/// open) it connects again after ``FIXReconnectBackoff``'s wait, until ``shutdown()``.
///
/// The session's store carries sequence numbers across connections, so a reconnect resumes with a
/// ResendRequest for what was missed rather than losing it.
public final class FIXInitiator: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let state: NIOLoopBound<State>
    /// The session, for sending from any thread (``FIXSessionHandle/sendSoon(_:)``).
    public let session: FIXSessionHandle
    /// One element per connection that ended (or failed to open): whether it had logged on.
    public let connectionsEnded: AsyncStream<Bool>
    private let endedContinuation: AsyncStream<Bool>.Continuation

    private final class State {
        var backoff: FIXReconnectBackoff
        var stopped = false
        var channel: (any Channel)?
        init(backoff: FIXReconnectBackoff) { self.backoff = backoff }
    }

    /// Starts connecting to `host`:`port` as the initiator of `settings`.
    public init(
        host: String, port: Int, settings: FIXSessionSettings, dictionary: FIXDictionary,
        makeStore: @escaping @Sendable () -> any FIXMessageStore, application: any FIXApplication,
        tls: FIXTLSConfiguration? = nil, backoff: FIXReconnectBackoff = FIXReconnectBackoff(),
        clock: @escaping @Sendable () -> FIXTimestamp = FIXWallClock.now,
        logger: Logger = Logger(label: "fix.initiator")
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let sslContext = try tls?.makeClientContext()
        let hostname = tls?.serverHostname ?? host
        let wrapped = ReconnectingApplication(inner: application)
        let (driver, state, handle, loggedOnThisConnection) = try await loop.submit {
            let session = FIXSession(settings: settings, dictionary: dictionary, store: makeStore())
            let driver = FIXSessionDriver(
                session: session, eventLoop: loop, application: wrapped, clock: clock, logger: logger)
            return (
                NIOLoopBound(driver, eventLoop: loop), NIOLoopBound(State(backoff: backoff), eventLoop: loop),
                driver.handle, NIOLoopBound(LogonFlag(), eventLoop: loop)
            )
        }.get()
        self.group = group
        self.state = state
        self.session = handle
        let (ended, continuation) = AsyncStream<Bool>.makeStream()
        connectionsEnded = ended
        endedContinuation = continuation
        // Application callbacks run on the session's event loop, where both of these live.
        wrapped.onLogon.withLock {
            $0 = {
                loggedOnThisConnection.value.value = true
                state.value.backoff.reset()
            }
        }
        let connect: @Sendable () -> Void = {
            Self.connect(
                host: host, port: port, group: group, driver: driver, state: state, sslContext: sslContext,
                hostname: hostname, logger: logger)
        }
        try await loop.submit {
            driver.value.onDisconnect = {
                continuation.yield(loggedOnThisConnection.value.value)
                loggedOnThisConnection.value.value = false
                guard !state.value.stopped else { return }
                let delay = state.value.backoff.nextDelay()
                logger.info("FIX initiator reconnecting", metadata: ["in_ms": "\(delay.components.seconds * 1000)"])
                loop.scheduleTask(in: .nanoseconds(Self.nanoseconds(delay))) { connect() }
            }
            connect()
        }.get()
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    private static func connect(
        host: String, port: Int, group: MultiThreadedEventLoopGroup, driver: NIOLoopBound<FIXSessionDriver>,
        state: NIOLoopBound<State>, sslContext: NIOSSLContext?, hostname: String, logger: Logger
    ) {
        guard !state.value.stopped else { return }
        let loop = driver.eventLoop
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try FIXTLSConfiguration.addClientHandler(sslContext, hostname: hostname, to: channel)
                    }
                    try channel.pipeline.syncOperations.addHandler(FIXInitiatorHandler(driver: driver))
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    state.value.channel = channel
                    if state.value.stopped { channel.close(promise: nil) }
                case .failure(let error):
                    logger.info("FIX initiator cannot connect", metadata: ["error": "\(error)"])
                    driver.value.onDisconnect?()
                }
            }
    }

    /// Closes the current connection without a logout, as a network failure would (for tests of
    /// recovery); the initiator reconnects after its backoff.
    package func dropConnection(thenSend messages: [FIXMessage] = []) async throws {
        let state = self.state
        let session = self.session
        // One event-loop task: the messages go to the session after the close and before any reconnect.
        try await state.eventLoop.submit {
            state.value.channel?.close(promise: nil)
            session.driver.value.send(messages)
        }.get()
    }

    /// Logs out, closes the connection and stops reconnecting.
    public func shutdown() async throws {
        let state = self.state
        let session = self.session
        try await state.eventLoop.submit {
            state.value.stopped = true
            if session.driver.value.session.isLoggedOn {
                session.driver.value.logout(reason: nil)
            } else {
                state.value.channel?.close(promise: nil)
            }
        }.get()
        try await group.shutdownGracefully()
    }
}

/// Whether the current connection logged on.
private final class LogonFlag {
    var value = false
}

/// Passes everything to the user's application and tells the initiator about logons.
private final class ReconnectingApplication: FIXApplication {
    let inner: any FIXApplication
    let onLogon = Mutex<(@Sendable () -> Void)?>(nil)

    init(inner: any FIXApplication) { self.inner = inner }

    func received(_ message: FIXMessage, session: FIXSessionHandle) { inner.received(message, session: session) }

    func loggedOn(session: FIXSessionHandle) {
        onLogon.withLock { $0 }?()
        inner.loggedOn(session: session)
    }

    func loggedOut(session: FIXSessionHandle) { inner.loggedOut(session: session) }
}

/// Hands a connection's bytes to the initiator's session.
final class FIXInitiatorHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let driver: NIOLoopBound<FIXSessionDriver>

    init(driver: NIOLoopBound<FIXSessionDriver>) { self.driver = driver }

    func channelActive(context: ChannelHandlerContext) {
        driver.value.attach(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        driver.value.read(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        driver.value.detach(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
