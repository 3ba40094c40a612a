import FIXCodec
import FIXSession
import Logging
import NIOCore

/// Performs a ``FIXSession``'s actions on a channel: writes, deliveries, timers and disconnects.
///
/// Confined to one event loop (reached through `NIOLoopBound`); it outlives connections, so the
/// session's sequence numbers and store carry from one connection to the next.
final class FIXSessionDriver {
    private(set) var session: FIXSession
    let settings: FIXSessionSettings
    let eventLoop: any EventLoop
    private let application: any FIXApplication
    private let clock: @Sendable () -> FIXTimestamp
    private let logger: Logger
    private(set) var channel: (any Channel)?
    private var timer: Scheduled<Void>?
    private var framer = FIXFramer()
    /// Bytes to write, gathered over one input (or one batch of sends) and written with one flush.
    private var outbound: ByteBuffer?
    /// Called when the session's connection ends (the initiator reconnects from it).
    var onDisconnect: (() -> Void)?

    init(
        session: FIXSession, eventLoop: any EventLoop, application: any FIXApplication,
        clock: @escaping @Sendable () -> FIXTimestamp, logger: Logger
    ) {
        self.session = session
        self.settings = session.settings
        self.eventLoop = eventLoop
        self.application = application
        self.clock = clock
        var logger = logger
        logger[metadataKey: "fix.session"] = "\(session.settings.senderCompID)->\(session.settings.targetCompID)"
        self.logger = logger
    }

    var handle: FIXSessionHandle { FIXSessionHandle(driver: NIOLoopBound(self, eventLoop: eventLoop)) }

    var isAttached: Bool { channel != nil }

    func attach(_ channel: any Channel) {
        self.channel = channel
        framer = FIXFramer()
        perform(session.connected(at: clock()))
        flushOutbound()
    }

    func detach(_ channel: any Channel) {
        guard self.channel === channel else { return }
        timer?.cancel()
        timer = nil
        self.channel = nil
        perform(session.disconnected(at: clock()))
        onDisconnect?()
    }

    /// Bytes read from the connection.
    func read(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { framer.append($0) }
        while channel != nil, let frame = framer.next() {
            switch frame {
            case .message(let range):
                let bytes = framer.buffer[range]
                perform(session.received(bytes, at: clock()))
                while channel != nil, let more = session.processQueued(at: clock()) { perform(more) }
            case .garbled(let reason):
                perform(session.receivedGarbled(reason))
            }
        }
        flushOutbound()
    }

    func send(_ message: FIXMessage) {
        perform(session.send(message, at: clock()))
        flushOutbound()
    }

    func send(_ messages: [FIXMessage]) {
        for message in messages { perform(session.send(message, at: clock())) }
        flushOutbound()
    }

    func logout(reason: String?) {
        perform(session.logout(reason: reason, at: clock()))
        flushOutbound()
    }

    /// Writes and flushes what the last input gathered.
    private func flushOutbound() {
        guard let buffer = outbound else { return }
        outbound = nil
        channel?.writeAndFlush(buffer, promise: nil)
    }

    private func perform(_ actions: consuming [FIXSessionAction]) {
        for index in actions.indices {
            switch actions[index] {
            case .send(let bytes):
                guard let channel else { continue }
                if outbound == nil { outbound = channel.allocator.buffer(capacity: max(8192, bytes.count)) }
                outbound!.writeBytes(bytes)
            case .deliver(let message):
                application.received(message, session: handle)
            case .disconnect(let reason):
                logger.info("FIX session disconnecting", metadata: ["reason": "\(reason)"])
                if let channel {
                    flushOutbound()
                    channel.close(promise: nil)
                }
            case .loggedOn:
                logger.info("FIX session logged on")
                application.loggedOn(session: handle)
            case .loggedOut:
                logger.info("FIX session logged out")
                application.loggedOut(session: handle)
            case .scheduleTimer(let delay):
                timer?.cancel()
                let bound = NIOLoopBound(self, eventLoop: eventLoop)
                timer = eventLoop.scheduleTask(in: .nanoseconds(Int64(delay.components.seconds) * 1_000_000_000)) {
                    bound.value.timerFired()
                }
            case .event(let text):
                logger.debug("\(text)")
            }
        }
        session.recycle(actions)
    }

    private func timerFired() {
        guard channel != nil else { return }
        perform(session.timerFired(at: clock()))
        flushOutbound()
    }
}
