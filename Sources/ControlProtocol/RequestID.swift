public import Foundation
import GatewayCore

/// A request's `id`, echoed in its answer: a string or a number (PROTOCOL.md "Framing"); `null` when no
/// id could be read.
public enum RequestID: Sendable, Hashable, Codable {
    case string(String)
    case number(Decimal)
    case null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else {
            self = .number(try container.decode(Decimal.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        case .null: try container.encodeNil()
        }
    }
}

extension RequestID {
    /// The id as JSON text, as `JSONEncoder` writes it.
    var jsonText: String {
        switch self {
        case .string(let text):
            var json = JSONText(capacity: text.utf8.count + 2)
            json.string(text)
            return json.text
        case .number(let number):
            // A whole number (what clients send) printed as the integer it is: `Decimal.description`
            // took about 1.3 µs and eight heap allocations an answer. The same text either way.
            let whole = NSDecimalNumber(decimal: number).int64Value
            return Decimal(whole) == number ? String(whole) : number.description
        case .null: return "null"
        }
    }
}

/// The fields every request has: `id` and `op`.
public struct RequestEnvelope: Sendable, Decodable {
    public var id: RequestID?
    public var op: String?

    public init(id: RequestID?, op: String?) {
        self.id = id
        self.op = op
    }
}
