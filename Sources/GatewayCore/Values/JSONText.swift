/// JSON text written field by field, byte for byte what the gateway's `JSONEncoder` writes with
/// `[.sortedKeys, .withoutEscapingSlashes]`: keys in byte order, `\b \t \n \f \r \" \\` escaped by name,
/// other control characters as `\u00xx`, everything else (slashes, non-ASCII) as it is.
///
/// Written by hand because Foundation's `JSONEncoder` dominated the order path: in `gateway-bench`'s
/// profile of the daemon (docs/performance.md) encoding took about a quarter of its CPU, most of it in
/// generic boxing and dynamic casts, for the few payloads every order writes several times (the order,
/// its fills, the submit answer). Only those types write themselves this way; tests compare each with
/// `JSONEncoder`'s output byte for byte, so the journal's payloads are the same whichever wrote them.
// Sendable as an array is: copies share the storage until one writes, and a write to shared storage
// copies it first (`isKnownUniquelyReferenced`), so no two threads ever change the same bytes.
public struct JSONText: @unchecked Sendable {
    /// The bytes written so far, in storage of its own: each member checks for room once and writes its
    /// pieces through a pointer. Appending each piece to a `[UInt8]` (a uniqueness check, a capacity
    /// check and a `memmove` a piece) was most of the time an order's text took.
    private var storage: Storage
    /// How many bytes are written so far. (Here, not in `storage`: a class's variables are checked for
    /// exclusive access at run time at every use, which cost more than the writing.)
    public private(set) var count = 0

    public init(capacity: Int = 512) {
        storage = Storage.make(capacity: max(capacity, 16))
    }

    /// What is written so far.
    public var bytes: [UInt8] { Array(written) }

    public var text: String { String(decoding: written, as: UTF8.self) }

