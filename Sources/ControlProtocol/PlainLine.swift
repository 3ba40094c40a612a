public import Foundation
import GatewayCore

/// A request line of the order path read by hand in one pass over its bytes, when it is plain — one flat
/// JSON object of the keys its verb takes (below), its strings ASCII without escapes, its numbers without
/// exponents (a signal's `entry` one flat object inside it): `submit`, the commonest, and `signal`,
/// `cancel`, `replace`, `cancel_all` and `quote`; and `hello`, which every client sends first, and
/// `status`, which monitors poll.
///
/// Written by hand because Foundation's `JSONDecoder` was the largest single cost of the engine's thread:
/// 24.5 % of it in a profile of one client sending market orders (docs/performance.md), most of it in
/// building the decoder's boxed values and its coding paths for a line of a dozen short fields; a `quote`
/// or a `cancel` was decoded twice (its envelope, then its fields). It reads only what it is sure of and
/// is `nil` for anything else — another verb, a key its verb does not take (`legs`, `take_profit`,
/// `stop_loss`, a quote's `ts` and any other), a key twice, an object inside but a signal's `entry`, an
/// escape, a byte beyond ASCII, a value of the wrong type or at fault — so that `JSONDecoder` reads that
/// line as before and names its problem. What it reads, it reads as `JSONDecoder` does: tests compare
/// both over thousands of generated lines of each verb, plain and not.
public struct PlainLine: Sendable {
    /// The request's `id`; `nil` when absent or null.
    public let id: RequestID?
    public let request: PlainRequest

    public init?(_ line: Data) {
        guard
            let read = line.withUnsafeBytes({ bytes -> PlainLine? in
                var reader = PlainObjectReader(bytes)
                guard let fields = reader.fields() else { return nil }
                return PlainLine(fields)
            })
        else { return nil }
        self = read
    }

    private init?(_ fields: PlainFields) {
        guard case .string(let op)? = fields[.op], let id = Self.id(fields[.id]) else { return nil }
        let read: PlainRequest?
        switch op {
        case "submit": read = fields.only(PlainFields.submitKeys) ? Self.submit(fields).map { .submit($0) } : nil
        case "cancel": read = fields.only(PlainFields.cancelKeys) ? Self.cancel(fields).map { .cancel($0) } : nil
        case "replace": read = fields.only(PlainFields.replaceKeys) ? Self.replace(fields).map { .replace($0) } : nil
        case "quote": read = fields.only(PlainFields.quoteKeys) ? Self.quote(fields).map { .quote($0) } : nil
        case "signal": read = fields.only(PlainFields.signalKeys) ? Self.signal(fields).map { .signal($0) } : nil
        case "hello": read = fields.only(PlainFields.helloKeys) ? Self.hello(fields).map { .hello($0) } : nil
        case "cancel_all":
            read = fields.only(PlainFields.cancelAllKeys) ? Self.cancelAll(fields).map { .cancelAll($0) } : nil
        case "status": read = fields.only(PlainFields.statusKeys) ? .status : nil
        default: read = nil
        }
        guard let read else { return nil }
        self.id = id
        request = read
    }

