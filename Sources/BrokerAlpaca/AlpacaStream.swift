public import Logging
import Foundation
import NIOCore
import WSClient

/// One `trade_updates` event (the reference's §7): what happened to an order, with the whole order, and
/// for fills the execution's id, price and quantity.
public struct AlpacaTradeUpdate: Sendable, Hashable, Decodable {
    public var event: String
    public var executionID: String?
    public var timestamp: String?
    public var price: String?
    public var qty: String?
    public var positionQty: String?
    public var order: AlpacaOrder

    enum CodingKeys: String, CodingKey {
        case event, executionID = "execution_id", timestamp, price, qty, positionQty = "position_qty", order
    }
}

/// Why a stream connection ended.
public enum AlpacaStreamEnd: Error, Sendable, Hashable, CustomStringConvertible {
    /// Alpaca refused the key and secret: trying again will not help.
    case unauthorized
    /// The connection closed or failed; the adapter reconnects and catches up.
    case closed(String)

    public var description: String {
        switch self {
        case .unauthorized: "Alpaca refused the stream's credentials"
        case .closed(let why): "the trade_updates stream ended: \(why)"
        }
    }
}

/// The `trade_updates` websocket through hummingbird-project/swift-websocket's client (the framing is
/// the library's; this type holds only the conversation): authenticate, listen, then hand every trade
/// update on. Frames may be text or binary (the paper stream sends JSON in binary frames). The key and
/// secret go in the authenticate message only and are never logged.
public struct AlpacaStream: Sendable {
    let url: String
    let keyID: String
    let secret: String
    let logger: Logger

    public init(url: String, keyID: String, secret: String, logger: Logger) {
        self.url = url
        self.keyID = keyID
        self.secret = secret
        self.logger = logger
    }

    /// Connects and listens until the connection ends, which it always reports by throwing
    /// `AlpacaStreamEnd`. `onListening` runs once Alpaca confirms the subscription; `onUpdate` runs for
    /// each event, in order, before the next is read.
    public func run(
        onListening: @escaping @Sendable () async -> Void,
        onUpdate: @escaping @Sendable (AlpacaTradeUpdate) async -> Void
    ) async throws(AlpacaStreamEnd) {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .info)  // the client's traces would show the authenticate message
        let credentials = Self.authenticate(keyID: keyID, secret: secret)
        do {
            try await WebSocketClient.connect(url: url, logger: quiet) { inbound, outbound, _ in
                try await outbound.write(.text(credentials))
                for try await message in inbound.messages(maxSize: 1 << 22) {
                    let data: Data
                    switch message {
                    case .text(let text): data = Data(text.utf8)
                    case .binary(let buffer): data = Data(buffer.readableBytesView)
                    }
                    guard let envelope = try? JSONDecoder().decode(Envelope.self, from: data) else {
                        self.logger.warning("unreadable message on the trade_updates stream")
                        continue
                    }
                    switch (envelope.stream, envelope.data?.status, envelope.data?.action) {
                    case ("authorization", "authorized", _):
                        try await outbound.write(.text(#"{"action":"listen","data":{"streams":["trade_updates"]}}"#))
                    case ("authorization", _, _):
                        throw AlpacaStreamEnd.unauthorized
                    case ("listening", _, _):
                        await onListening()
                    case ("trade_updates", _, _):
                        guard let update = try? JSONDecoder().decode(Update.self, from: data).data else {
                            self.logger.warning("unreadable trade update")
                            continue
                        }
                        await onUpdate(update)
                    default:
                        continue
                    }
                }
            }
        } catch let end as AlpacaStreamEnd {
            throw end
        } catch {
            throw .closed(String(describing: type(of: error)))
        }
        throw .closed("closed by Alpaca")
    }

    /// The authenticate message, with the credentials JSON-escaped.
    static func authenticate(keyID: String, secret: String) -> String {
        let object: [String: Any] = ["action": "authenticate", "data": ["key_id": keyID, "secret_key": secret]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    struct Envelope: Decodable {
        var stream: String
        var data: Status?

        struct Status: Decodable {
            var status: String?
            var action: String?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            stream = try container.decode(String.self, forKey: .stream)
            data = try? container.decode(Status.self, forKey: .data)
        }

        enum CodingKeys: String, CodingKey { case stream, data }
    }

    struct Update: Decodable { var data: AlpacaTradeUpdate }
}
