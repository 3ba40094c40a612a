import ControlProtocol
import Execution
public import Logging
public import NIOCore
import NIOPosix
public import ServiceLifecycle
import Glibc
import Foundation

/// The Unix-socket server of the control protocol (PROTOCOL.md). Each connection's requests are answered
/// in the order they were sent, and a client may send the next before the last is answered (pipelining):
/// requests that arrive together are handled in one batch of the engine and share its commit. A
/// `subscribe` streams events beside the answers. Bad input is answered and the connection goes on; a
/// line over 64 KiB is answered with `too_large` and the connection closed. On graceful shutdown it
/// stops accepting, stops reading, finishes the requests in flight and closes every connection.
///
/// Connections are served on `eventLoop`, which in `gatewayd` is also the engine's executor: a request
/// is read, decoded, handled, committed and answered on that one thread (see `ExecutionEngine`).
public final class ControlServer: Service, Sendable {
    let listener: ControlListener
    let handler: RequestHandler
    let logger: Logger
    let access: AccessControl
    let eventLoop: any EventLoop
    /// The open connections; touched only on `eventLoop`.
    let registry: NIOLoopBoundBox<ConnectionRegistry>
    private let ready: AsyncStream<Void>.Continuation
    /// Yields once when the socket is listening.
    public let listening: AsyncStream<Void>

    /// Serves `listener` (already listening: connections made before `run` wait in its queue) on
    /// `eventLoop`; every request is checked against the peer's role under `access`.
    public init(
        listener: ControlListener, handler: RequestHandler, logger: Logger, access: AccessControl,
        eventLoop: any EventLoop
    ) {
        self.listener = listener
        self.handler = handler
        self.logger = logger
        self.access = access
        self.eventLoop = eventLoop
        registry = NIOLoopBoundBox.makeBoxSendingValue(
            ConnectionRegistry(), as: ConnectionRegistry.self, eventLoop: eventLoop)
        (listening, ready) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        handler.engine.afterAnswers { [weak self] in
            guard let self, self.eventLoop.inEventLoop else { return }
            self.flushHeld()
        }
    }

    /// Holds `connection`'s written answers for one flush with every other connection's: when the engine
    /// has handed out its batch's answers (`ExecutionEngine.afterAnswers`, on this loop in `gatewayd`), or
    /// else once the loop's work in hand is done. A batch of 16 pipelining clients' orders then costs 16
    /// socket writes (and wake-ups of their readers) instead of one per order.
    func flushSoon(_ connection: ControlConnection) {
        let held = registry.value
        held.unflushed[ObjectIdentifier(connection)] = connection
        guard !held.flushScheduled else { return }
        held.flushScheduled = true
        eventLoop.execute { [self] in
            registry.value.flushScheduled = false
            flushHeld()
        }
    }

    /// Sends every held answer; on `eventLoop`.
    func flushHeld() {
        let held = registry.value
        guard !held.unflushed.isEmpty else { return }
        // Swapped out and its emptied storage given back: a view of the values kept while the dictionary
        // was emptied "keeping its capacity" made new storage for it every flush.
        var connections: [ObjectIdentifier: ControlConnection] = [:]
        swap(&connections, &held.unflushed)
        for connection in connections.values { connection.flushAnswers() }
        connections.removeAll(keepingCapacity: true)
        if held.unflushed.isEmpty { swap(&connections, &held.unflushed) }
    }

    public func run() async throws {
        let socketPath = listener.path
        let serverChannel = try await ServerBootstrap(group: eventLoop)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(ControlConnection(server: self))
                }
            }
            .withBoundSocket(listener.descriptor).get()
        logger.info(
            "listening",
            metadata: ["socket": "\(socketPath)", "socket.activated": "\(!listener.ownsPath)"])
        ready.yield()
        await withGracefulShutdownHandler {
            try? await serverChannel.closeFuture.get()
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
        // Stop every connection (each closes once its requests in flight are answered) and wait for them.
        let registry = self.registry
        let closing = try await eventLoop.submit { registry.value.stopAll() }.get()
        for future in closing { try? await future.get() }
        if listener.ownsPath { unlink(socketPath) }
        logger.info("control server stopped")
    }

    /// Writes events as they come; when the stream ends while the connection is still open, says so.
    /// A write waits for the socket only when the connection's buffer is full, so a slow reader holds up
    /// its own stream and nothing else.
    static func stream(_ events: AsyncStream<PublishedEvent>, to channel: any Channel) async {
        var last: Int64 = 0
        for await event in events {
            let buffer = ByteBuffer(string: event.line + "\n")
            last = event.seq
            if channel.isWritable {
                channel.writeAndFlush(buffer, promise: nil)
            } else {
                do { try await channel.writeAndFlush(buffer) } catch { return }
            }
        }
        guard !Task.isCancelled, channel.isActive else { return }
        try? await channel.writeAndFlush(ByteBuffer(string: subscriptionEnded(lastSeq: last) + "\n"))
    }

    /// The line that tells a subscriber its events stopped.
    static func subscriptionEnded(lastSeq: Int64) -> String {
        "{\"event\":\"subscription_ended\",\"last_seq\":\(lastSeq),\"reason\":\"the gateway is stopping or this client fell too far behind; subscribe again with after_seq\"}"
    }

    /// Events a live subscriber may leave unwritten (its socket full) before it is dropped.
    static let liveBacklogLimit = 65_536
}