    /// Calls `body` with the bytes written so far, without copying them.
    public func withBytes<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        try withExtendedLifetime(storage) { try body(written) }
    }

    /// The bytes written, valid while `self` is not changed.
    private var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: storage.base, count: count) }

    /// Forgets what is written, keeping the room for the next text: one text made after another on the
    /// same value allocates nothing new for its bytes.
    public mutating func removeAll() { count = 0 }

    /// Hands over what is written so far but its last byte, which stays so that the next value is still
    /// separated from the one before it: a long text written and sent in pieces.
    public mutating func takeAllButLast() -> [UInt8] {
        guard count > 1 else { return [] }
        let taken = Array(written.dropLast())
        let last = storage.base[count - 1]
        count = 0
        put(last)
        return taken
    }

    /// Writes `{`, then `body`'s members, then `}`.
    public mutating func object(_ body: (inout JSONText) -> Void) {
        put(UInt8(ascii: "{"))
        body(&self)
        put(UInt8(ascii: "}"))
    }

    /// Writes `[`, one element per item, then `]`.
    public mutating func array<S: Sequence>(_ items: S, _ element: (inout JSONText, S.Element) -> Void) {
        put(UInt8(ascii: "["))
        for item in items {
            separate()
            element(&self, item)
        }
        put(UInt8(ascii: "]"))
    }

    /// Writes `"name":`, after a comma unless it is the object's first member. Callers give the keys
    /// of an object in byte order.
    public mutating func key(_ name: StaticString) {
        let length = name.utf8CodeUnitCount
        let comma = count > 0 && Self.needsComma(after: storage.base[count - 1])
        write(atMost: length + 4) { out in
            var at = 0
            if comma {
                out[0] = UInt8(ascii: ",")
                at = 1
            }
            out[at] = UInt8(ascii: "\"")
            (out + at + 1).update(from: name.utf8Start, count: length)
            out[at + length + 1] = UInt8(ascii: "\"")
            out[at + length + 2] = UInt8(ascii: ":")
            return at + length + 3
        }
    }

    private mutating func separate() {
        if count > 0, Self.needsComma(after: storage.base[count - 1]) { put(UInt8(ascii: ",")) }
    }

    /// Whether a value written after `byte` is separated from it by a comma: not at the start of an
    /// object or a list, nor after a key.
    private static func needsComma(after byte: UInt8) -> Bool {
        byte != UInt8(ascii: "{") && byte != UInt8(ascii: "[") && byte != UInt8(ascii: ":")
    }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            // Escapes take at most six bytes for one.
            write(atMost: utf8.count * 6 + 2) { out in
                out[0] = UInt8(ascii: "\"")
                var at = 1
                for byte in utf8 {
                    guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                        out[at] = byte
                        at += 1
                        continue
                    }
                    out[at] = UInt8(ascii: "\\")
                    switch byte {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"): out[at + 1] = byte
                    case 0x08: out[at + 1] = UInt8(ascii: "b")
                    case 0x09: out[at + 1] = UInt8(ascii: "t")
                    case 0x0A: out[at + 1] = UInt8(ascii: "n")
                    case 0x0C: out[at + 1] = UInt8(ascii: "f")
                    case 0x0D: out[at + 1] = UInt8(ascii: "r")
                    default:
                        let hex: StaticString = "0123456789abcdef"
                        out[at + 1] = UInt8(ascii: "u")
                        out[at + 2] = 0x30
                        out[at + 3] = 0x30
                        out[at + 4] = hex.utf8Start[Int(byte >> 4)]
                        out[at + 5] = hex.utf8Start[Int(byte & 0xF)]
                        at += 4
                    }
                    at += 2
                }
                out[at] = UInt8(ascii: "\"")
                return at + 1
            }
        }
    }

    public mutating func int(_ value: Int64) {
        // Digits straight into the text, as `Fixed` writes its own (a `String` each cost an allocation).
        write(atMost: 20) { out in
            let count = (value < 0 ? 1 : 0) + decimalDigitCount(value.magnitude)
            writeDecimalDigits(value.magnitude, endingAt: count, into: out, sign: value < 0)
            return count
        }
    }

    public mutating func bool(_ value: Bool) {
        let word: StaticString = value ? "true" : "false"
        write(atMost: word.utf8CodeUnitCount) { out in
            out.update(from: word.utf8Start, count: word.utf8CodeUnitCount)
            return word.utf8CodeUnitCount
        }
    }

    /// Text that is already JSON (an object or value written elsewhere).
    public mutating func raw(_ json: some Sequence<UInt8>) {
        let written: Void? = json.withContiguousStorageIfAvailable { rawBytes(UnsafeRawBufferPointer($0)) }
        if written == nil { Array(json).withUnsafeBytes { rawBytes($0) } }
    }

    private mutating func rawBytes(_ json: UnsafeRawBufferPointer) {
        guard !json.isEmpty else { return }
        write(atMost: json.count) { out in
            UnsafeMutableRawPointer(out).copyMemory(from: json.baseAddress!, byteCount: json.count)
            return json.count
        }
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
        write(atMost: Fixed<Kind>.maxTextCount + 2) { out in
            out[0] = UInt8(ascii: "\"")
            let count = value.write(into: UnsafeMutableBufferPointer(start: out + 1, count: Fixed<Kind>.maxTextCount))
            out[count + 1] = UInt8(ascii: "\"")
            return count + 2
        }
    }

    /// A member whose value is a timestamp's text form, left out when nil.
    public mutating func member(_ name: StaticString, _ value: Timestamp?) {
        guard let value else { return }
        key(name)
        write(atMost: Timestamp.textCount + 2) { out in
            out[0] = UInt8(ascii: "\"")
            value.write(into: UnsafeMutableBufferPointer(start: out + 1, count: Timestamp.textCount))
            out[Timestamp.textCount + 1] = UInt8(ascii: "\"")
            return Timestamp.textCount + 2
        }
    }

    /// A member whose value is a whole number, left out when nil.
    public mutating func member(_ name: StaticString, _ value: Int64?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    /// A member whose value is `true` or `false`, left out when nil.
    public mutating func member(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bool(value)
    }

    /// A member whose value is a list of other writers' JSON, left out when nil.
    public mutating func member(_ name: StaticString, _ items: [some JSONTextEncodable]?) {
        guard let items else { return }
        key(name)
        array(items) { $1.write(to: &$0) }
    }

    /// A member whose value is another writer's JSON, left out when nil.
    public mutating func member(_ name: StaticString, _ value: (some JSONTextEncodable)?) {
        guard let value else { return }
        key(name)
        value.write(to: &self)
    }

    private mutating func put(_ byte: UInt8) {
        write(atMost: 1) { out in
            out[0] = byte
            return 1
        }
    }

    /// Gives `body` room for `limit` bytes after those written and keeps the number of them it says it
    /// wrote.
    private mutating func write(atMost limit: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if count + limit > storage.room {
            storage = storage.moved(count: count, room: max(storage.room * 2, count + limit))
        } else if !isKnownUniquelyReferenced(&storage) {
            storage = storage.moved(count: count, room: storage.room)
        }
        let written = body(storage.base + count)
        precondition(written >= 0 && written <= limit, "JSONText wrote past the room it asked for")
        count += written
    }

    /// Memory for the bytes, shared between copies of a text until one of them writes; one allocation
    /// with its room (the header). Nothing in it but the bytes changes after it is made (see `count`).
    private final class Storage: ManagedBuffer<Int, UInt8> {
        static func make(capacity: Int) -> Storage {
            unsafeDowncast(create(minimumCapacity: capacity) { _ in capacity }, to: Storage.self)
        }

        /// How many bytes it holds.
        var room: Int { withUnsafeMutablePointerToHeader { $0.pointee } }

        /// The first byte; valid while the storage lives.
        var base: UnsafeMutablePointer<UInt8> { withUnsafeMutablePointerToElements { $0 } }

        /// New memory of `room` bytes holding the first `count` of these.
        func moved(count: Int, room: Int) -> Storage {
            let moved = Storage.make(capacity: room)
            moved.base.update(from: base, count: count)
            return moved
        }
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

    /// The whole value as JSON text (a journal record's payload), made from the bytes in one copy.
    public var jsonString: String {
        var json = JSONText()
        return jsonString(reusing: &json)
    }

    /// The whole value as JSON text, written in `json`'s room (emptied first) and copied out once: a
    /// writer kept for many values allocates only the string.
    public func jsonString(reusing json: inout JSONText) -> String {
        json.removeAll()
        write(to: &json)
        return json.text
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
            json.member("extended_hours", extendedHours)
            json.member("filled_qty", filledQty)
            if let legs {
                json.key("legs")
                json.array(legs) { json, leg in
                    json.object { json in
                        json.member("ratio", Int64(leg.ratio))
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

extension Quote: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.member("ask", ask)
            json.member("ask_size", askSize)
            json.member("bid", bid)
            json.member("bid_size", bidSize)
            json.member("last", last)
            json.member("symbol", symbol.text)
            json.member("ts", ts)
            json.member("volume", volume)
        }
    }
}

extension SizingResult: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.key("caps")
            json.array(caps) { $0.string($1) }
            json.member("equity", equity)
            json.member("method", method)
            json.member("qty", qty)
            json.member("raw_qty", rawQty)
            json.member("risk_money", riskMoney)
            json.member("stop_distance", stopDistance)
        }
    }
}

extension AccountStatus: JSONTextEncodable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.member("account", account.rawValue)
            json.member("broker", broker)
            json.member("connection", connection)
            json.member("open_orders", Int64(openOrders))
            json.member("trading_state", tradingState)
            json.member("unknown_orders", Int64(unknownOrders))
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
