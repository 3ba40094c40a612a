import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// A loopback Alpaca `trade_updates` websocket (`reference/brokers/alpaca.md` §7): a client must
/// authenticate with the right key and secret, then listen; the test then pushes events to every
/// listening client, as binary frames holding JSON like the paper stream (or text frames), and drops
/// connections on command. Framing is SwiftNIO's (NIOWebSocket); only the conversation is written here.
public final class FakeAlpacaStream: Sendable {
    public let keyID: String
    public let secret: String
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let state = Mutex(State())

    struct State {
        var listening: [ObjectIdentifier: any Channel] = [:]
        /// Connections that have reached `listening`, over the fake's life.
        var sessions = 0
        var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
        var binary = true
        var messages: [String] = []
    }

    public init(keyID: String = "PKTEST", secret: String = "fake-secret-never-logged") async throws {
        self.keyID = keyID
        self.secret = secret
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let box = StreamBox()
        let upgrader = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(head.uri.hasPrefix("/stream") ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StreamConnection(box: box))
                }
            })
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        box.stream.withLock { $0 = self }
    }

    /// `ws://127.0.0.1:PORT/stream`.
    public var url: String { "ws://127.0.0.1:\(port)/stream" }

    /// Text frames instead of binary ones from now on.
    public func sendText() { state.withLock { $0.binary = false } }

    /// Every message clients sent, in order.
    public var received: [String] { state.withLock { $0.messages } }

    /// Returns once `count` connections in all have authenticated and listened.
    public func sessions(atLeast count: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.sessions >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Sends `data` (the `data` object of a trade update, as JSON text) to every listening client.
    public func push(update data: String) {
        let (targets, binary) = state.withLock { (Array($0.listening.values), $0.binary) }
        let text = #"{"stream":"trade_updates","data":"# + data + "}"
        for target in targets { Self.send(text, on: target, binary: binary) }
    }

    /// Closes every connection, as a dropped stream.
    public func dropAll() {
        let targets = state.withLock { state -> [any Channel] in
            defer { state.listening = [:] }
            return Array(state.listening.values)
        }
        for target in targets { target.close(promise: nil) }
    }

    public func shutdown() async {
        dropAll()
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    static func send(_ text: String, on channel: any Channel, binary: Bool) {
        let buffer = ByteBuffer(string: text)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: binary ? .binary : .text, data: buffer), promise: nil)
    }

    /// One message from a client: authenticate, then listen.
    fileprivate func received(_ text: String, on channel: any Channel, authenticated: inout Bool) {
        let binary = state.withLock {
            $0.messages.append(text)
            return $0.binary
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let action = object["action"] as? String
        else { return }
        let data = object["data"] as? [String: Any] ?? [:]
        switch action {
        case "authenticate":
            authenticated = data["key_id"] as? String == keyID && data["secret_key"] as? String == secret
            let status = authenticated ? "authorized" : "unauthorized"
            Self.send(
                #"{"stream":"authorization","data":{"status":"\#(status)","action":"authenticate"}}"#, on: channel,
                binary: binary)
        case "listen":
            guard authenticated else {
                Self.send(
                    #"{"stream":"authorization","data":{"status":"unauthorized","action":"listen"}}"#, on: channel,
                    binary: binary)
                return
            }
            let streams = (data["streams"] as? [String]) ?? []
            let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.listening[ObjectIdentifier(channel)] = channel
                state.sessions += 1
                let count = state.sessions
                let ready = state.waiters.filter { $0.0 <= count }.map(\.1)
                state.waiters.removeAll { $0.0 <= count }
                return ready
            }
            let list = streams.map { "\"\($0)\"" }.joined(separator: ",")
            Self.send(#"{"stream":"listening","data":{"streams":[\#(list)]}}"#, on: channel, binary: binary)
            for waiter in ready { waiter.resume() }
        default:
            break
        }
    }

    fileprivate func closed(_ channel: any Channel) {
        _ = state.withLock { $0.listening.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

private final class StreamBox: Sendable {
    let stream = Mutex<FakeAlpacaStream?>(nil)
}

private final class StreamConnection: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let box: StreamBox
    var authenticated = false
    var pending = ByteBuffer()

    init(box: StreamBox) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            var data = frame.unmaskedData
            pending.writeBuffer(&data)
            guard frame.fin else { return }
            let text = pending.readString(length: pending.readableBytes) ?? ""
            pending.clear()
            box.stream.withLock { $0 }?.received(text, on: context.channel, authenticated: &authenticated)
        case .ping:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer())), promise: nil)
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        box.stream.withLock { $0 }?.closed(context.channel)
        context.fireChannelInactive()
    }
}