/// The server's open connections, on its event loop.
final class ConnectionRegistry {
    var open: [ObjectIdentifier: ControlConnection] = [:]
    var stopping = false
    /// Connections with answers written and not yet flushed (`ControlServer.flushSoon`).
    var unflushed: [ObjectIdentifier: ControlConnection] = [:]
    var flushScheduled = false

    /// Asks every connection to finish and close; returns their close futures.
    func stopAll() -> [EventLoopFuture<Void>] {
        stopping = true
        return open.values.map { $0.stop() }
    }
}

/// One control connection, on the server's event loop. Each request line takes the next slot; its answer
/// is written when every earlier slot's has been, so answers keep the order of the requests whatever
/// order the engine and the tasks finish them in.
final class ControlConnection: ChannelInboundHandler {
    typealias InboundIn = LineFrame
    typealias OutboundOut = ByteBuffer

    enum Answer {
        case outcome(RequestHandler.Outcome)
        /// Written, then the connection closes.
        case last(String)
    }

    let server: ControlServer
    private var context: ChannelHandlerContext?
    private var peer: PeerCredentials?
    /// Lines read before the peer's credentials were known, handled once they are.
    private var early: [LineFrame]? = []
    private var nextSlot = 0
    private var nextToWrite = 0
    private var finished: [Int: Answer] = [:]
    private var subscription: Task<Void, Never>?
    /// A live subscription: its id at the engine's event hub, the last event written, how many events
    /// were written while the socket was full, and whether any wait for a flush.
    private var live: Int?
    private var liveLastSeq: Int64 = 0
    private var liveBehind = 0
    private var liveUnflushed = false
    private var inputClosed = false
    private var stopping = false
    private var closing = false