    /// The `id`: `.some(nil)` when absent or null, `nil` (read it the usual way) when not plain.
    private static func id(_ value: PlainValue?) -> RequestID?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .string(let text)?: return .some(.string(text))
        case .number(let text)?:
            // Whole numbers only, without a sign: `JSONDecoder`'s `Decimal` is the same for those.
            guard text.utf8.count <= 18, text.utf8.allSatisfy({ $0.isASCIIDigit }), let whole = Int64(text) else {
                return nil
            }
            return .some(.number(Decimal(whole)))
        default: return nil
        }
    }

    private static func submit(_ fields: PlainFields) -> SubmitRequest? {
        guard let account = required(fields[.account], AccountID.init),
            let symbol = required(fields[.symbol], Symbol.init),
            let side = required(fields[.side], OrderSide.init(rawValue:)),
            case .some(let qty?) = fixed(fields[.qty], as: QuantityKind.self),
            let clientOrderID = optional(fields[.clientOrderID], ClientOrderID.init),
            let type = optional(fields[.type], OrderType.init(rawValue:)),
            let limitPrice = fixed(fields[.limitPrice], as: PriceKind.self),
            let stopPrice = fixed(fields[.stopPrice], as: PriceKind.self),
            let trailPrice = fixed(fields[.trailPrice], as: PriceKind.self),
            let trailPercent = fixed(fields[.trailPercent], as: PriceKind.self),
            let tif = optional(fields[.tif], TimeInForce.init(rawValue:)),
            let strategy = optional(fields[.strategy], { Optional($0) }),
            let orderClass = optional(fields[.orderClass], OrderClass.init(rawValue:))
        else { return nil }
        guard let tags = strings(fields[.tags]) else { return nil }
        var extendedHours: Bool?
        switch fields[.extendedHours] {
        case nil, .null?: extendedHours = nil
        case .bool(let value)?: extendedHours = value
        default: return nil
        }
        return SubmitRequest(
            account: account, clientOrderID: clientOrderID, symbol: symbol, side: side, qty: qty,
            type: type ?? .market, limitPrice: limitPrice, stopPrice: stopPrice, trailPrice: trailPrice,
            trailPercent: trailPercent, tif: tif, strategy: strategy, tags: tags, orderClass: orderClass,
            extendedHours: extendedHours)
    }

    private static func cancel(_ fields: PlainFields) -> CancelRequest? {
        guard let account = required(fields[.account], AccountID.init),
            let orderID = optional(fields[.orderID], OrderID.init),
            let clientOrderID = optional(fields[.clientOrderID], ClientOrderID.init)
        else { return nil }
        return CancelRequest(account: account, orderID: orderID, clientOrderID: clientOrderID)
    }

    private static func replace(_ fields: PlainFields) -> ReplaceRequest? {
        guard let account = required(fields[.account], AccountID.init),
            let orderID = optional(fields[.orderID], OrderID.init),
            let clientOrderID = optional(fields[.clientOrderID], ClientOrderID.init),
            let qty = fixed(fields[.qty], as: QuantityKind.self),
            let limitPrice = fixed(fields[.limitPrice], as: PriceKind.self),
            let stopPrice = fixed(fields[.stopPrice], as: PriceKind.self),
            let tif = optional(fields[.tif], TimeInForce.init(rawValue:))
        else { return nil }
        return ReplaceRequest(
            account: account, orderID: orderID, clientOrderID: clientOrderID, qty: qty, limitPrice: limitPrice,
            stopPrice: stopPrice, tif: tif)
    }

    private static func quote(_ fields: PlainFields) -> QuoteRequest? {
        guard let symbol = required(fields[.symbol], Symbol.init),
            let bid = fixed(fields[.bid], as: PriceKind.self),
            let ask = fixed(fields[.ask], as: PriceKind.self),
            let last = fixed(fields[.last], as: PriceKind.self),
            let bidSize = fixed(fields[.bidSize], as: QuantityKind.self),
            let askSize = fixed(fields[.askSize], as: QuantityKind.self),
            let volume = fixed(fields[.volume], as: QuantityKind.self)
        else { return nil }
        return QuoteRequest(
            symbol: symbol, bid: bid, ask: ask, last: last, bidSize: bidSize, askSize: askSize, volume: volume)
    }

    private static func signal(_ fields: PlainFields) -> SignalRequest? {
        guard let account = required(fields[.account], AccountID.init),
            let signalID = required(fields[.signalID], ClientOrderID.init),
            let strategy = optional(fields[.strategy], { Optional($0) }),
            let symbol = required(fields[.symbol], Symbol.init),
            let side = required(fields[.side], OrderSide.init(rawValue:)),
            let stopPrice = fixed(fields[.stopPrice], as: PriceKind.self),
            let atr = fixed(fields[.atr], as: PriceKind.self),
            let atrMultiple = fixed(fields[.atrMultiple], as: PriceKind.self),
            let takeProfit = fixed(fields[.takeProfit], as: PriceKind.self),
            let riskFraction = fixed(fields[.riskFraction], as: PriceKind.self),
            let qty = fixed(fields[.qty], as: QuantityKind.self),
            let tif = optional(fields[.tif], TimeInForce.init(rawValue:))
        else { return nil }
        var entry: SignalRequest.Entry?
        switch fields[.entry] {
        case nil, .null?: entry = nil
        case .object(let inner)?:
            guard inner.only(PlainFields.entryKeys), let type = optional(inner[.type], OrderType.init(rawValue:)),
                let price = fixed(inner[.price], as: PriceKind.self)
            else { return nil }
            entry = SignalRequest.Entry(type: type, price: price)
        default: return nil
        }
        guard let tags = strings(fields[.tags]) else { return nil }
        return SignalRequest(
            account: account, signalID: signalID, strategy: strategy, symbol: symbol, side: side, entry: entry,
            stopPrice: stopPrice, atr: atr, atrMultiple: atrMultiple, takeProfit: takeProfit,
            riskFraction: riskFraction, qty: qty, tif: tif, tags: tags)
    }

    private static func cancelAll(_ fields: PlainFields) -> CancelAllRequest? {
        guard let account = optional(fields[.account], AccountID.init),
            let symbol = optional(fields[.symbol], Symbol.init)
        else { return nil }
        return CancelAllRequest(account: account, symbol: symbol)
    }

    private static func hello(_ fields: PlainFields) -> HelloRequest? {
        guard let client = optional(fields[.client], { Optional($0) }) else { return nil }
        var version: Int?
        switch fields[.protocolVersion] {
        case nil, .null?: version = nil
        case .number(let text)?:
            // A whole number as `JSONDecoder` reads an `Int`; a fraction is left to it.
            guard !text.utf8.contains(UInt8(ascii: ".")), let whole = Int(text) else { return nil }
            version = whole
        default: return nil
        }
        return HelloRequest(client: client, protocol: version)
    }

    /// An optional list of strings: `.some(nil)` when absent or null, `nil` when not plain.
    private static func strings(_ value: PlainValue?) -> [String]?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .strings(let list)?: return .some(list)
        default: return nil
        }
    }

    /// A required string field that `make` takes; `nil` otherwise.
    private static func required<T>(_ value: PlainValue?, _ make: (String) -> T?) -> T? {
        guard case .string(let text)? = value else { return nil }
        return make(text)
    }

    /// An optional string field: `.some(nil)` when absent or null, `.some(value)` when `make` takes its
    /// text, `nil` (read it the usual way) otherwise.
    private static func optional<T>(_ value: PlainValue?, _ make: (String) -> T?) -> T?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .string(let text)?: return make(text).map { .some($0) }
        default: return nil
        }
    }

    /// An optional decimal field, a string or a number as `KeyedDecodingContainer.fixed` reads it: a
    /// number's text is exact here, so it is parsed as it is written (at most 30 digits, well inside
    /// `Decimal`'s 38).
    private static func fixed<Kind: FixedKind>(_ value: PlainValue?, as _: Kind.Type) -> Fixed<Kind>?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .string(let text)?: return Fixed<Kind>(text).map { .some($0) }
        case .number(let text)?:
            guard text.utf8.count <= 30 else { return nil }
            return Fixed<Kind>(text).map { .some($0) }
        default: return nil
        }
    }
}

