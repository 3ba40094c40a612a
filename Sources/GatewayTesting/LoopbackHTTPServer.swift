public import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP/1.1 server on 127.0.0.1 standing in for a service the gateway posts to (Discord, Slack,
/// Telegram, a webhook). It records every request whole and answers each with the next scripted reply
/// (else `defaultReply`); while `hold()` is in force it records requests but answers none until
/// `release()`, to play a destination that is slow or hangs. Tests wait on `requests(atLeast:)`, never
/// on time.
public final class LoopbackHTTPServer: Sendable {
    /// One request as received.
    public struct Request: Sendable, Hashable {
        public var method: String
        /// Path and query, as sent.
        public var uri: String
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: Data

        /// The body as a JSON object.
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// An answer to give.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String

        public init(status: Int, headers: [String: String] = [:], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    private struct State {
        var requests: [Request] = []
        var scripted: [Reply] = []
        var defaultReply = Reply(status: 200, body: "{\"ok\":true}")
        var responder: (@Sendable (Request) -> Reply)?
        var holding = false
        var held: [@Sendable () -> Void] = []
        var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    public let port: Int

    /// Starts listening on an ephemeral port of 127.0.0.1.
    public init() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let box = HandlerBox()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RecordingHandler(server: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.channel = channel
        port = channel.localAddress?.port ?? 0
        box.server.withLock { $0 = self }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    public func url(_ path: String = "/") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every request so far.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// Returns once at least `count` requests have arrived; returns them.
    @discardableResult
    public func requests(atLeast count: Int) async -> [Request] {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.requests.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
        return requests
    }

    /// The first request that `match` accepts, waiting for it to arrive.
    public func firstRequest(where match: (Request) -> Bool) async -> Request {
        var count = 1
        while true {
            let all = await requests(atLeast: count)
            if let found = all.first(where: match) { return found }
            count = all.count + 1
        }
    }

    /// Answers the next requests with these replies, in order, then with the default.
    public func script(_ replies: [Reply]) { state.withLock { $0.scripted += replies } }

    public func setDefault(_ reply: Reply) { state.withLock { $0.defaultReply = reply } }

    /// Answers requests that no scripted reply is waiting for by calling `responder` (a fake service
    /// with state of its own), instead of with the default.
    public func respond(with responder: @escaping @Sendable (Request) -> Reply) {
        state.withLock { $0.responder = responder }
    }

    /// Stops answering: requests are recorded and left waiting.
    public func hold() { state.withLock { $0.holding = true } }

    /// Answers every waiting request and stops holding.
    public func release() {
        let held = state.withLock { state -> [@Sendable () -> Void] in
            state.holding = false
            defer { state.held = [] }
            return state.held
        }
        for answer in held { answer() }
    }

    public func shutdown() async {
        release()
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    fileprivate func received(_ request: Request, answer: @escaping @Sendable (Reply) -> Void) {
        let (reply, ready) = state.withLock { state -> (Reply?, [CheckedContinuation<Void, Never>]) in
            state.requests.append(request)
            let count = state.requests.count
            let ready = state.waiters.filter { $0.0 <= count }.map(\.1)
            state.waiters.removeAll { $0.0 <= count }
            let reply =
                state.scripted.isEmpty
                ? (state.responder?(request) ?? state.defaultReply) : state.scripted.removeFirst()
            if state.holding {
                state.held.append { answer(reply) }
                return (nil, ready)
            }
            return (reply, ready)
        }
        for waiter in ready { waiter.resume() }
        if let reply { answer(reply) }
    }
}

/// Lets the child handlers reach the server, which exists only once the bind has returned.
private final class HandlerBox: Sendable {
    let server = Mutex<LoopbackHTTPServer?>(nil)
}

private final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: HandlerBox
    var head: HTTPRequestHead?
    var body = Data()

    init(server: HandlerBox) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = Data()
        case .body(var buffer):
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let head else { return }
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let request = LoopbackHTTPServer.Request(
                method: head.method.rawValue, uri: head.uri, headers: headers, body: body)
            let channel = context.channel
            let version = head.version
            server.server.withLock { $0 }?.received(request) { reply in
                var headers = HTTPHeaders()
                for (name, value) in reply.headers { headers.add(name: name, value: value) }
                headers.add(name: "Content-Length", value: "\(reply.body.utf8.count)")
                let responseHead = HTTPResponseHead(
                    version: version, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
                channel.write(HTTPServerResponsePart.head(responseHead), promise: nil)
                channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: reply.body))), promise: nil)
                channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
            }
            self.head = nil
        }
    }
}