    init(server: ControlServer) {
        self.server = server
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// The pipeline is torn down when the channel closes: let go of the context (which holds this
    /// handler) so that neither outlives the connection.
    func handlerRemoved(context: ChannelHandlerContext) {
        endSubscriptions()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        let registry = server.registry.value
        registry.open[ObjectIdentifier(self)] = self
        if registry.stopping { _ = stop() }
        // The credentials come from the socket; the groups from the user database, which may be slow
        // (NSS), so they are read off this thread while early lines wait.
        let channel = context.channel
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        Task {
            let peer = await PeerCredentials.of(channel)
            loop.execute { me.value.identified(peer) }
        }
        context.fireChannelActive()
    }

    private func identified(_ peer: PeerCredentials?) {
        self.peer = peer
        let waiting = early ?? []
        early = nil
        for frame in waiting { take(frame) }
        closeIfDone()
    }

    func channelInactive(context: ChannelHandlerContext) {
        endSubscriptions()
        server.registry.value.open.removeValue(forKey: ObjectIdentifier(self))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if early != nil {
            early!.append(frame)
        } else {
            take(frame)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            // The client stopped sending but may still be reading its answers and events.
            inputClosed = true
            closeIfDone()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { liveBehind = 0 }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        server.logger.debug("connection ended", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func take(_ frame: LineFrame) {
        guard !stopping, !closing, let context else { return }
        let slot = nextSlot
        nextSlot += 1
        switch frame {
        case .tooLarge:
            let answer = AnswerWriter().failure(
                id: .null, code: "too_large",
                message: "a request line is limited to 65536 bytes; closing the connection")
            deliver(slot, .last(answer))
        case .line(let buffer):
            // The role is looked up for each request, so a reload of `access:` applies at once.
            let caller = RequestHandler.Caller(peer: peer, role: server.access.policy.role(of: peer))
            let loop = context.eventLoop
            let me = NIOLoopBound(self, eventLoop: loop)
            // Copied whole: `Data`'s initializer from the buffer's view of its bytes took them one at a time.
            let line = buffer.withUnsafeReadableBytes { Data($0) }
            server.handler.handle(line, from: caller) { outcome in
                if loop.inEventLoop {
                    me.value.deliver(slot, .outcome(outcome))
                } else {
                    loop.execute { me.value.deliver(slot, .outcome(outcome)) }
                }
            }
        }
    }

    /// Takes the answer of `slot` and writes every answer that is now next in order.
    private func deliver(_ slot: Int, _ answer: Answer) {
        guard let context, context.channel.isActive else { return }
        finished[slot] = answer
        var wrote = false
        while let next = finished.removeValue(forKey: nextToWrite) {
            nextToWrite += 1
            wrote = true
            switch next {
            case .outcome(.answer(let line)):
                write(line, context)
            case .outcome(.answerLine(let parts, let file)):
                for part in parts.dropLast() { context.write(NIOAny(part), promise: nil) }
                if let last = parts.last {
                    // The file is closed once the answer is written or given up (the connection closed).
                    let written = file.map { _ in context.eventLoop.makePromise(of: Void.self) }
                    written?.futureResult.whenComplete { _ in file?.close() }
                    context.write(NIOAny(last), promise: written)
                }
            case .outcome(.subscribeLive(let line, let kinds)):
                write(line, context)
                endSubscriptions()
                subscribeLive(kinds, context)
            case .outcome(.subscribe(let line, let events)):
                write(line, context)
                endSubscriptions()
                let channel = context.channel
                let me = NIOLoopBound(self, eventLoop: context.eventLoop)
                let loop = context.eventLoop
                subscription = Task {
                    await ControlServer.stream(events, to: channel)
                    loop.execute { me.value.subscriptionEnded() }
                }
            case .last(let line):
                write(line, context)
                closing = true
            }
        }
        // Held for one flush with the batch's other answers (`ControlServer.flushSoon`); `closeIfDone` flushes
        // before it closes.
        if wrote { server.flushSoon(self) }
        closeIfDone()
    }

    /// Sends the answers written since the last flush.
    func flushAnswers() {
        guard let context, context.channel.isActive else { return }
        context.flush()
    }

    private func write(_ line: String, _ context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: line.utf8.count + 1)
        buffer.writeString(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    private func subscriptionEnded() {
        subscription = nil
        closeIfDone()
    }

    /// Registers with the engine's hub a sink that writes each event on this loop as its batch commits
    /// (on the engine's thread when the engine runs on this loop, as in `gatewayd`), flushing once per
    /// batch. A subscriber whose socket stays full for `liveBacklogLimit` events is dropped and told so.
    private func subscribeLive(_ kinds: Set<String>?, _ context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let me = NIOLoopBound(self, eventLoop: loop)
        let sink = EventSink(
            accept: { event in
                if loop.inEventLoop { return me.value.take(event) }
                loop.execute { if !me.value.take(event) { me.value.fellBehind() } }
                return true
            },
            batchEnded: {
                if loop.inEventLoop { me.value.flushEvents() } else { loop.execute { me.value.flushEvents() } }
            },
            ended: {
                if loop.inEventLoop { me.value.liveEnded() } else { loop.execute { me.value.liveEnded() } }
            })
        liveLastSeq = 0
        liveBehind = 0
        live = server.handler.engine.subscribeLive(kinds: kinds, sink: sink)
        if live == nil {
            // The engine has stopped: say so at once.
            write(ControlServer.subscriptionEnded(lastSeq: 0), context)
        }
    }

    private func take(_ event: PublishedEvent) -> Bool {
        guard live != nil, let context, context.channel.isActive else { return true }
        if !context.channel.isWritable {
            liveBehind += 1
            if liveBehind > ControlServer.liveBacklogLimit { return false }
        }
        write(event.line, context)
        liveLastSeq = event.seq
        liveUnflushed = true
        return true
    }

    private func flushEvents() {
        guard liveUnflushed, let context else { return }
        liveUnflushed = false
        context.flush()
    }

    /// An off-loop sink's event found the socket full past the limit: leave the hub and say so.
    private func fellBehind() {
        guard let id = live else { return }
        server.handler.engine.unsubscribe(id)
        liveEnded()
    }

    /// The hub ended the live subscription (the engine stopped, or this subscriber fell behind).
    private func liveEnded() {
        guard live != nil else { return }
        live = nil
        if let context, context.channel.isActive {
            write(ControlServer.subscriptionEnded(lastSeq: liveLastSeq), context)
            context.flush()
        }
        closeIfDone()
    }

    /// Ends the connection's subscription, of either kind, without a word to the client.
    private func endSubscriptions() {
        subscription?.cancel()
        subscription = nil
        if let id = live {
            live = nil
            server.handler.engine.unsubscribe(id)
        }
    }

    /// Stops reading requests; the connection closes once those in flight are answered.
    func stop() -> EventLoopFuture<Void> {
        stopping = true
        endSubscriptions()
        closeIfDone()
        return context?.channel.closeFuture ?? server.eventLoop.makeSucceededVoidFuture()
    }

    /// Closes the connection when it has nothing left to do: after a `too_large` answer, or when reading
    /// has stopped (shutdown, or the client closed its side) and every answer and the event stream
    /// are done.
    private func closeIfDone() {
        guard let context, context.channel.isActive else { return }
        let answered = nextToWrite == nextSlot && early == nil
        guard (closing && answered) || ((stopping || inputClosed) && answered && subscription == nil && live == nil)
        else { return }
        // Answers held for the batch's flush go first: closing drops what is not flushed.
        context.flush()
        context.close(promise: nil)
    }
}

/// A failure to start the control server.
public struct ControlServerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