/// What a plain line asks for.
public enum PlainRequest: Sendable {
    case submit(SubmitRequest)
    case cancel(CancelRequest)
    case replace(ReplaceRequest)
    case quote(QuoteRequest)
    case signal(SignalRequest)
    case hello(HelloRequest)
    case cancelAll(CancelAllRequest)
    case status

    /// The verb.
    public var op: String {
        switch self {
        case .submit: "submit"
        case .cancel: "cancel"
        case .replace: "replace"
        case .quote: "quote"
        case .signal: "signal"
        case .hello: "hello"
        case .cancelAll: "cancel_all"
        case .status: "status"
        }
    }

    public var submit: SubmitRequest? {
        if case .submit(let request) = self { request } else { nil }
    }

    public var cancel: CancelRequest? {
        if case .cancel(let request) = self { request } else { nil }
    }

    public var replace: ReplaceRequest? {
        if case .replace(let request) = self { request } else { nil }
    }

    public var quote: QuoteRequest? {
        if case .quote(let request) = self { request } else { nil }
    }

    public var signal: SignalRequest? {
        if case .signal(let request) = self { request } else { nil }
    }

    public var hello: HelloRequest? {
        if case .hello(let request) = self { request } else { nil }
    }

    public var cancelAll: CancelAllRequest? {
        if case .cancelAll(let request) = self { request } else { nil }
    }
}

/// A plain submit line (`PlainLine`): its id and order.
public struct PlainSubmit: Sendable {
    /// The request's `id`; `nil` when absent or null.
    public let id: RequestID?
    public let request: SubmitRequest

