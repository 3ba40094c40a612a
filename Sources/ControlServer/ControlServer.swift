import ControlProtocol
import Execution
public import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization
import Glibc
import Foundation

/// The Unix-socket server of the control protocol (PROTOCOL.md). Each connection reads lines one at a
/// time and answers them in order; a `subscribe` streams events beside the answers. Bad input is
/// answered and the connection goes on; a line over 64 KiB is answered with `too_large` and the
/// connection closed. On graceful shutdown it stops accepting, stops reading, finishes the requests in
/// flight and closes every connection.
public final class ControlServer: Service, Sendable {
    let listener: ControlListener
    let handler: RequestHandler
    let logger: Logger
    let access: AccessControl
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    /// Event streams under way, ended at shutdown so that no connection outlives the server.
    private let subscriptions = Mutex<(stopping: Bool, tasks: [ObjectIdentifier: Task<Void, Never>])>((false, [:]))
    private let ready: AsyncStream<Void>.Continuation
    /// Yields once when the socket is listening.
    public let listening: AsyncStream<Void>

    /// Serves `listener` (already listening: connections made before `run` wait in its queue); every
    /// request is checked against the peer's role under `access`.
    public init(listener: ControlListener, handler: RequestHandler, logger: Logger, access: AccessControl) {
        self.listener = listener
        self.handler = handler
        self.logger = logger
        self.access = access
        (listening, ready) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func run() async throws {
        let socketPath = listener.path
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(listener.descriptor) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder()))
                    return try NIOAsyncChannel<LineFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        logger.info(
            "listening",
            metadata: ["socket": "\(socketPath)", "socket.activated": "\(!listener.ownsPath)"])
        ready.yield()
        let serverChannel = server.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
            self.stopReading()
        }
        if listener.ownsPath { unlink(socketPath) }
        logger.info("control server stopped")
    }

    private func stopReading() {
        let open = connections.withLock { Array($0.values) }
        for channel in open { channel.close(mode: .input, promise: nil) }
        let streams = subscriptions.withLock { state in
            state.stopping = true
            return Array(state.tasks.values)
        }
        for task in streams { task.cancel() }
    }

    /// Registers a connection's event stream; cancels it at once when the server is already stopping.
    private func track(_ key: ObjectIdentifier, _ task: Task<Void, Never>?) {
        let stopping = subscriptions.withLock { state in
            state.tasks[key] = task
            return state.stopping
        }
        if stopping { task?.cancel() }
    }

    private func serve(_ connection: NIOAsyncChannel<LineFrame, ByteBuffer>) async {
        let key = ObjectIdentifier(connection.channel)
        connections.withLock { $0[key] = connection.channel }
        defer { _ = connections.withLock { $0.removeValue(forKey: key) } }
        let peer = await PeerCredentials.of(connection.channel)
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await self.converse(key, peer: peer, inbound: inbound, outbound: outbound)
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func converse(
        _ key: ObjectIdentifier, peer: PeerCredentials?, inbound: NIOAsyncChannelInboundStream<LineFrame>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws {
        var subscription: Task<Void, Never>?
        defer {
            subscription?.cancel()
            track(key, nil)
        }
        for try await frame in inbound {
            switch frame {
            case .tooLarge:
                let answer = AnswerWriter().failure(
                    id: .null, code: "too_large",
                    message: "a request line is limited to 65536 bytes; closing the connection")
                try await outbound.write(ByteBuffer(string: answer + "\n"))
                return
            case .line(let buffer):
                // The role is looked up for each request, so a reload of `access:` applies at once.
                let caller = RequestHandler.Caller(peer: peer, role: access.policy.role(of: peer))
                let outcome = await handler.handle(Data(buffer.readableBytesView), from: caller)
                switch outcome {
                case .answer(let line):
                    try await outbound.write(ByteBuffer(string: line + "\n"))
                case .subscribe(let line, let events):
                    subscription?.cancel()
                    try await outbound.write(ByteBuffer(string: line + "\n"))
                    subscription = Task { await Self.stream(events, to: outbound) }
                    track(key, subscription)
                }
            }
        }
        // The client stopped sending but may still be reading its events: stream on until it closes,
        // the stream ends, or the server stops.
        if let subscription { await subscription.value }
    }

    /// Writes events as they come; when the stream ends while the connection is still open, says so.
    static func stream(_ events: AsyncStream<PublishedEvent>, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>)
        async
    {
        var last: Int64 = 0
        do {
            for await event in events {
                try await outbound.write(ByteBuffer(string: event.line + "\n"))
                last = event.seq
            }
            guard !Task.isCancelled else { return }
            let line =
                "{\"event\":\"subscription_ended\",\"last_seq\":\(last),\"reason\":\"the gateway is stopping or this client fell too far behind; subscribe again with after_seq\"}"
            try await outbound.write(ByteBuffer(string: line + "\n"))
        } catch {
            return
        }
    }
}

/// A failure to start the control server.
public struct ControlServerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
