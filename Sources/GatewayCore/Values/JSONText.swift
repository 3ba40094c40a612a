/// JSON text written field by field, byte for byte what the gateway's `JSONEncoder` writes with
/// `[.sortedKeys, .withoutEscapingSlashes]`: keys in byte order, `\b \t \n \f \r \" \\` escaped by name,
/// other control characters as `\u00xx`, everything else (slashes, non-ASCII) as it is.
///
/// Written by hand because Foundation's `JSONEncoder` dominated the order path: in `gateway-bench`'s
/// profile of the daemon (docs/performance.md) encoding took about a quarter of its CPU, most of it in
/// generic boxing and dynamic casts, for the few payloads every order writes several times (the order,
/// its fills, the submit answer). Only those types write themselves this way; tests compare each with
/// `JSONEncoder`'s output byte for byte, so the journal's payloads are the same whichever wrote them.
public struct JSONText: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Hands over what is written so far but its last byte, which stays so that the next value is still
    /// separated from the one before it: a long text written and sent in pieces.
    public mutating func takeAllButLast() -> [UInt8] {
        guard bytes.count > 1 else { return [] }
        let last = bytes[bytes.count - 1]
        var taken = bytes
        taken.removeLast()
        bytes.removeAll(keepingCapacity: true)
        bytes.append(last)
        return taken
    }

    /// Writes `{`, then `body`'s members, then `}`.
    public mutating func object(_ body: (inout JSONText) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        body(&self)
        bytes.append(UInt8(ascii: "}"))
    }

    /// Writes `[`, one element per item, then `]`.
    public mutating func array<S: Sequence>(_ items: S, _ element: (inout JSONText, S.Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for item in items {
            separate()
            element(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `"name":`, after a comma unless it is the object's first member. Callers give the keys
    /// of an object in byte order.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func separate() {
        if let last = bytes.last, last != UInt8(ascii: "{"), last != UInt8(ascii: "["), last != UInt8(ascii: ":") {
            bytes.append(UInt8(ascii: ","))
        }
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func int(_ value: Int64) {
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ value: Bool) {
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Text that is already JSON (an object or value written elsewhere).
    public mutating func raw(_ json: some Sequence<UInt8>) {
        bytes.append(contentsOf: json)
    }

    /// A member whose value is a string, left out when `value` is nil (as `encodeIfPresent` does).
    public mutating func member(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    /// A member whose value is a decimal string, left out when nil.
    public mutating func member<Kind>(_ name: StaticString, _ value: Fixed<Kind>?) {
        guard let value else { return }
        key(name)
        string(value.description)
    }

    /// A member whose value is a timestamp's text form, left out when nil.
    public mutating func member(_ name: StaticString, _ value: Timestamp?) {
        guard let value else { return }
        key(name)
        bytes.append(UInt8(ascii: "\""))
        value.append(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A member whose value is another writer's JSON, left out when nil.
    public mutating func member(_ name: StaticString, _ value: (some JSONTextEncodable)?) {
        guard let value else { return }
        key(name)
        value.write(to: &self)
    }
}

/// A value that writes its own JSON text, the same bytes as its `Encodable` conformance gives.
public protocol JSONTextEncodable {
    func write(to json: inout JSONText)
}

extension JSONTextEncodable {
    /// The whole value as JSON bytes.
    public var jsonBytes: [UInt8] {
        var json = JSONText()
        write(to: &json)
        return json.bytes
    }
}

extension Order: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.member("account", account.rawValue)
            json.member("avg_fill_price", avgFillPrice)
            json.member("broker_order_id", brokerOrderID)
            json.member("client_order_id", clientOrderID.rawValue)
            json.member("created_at", createdAt)
            if let extendedHours {
                json.key("extended_hours")
                json.bool(extendedHours)
            }
            json.member("filled_qty", filledQty)
            if let legs {
                json.key("legs")
                json.array(legs) { json, leg in
                    json.object { json in
                        json.key("ratio")
                        json.int(Int64(leg.ratio))
                        json.member("side", leg.side.rawValue)
                        json.member("symbol", leg.symbol.text)
                    }
                }
            }
            json.member("limit_price", limitPrice)
            json.member("order_class", orderClass?.rawValue)
            json.member("order_id", orderID.rawValue)
            json.member("parent_order_id", parentOrderID?.rawValue)
            json.member("qty", qty)
            if let rejectReasons {
                json.key("reject_reasons")
                json.array(rejectReasons) { $0.string($1) }
            }
            json.member("replaced_by_order_id", replacedByOrderID?.rawValue)
            json.member("replaces_order_id", replacesOrderID?.rawValue)
            json.member("side", side.rawValue)
            json.member("status", status.rawValue)
            json.member("stop_price", stopPrice)
            json.member("strategy", strategy)
            json.member("symbol", symbol.text)
            if let tags {
                json.key("tags")
                json.array(tags) { $0.string($1) }
            }
            json.member("tif", tif.rawValue)
            json.member("trail_percent", trailPercent)
            json.member("trail_price", trailPrice)
            json.member("type", type.rawValue)
            json.member("updated_at", updatedAt)
        }
    }
}

extension Fill: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.member("account", account.rawValue)
            json.member("client_order_id", clientOrderID.rawValue)
            json.member("commission", commission)
            json.member("fill_id", fillID.rawValue)
            json.member("order_id", orderID.rawValue)
            json.member("price", price)
            json.member("qty", qty)
            json.member("side", side.rawValue)
            json.member("spread_fill_id", spreadFillID?.rawValue)
            json.member("symbol", symbol.text)
            json.member("ts", ts)
        }
    }
}