    public init?(_ line: Data) {
        guard let plain = PlainLine(line), case .submit(let request) = plain.request else { return nil }
        id = plain.id
        self.request = request
    }
}

/// One value of a plain object.
enum PlainValue {
    case string(String)
    /// A number's text, as written: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`.
    case number(String)
    case bool(Bool)
    case null
    case strings([String])
    /// A flat object inside the line's (a signal's `entry`); the one case kept behind a reference, so that
    /// the others are not.
    indirect case object(PlainFields)
}

/// The keys a plain line may have, each at most once; which of them each verb takes.
struct PlainFields {
    /// Each key's value, at its `rawValue`: one slot a key (a key past them traps at its first `set`).
    private var values = InlineArray<34, PlainValue?>(repeating: nil)
    /// The keys set, one bit each (`Key.rawValue`).
    private(set) var present: UInt64 = 0

    static let submitKeys = mask(
        .id, .op, .account, .clientOrderID, .symbol, .side, .qty, .type, .limitPrice, .stopPrice, .trailPrice,
        .trailPercent, .tif, .strategy, .tags, .orderClass, .extendedHours)
    static let cancelKeys = mask(.id, .op, .account, .orderID, .clientOrderID)
    static let replaceKeys = mask(
        .id, .op, .account, .orderID, .clientOrderID, .qty, .limitPrice, .stopPrice, .tif)
    // `ts` is left to `JSONDecoder`: a timestamp has more than one form.
    static let quoteKeys = mask(.id, .op, .symbol, .bid, .ask, .last, .bidSize, .askSize, .volume)
    static let signalKeys = mask(
        .id, .op, .account, .signalID, .strategy, .symbol, .side, .entry, .stopPrice, .atr, .atrMultiple,
        .takeProfit, .riskFraction, .qty, .tif, .tags)
    /// A signal's `entry`.
    static let entryKeys = mask(.type, .price)
    static let helloKeys = mask(.id, .op, .client, .protocolVersion)
    static let cancelAllKeys = mask(.id, .op, .account, .symbol)
    static let statusKeys = mask(.id, .op)

    static func mask(_ keys: Key...) -> UInt64 { keys.reduce(0) { $0 | 1 << $1.rawValue } }

    /// Whether every key set is one of `allowed`.
    func only(_ allowed: UInt64) -> Bool { present & ~allowed == 0 }

    /// The field a key names, by its bytes.
    enum Key: UInt64, CaseIterable {
        case id, op, account, clientOrderID, symbol, side, qty, type, limitPrice, stopPrice, trailPrice
        case trailPercent, tif, strategy, tags, orderClass, extendedHours
        case orderID, bid, ask, last, ts, bidSize, askSize, volume
        case signalID, entry, price, atr, atrMultiple, takeProfit, riskFraction, client, protocolVersion

        var name: StaticString {
            switch self {
            case .id: "id"
            case .op: "op"
            case .account: "account"
            case .clientOrderID: "client_order_id"
            case .symbol: "symbol"
            case .side: "side"
            case .qty: "qty"
            case .type: "type"
            case .limitPrice: "limit_price"
            case .stopPrice: "stop_price"
            case .trailPrice: "trail_price"
            case .trailPercent: "trail_percent"
            case .tif: "tif"
            case .strategy: "strategy"
            case .tags: "tags"
            case .orderClass: "order_class"
            case .extendedHours: "extended_hours"
            case .orderID: "order_id"
            case .bid: "bid"
            case .ask: "ask"
            case .last: "last"
            case .ts: "ts"
            case .bidSize: "bid_size"
            case .askSize: "ask_size"
            case .volume: "volume"
            case .signalID: "signal_id"
            case .entry: "entry"
            case .price: "price"
            case .atr: "atr"
            case .atrMultiple: "atr_multiple"
            case .takeProfit: "take_profit"
            case .riskFraction: "risk_fraction"
            case .client: "client"
            case .protocolVersion: "protocol"
            }
        }

        /// The key whose name is exactly `bytes`, or `nil`. Compared as bytes: a `String` and a switch
        /// over strings for each key cost more than the rest of the reading.
        init?(_ bytes: UnsafeRawBufferPointer) {
            for key in Self.allCases {
                let name = key.name
                if name.utf8CodeUnitCount == bytes.count,
                    memcmp(name.utf8Start, bytes.baseAddress!, bytes.count) == 0
                {
                    self = key
                    return
                }
            }
            return nil
        }
    }

