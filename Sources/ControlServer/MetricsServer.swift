public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle

/// Serves `GET /metrics` (Prometheus text format 0.0.4) on a TCP address, by default loopback only.
/// `render` makes the page for each scrape. Anything but `GET /metrics` is 404 or 405; a scrape never
/// reaches the engine's order path. A failure to bind is logged and the gateway trades on without
/// metrics: monitoring must not stop trading.
public final class MetricsServer: Service, Sendable {
    let host: String
    let port: Int
    let render: @Sendable () async -> [UInt8]
    let logger: Logger
    /// Yields the bound port (useful with port 0), or ends without one when binding failed.
    public let bound: AsyncStream<Int>
    private let boundSignal: AsyncStream<Int>.Continuation

    public init(host: String, port: Int, logger: Logger, render: @escaping @Sendable () async -> [UInt8]) {
        self.host = host
        self.port = port
        self.logger = logger
        self.render = render
        (bound, boundSignal) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func run() async throws {
        defer { boundSignal.finish() }
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(
                                inboundType: HTTPServerRequestPart.self,
                                outboundType: HTTPServerResponsePart.self))
                    }
                }
        } catch {
            logger.error(
                "metrics endpoint not started; trading goes on without it",
                metadata: ["metrics.listen": "\(host):\(port)", "error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        let actualPort = server.channel.localAddress?.port ?? port
        logger.info("metrics endpoint listening", metadata: ["metrics.listen": "\(host):\(actualPort)"])
        boundSignal.yield(actualPort)
        let serverChannel = server.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
    }

    private func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    ) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let request): head = request
                case .body: continue
                case .end:
                    guard let request = head else { return }
                    let (status, body, type) = await self.answer(request)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: type)
                    headers.add(name: "Content-Length", value: String(body.count))
                    if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
                    try await outbound.write(
                        .head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                    try await outbound.write(.end(nil))
                    if !request.isKeepAlive { return }
                }
            }
        }
    }

    private func answer(_ request: HTTPRequestHead) async -> (HTTPResponseStatus, [UInt8], String) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        guard path == "/metrics" else { return (.notFound, Array("only /metrics is served here\n".utf8), "text/plain") }
        guard request.method == .GET || request.method == .HEAD else {
            return (.methodNotAllowed, Array("use GET\n".utf8), "text/plain")
        }
        let page = await render()
        return (.ok, request.method == .HEAD ? [] : page, "text/plain; version=0.0.4; charset=utf-8")
    }
}
