public import FIXCodec
public import FIXSession
public import Logging
import NIOCore
import NIOPosix

/// Accepts FIX connections on a TCP port and binds each to the session its first message names.
///
/// A connection's first message must name a configured session (BeginString, its SenderCompID as our
/// TargetCompID and its TargetCompID as our SenderCompID) that has no connection yet; otherwise the
/// connection is closed without an answer, as QuickFIX's acceptor does. All connections share one
/// event loop, which owns every session's state.
public final class FIXAcceptor: Sendable {
    /// One session the acceptor serves.
    public struct SessionConfiguration: Sendable {
        /// The session's settings (role acceptor).
        public var settings: FIXSessionSettings
        /// The dictionary its messages are validated against.
        public var dictionary: FIXDictionary
        /// Makes the session's store (called once, on the acceptor's event loop).
        public var makeStore: @Sendable () -> any FIXMessageStore

        /// A session with `settings`, validated by `dictionary`, keeping state in what `makeStore` makes.
        public init(
            settings: FIXSessionSettings, dictionary: FIXDictionary,
            makeStore: @escaping @Sendable () -> any FIXMessageStore
        ) {
            self.settings = settings
            self.dictionary = dictionary
            self.makeStore = makeStore
        }
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The port it listens on (the one the system chose when asked for 0).
    public let port: Int

    /// Starts listening on `host`:`port` for `sessions`, delivering to `application`.
    public init(
        host: String = "127.0.0.1", port: Int, sessions: [SessionConfiguration], application: any FIXApplication,
        tls: FIXTLSConfiguration? = nil, clock: @escaping @Sendable () -> FIXTimestamp = FIXWallClock.now,
        logger: Logger = Logger(label: "fix.acceptor")
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let registry = try await loop.submit {
            NIOLoopBound(
                FIXSessionRegistry(
                    sessions: sessions, eventLoop: loop, application: application, clock: clock, logger: logger),
                eventLoop: loop)
        }.get()
        let sslContext = try tls?.makeServerContext()
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext { try FIXTLSConfiguration.addServerHandler(sslContext, to: channel) }
                        try channel.pipeline.syncOperations.addHandler(
                            FIXAcceptorHandler(registry: registry, logger: logger))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        self.group = group
        self.port = channel.localAddress?.port ?? port
    }

    /// Stops listening, closes every connection and ends the event loop.
    public func shutdown() async throws {
        try? await channel.close()
        try await group.shutdownGracefully()
    }
}

/// The acceptor's sessions by identity; lives on the acceptor's event loop.
final class FIXSessionRegistry {
    struct Key: Hashable {
        var beginString: String
        var senderCompID: String
        var targetCompID: String
    }

    private var drivers: [Key: FIXSessionDriver] = [:]

    init(
        sessions: [FIXAcceptor.SessionConfiguration], eventLoop: any EventLoop, application: any FIXApplication,
        clock: @escaping @Sendable () -> FIXTimestamp, logger: Logger
    ) {
        for configuration in sessions {
            let settings = configuration.settings
            let session = FIXSession(
                settings: settings, dictionary: configuration.dictionary, store: configuration.makeStore())
            let key = Key(
                beginString: settings.beginString, senderCompID: settings.senderCompID,
                targetCompID: settings.targetCompID)
            drivers[key] = FIXSessionDriver(
                session: session, eventLoop: eventLoop, application: application, clock: clock, logger: logger)
        }
    }

    func driver(for key: Key) -> FIXSessionDriver? { drivers[key] }
}

/// Reads a connection's first message to find its session, then hands every byte to that session.
final class FIXAcceptorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let registry: NIOLoopBound<FIXSessionRegistry>
    private let logger: Logger
    private var driver: FIXSessionDriver?
    private var pending: ByteBuffer?

    init(registry: NIOLoopBound<FIXSessionRegistry>, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let driver {
            driver.read(buffer)
            return
        }
        if pending == nil { pending = buffer } else { pending!.writeImmutableBuffer(buffer) }
        let key: FIXSessionRegistry.Key
        switch Self.sessionKey(in: Array(pending?.readableBytesView ?? ByteBuffer().readableBytesView)) {
        case .incomplete:
            if (pending?.readableBytes ?? 0) > 65_536 {
                logger.info("FIX connection closed: no whole message in its first 64 KiB")
                context.close(promise: nil)
            }
            return
        case .garbled(let reason):
            // As QuickFIX: a garbled message before logon ends the connection.
            logger.info("FIX connection closed: its first message is garbled", metadata: ["reason": "\(reason)"])
            context.close(promise: nil)
            return
        case .session(let found):
            key = found
        }
        guard let driver = registry.value.driver(for: key) else {
            logger.info("FIX connection for an unknown session closed", metadata: ["session": "\(key)"])
            context.close(promise: nil)
            return
        }
        guard !driver.isAttached else {
            logger.info(
                "FIX connection for a session that is already connected closed", metadata: ["session": "\(key)"])
            context.close(promise: nil)
            return
        }
        self.driver = driver
        driver.attach(context.channel)
        let buffered = pending!
        pending = nil
        driver.read(buffered)
    }

    func channelInactive(context: ChannelHandlerContext) {
        driver?.detach(context.channel)
        driver = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.info("FIX connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// What a connection's first bytes say about its session.
    enum FirstMessage {
        case incomplete
        case garbled(String)
        case session(FIXSessionRegistry.Key)
    }

    /// The session a connection's first whole message names, from our side: (BeginString, its
    /// TargetCompID, its SenderCompID).
    static func sessionKey(in bytes: [UInt8]) -> FirstMessage {
        var framer = FIXFramer()
        framer.append(bytes)
        switch framer.next() {
        case nil:
            return .incomplete
        case .garbled(let reason):
            return .garbled(reason)
        case .message(let range):
            do {
                let message = try FIXMessage(parsing: framer.buffer[range], checkLengthAndChecksum: false)
                return .session(
                    FIXSessionRegistry.Key(
                        beginString: message[FIXTag.beginString] ?? "",
                        senderCompID: message[FIXTag.targetCompID] ?? "",
                        targetCompID: message[FIXTag.senderCompID] ?? ""))
            } catch {
                return .garbled(error.reason)
            }
        }
    }
}

/// The wall clock as a ``FIXTimestamp``.
public enum FIXWallClock {
    /// Now, to the millisecond.
    @Sendable public static func now() -> FIXTimestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return FIXTimestamp(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}