    /// The value of `key`, `nil` when the line does not have it.
    subscript(key: Key) -> PlainValue? { values[Int(key.rawValue)] }

    /// Sets the field `key` names; false when it is set already.
    mutating func set(_ key: Key, _ value: PlainValue) -> Bool {
        guard present & 1 << key.rawValue == 0 else { return false }
        present |= 1 << key.rawValue
        values[Int(key.rawValue)] = value
        return true
    }
}

/// Reads one JSON object — its values plain, or flat objects of plain values — and nothing after it but
/// whitespace; `nil` at the first thing it does not take.
struct PlainObjectReader {
    private let bytes: UnsafeRawBufferPointer
    private var at = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func fields() -> PlainFields? {
        skipSpace()
        guard let fields = object(nested: false) else { return nil }
        return end() ? fields : nil
    }

    /// An object; inside another (`nested`), one without objects.
    private mutating func object(nested: Bool) -> PlainFields? {
        var fields = PlainFields()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if take(UInt8(ascii: "}")) { return fields }
        while true {
            guard let key = key() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            guard let value = value(nested: nested), fields.set(key, value) else { return nil }
            skipSpace()
            if take(UInt8(ascii: ",")) {
                skipSpace()
                continue
            }
            return take(UInt8(ascii: "}")) ? fields : nil
        }
    }

    private mutating func end() -> Bool {
        skipSpace()
        return at == bytes.count
    }

    private mutating func value(nested: Bool) -> PlainValue? {
        guard at < bytes.count else { return nil }
        switch bytes[at] {
        case UInt8(ascii: "{"): return nested ? nil : object(nested: true).map { .object($0) }
        case UInt8(ascii: "\""): return string().map { .string($0) }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number().map { .number($0) }
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        case UInt8(ascii: "["): return strings().map { .strings($0) }
        default: return nil
        }
    }

    /// A string without escapes, control characters or bytes beyond ASCII.
    private mutating func string() -> String? {
        plainString().map { String(decoding: $0, as: UTF8.self) }
    }

    /// A key: a plain string naming one of `PlainFields`' fields.
    private mutating func key() -> PlainFields.Key? {
        plainString().flatMap(PlainFields.Key.init)
    }

    /// The bytes between the quotes of a string without escapes, control characters or bytes beyond ASCII.
    private mutating func plainString() -> UnsafeRawBufferPointer? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = at
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                let text = UnsafeRawBufferPointer(rebasing: bytes[start..<at])
                at += 1
                return text
            }
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
            at += 1
        }
        return nil
    }

    /// JSON's number without an exponent.
    private mutating func number() -> String? {
        let start = at
        _ = take(UInt8(ascii: "-"))
        guard at < bytes.count, bytes[at].isASCIIDigit else { return nil }
        if bytes[at] == UInt8(ascii: "0") {
            at += 1
        } else {
            skipDigits()
        }
        if take(UInt8(ascii: ".")) {
            guard at < bytes.count, bytes[at].isASCIIDigit else { return nil }
            skipDigits()
        }
        // An exponent, or a digit after a leading zero, is not taken.
        if at < bytes.count, bytes[at].isASCIIDigit || bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E")
        {
            return nil
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
    }

    /// A list of plain strings, possibly empty.
    private mutating func strings() -> [String]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var list: [String] = []
        skipSpace()
        if take(UInt8(ascii: "]")) { return list }
        while true {
            guard let item = string() else { return nil }
            list.append(item)
            skipSpace()
            if take(UInt8(ascii: ",")) {
                skipSpace()
                continue
            }
            return take(UInt8(ascii: "]")) ? list : nil
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - at >= count else { return false }
        for offset in 0..<count where bytes[at + offset] != word.utf8Start[offset] { return false }
        at += count
        return true
    }

    private mutating func skipDigits() {
        while at < bytes.count, bytes[at].isASCIIDigit { at += 1 }
    }

    private mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard at < bytes.count, bytes[at] == byte else { return false }
        at += 1
        return true
    }
}

extension UInt8 {
    fileprivate var isASCIIDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
}
