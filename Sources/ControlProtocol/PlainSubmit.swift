public import Foundation
import GatewayCore

/// A submit line read by hand in one pass over its bytes: the order path's commonest request, when it is
/// plain — one flat JSON object of the keys below, its strings ASCII without escapes, its numbers without
/// exponents.
///
/// Written by hand because Foundation's `JSONDecoder` was the largest single cost of the engine's thread:
/// 24.5 % of it in a profile of one client sending market orders (docs/performance.md), most of it in
/// building the decoder's boxed values and its coding paths for a line of a dozen short fields. It reads
/// only what it is sure of and is `nil` for anything else — another verb, a key it does not know (`legs`,
/// `take_profit`, `stop_loss` and any other), a key twice, a nested object, an escape, a byte beyond ASCII,
/// a value of the wrong type or at fault — so that `JSONDecoder` reads that line as before and names its
/// problem. What it reads, it reads as `JSONDecoder` does: a test compares both over thousands of
/// generated lines, plain and not.
public struct PlainSubmit: Sendable {
    /// The request's `id`; `nil` when absent or null.
    public let id: RequestID?
    public let request: SubmitRequest

    public init?(_ line: Data) {
        guard
            let read = line.withUnsafeBytes({ bytes -> PlainSubmit? in
                var reader = PlainObjectReader(bytes)
                guard let fields = reader.fields() else { return nil }
                return PlainSubmit(fields)
            })
        else { return nil }
        self = read
    }

    private init?(_ fields: PlainFields) {
        guard case .string("submit") = fields.op else { return nil }
        switch fields.id {
        case nil, .null?: id = nil
        case .string(let text)?: id = .string(text)
        case .number(let text)?:
            // Whole numbers only, without a sign: `JSONDecoder`'s `Decimal` is the same for those.
            guard text.utf8.count <= 18, text.utf8.allSatisfy({ $0.isASCIIDigit }), let whole = Int64(text) else {
                return nil
            }
            id = .number(Decimal(whole))
        default: return nil
        }
        guard case .string(let accountText)? = fields.account, let account = AccountID(accountText),
            case .string(let symbolText)? = fields.symbol, let symbol = Symbol(symbolText),
            case .string(let sideText)? = fields.side, let side = OrderSide(rawValue: sideText),
            case .some(let qty?) = Self.fixed(fields.qty, as: QuantityKind.self),
            let clientOrderID = Self.optional(fields.clientOrderID, ClientOrderID.init),
            let type = Self.optional(fields.type, OrderType.init(rawValue:)),
            let limitPrice = Self.fixed(fields.limitPrice, as: PriceKind.self),
            let stopPrice = Self.fixed(fields.stopPrice, as: PriceKind.self),
            let trailPrice = Self.fixed(fields.trailPrice, as: PriceKind.self),
            let trailPercent = Self.fixed(fields.trailPercent, as: PriceKind.self),
            let tif = Self.optional(fields.tif, TimeInForce.init(rawValue:)),
            let strategy = Self.optional(fields.strategy, { Optional($0) }),
            let orderClass = Self.optional(fields.orderClass, OrderClass.init(rawValue:))
        else { return nil }
        var tags: [String]?
        switch fields.tags {
        case nil, .null?: tags = nil
        case .strings(let list)?: tags = list
        default: return nil
        }
        var extendedHours: Bool?
        switch fields.extendedHours {
        case nil, .null?: extendedHours = nil
        case .bool(let value)?: extendedHours = value
        default: return nil
        }
        request = SubmitRequest(
            account: account, clientOrderID: clientOrderID, symbol: symbol, side: side, qty: qty,
            type: type ?? .market, limitPrice: limitPrice, stopPrice: stopPrice, trailPrice: trailPrice,
            trailPercent: trailPercent, tif: tif, strategy: strategy, tags: tags, orderClass: orderClass,
            extendedHours: extendedHours)
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

/// One value of a plain object.
enum PlainValue: Equatable {
    case string(String)
    /// A number's text, as written: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`.
    case number(String)
    case bool(Bool)
    case null
    case strings([String])
}

/// The keys a plain submit may have, each at most once.
struct PlainFields {
    var id: PlainValue?
    var op: PlainValue?
    var account: PlainValue?
    var clientOrderID: PlainValue?
    var symbol: PlainValue?
    var side: PlainValue?
    var qty: PlainValue?
    var type: PlainValue?
    var limitPrice: PlainValue?
    var stopPrice: PlainValue?
    var trailPrice: PlainValue?
    var trailPercent: PlainValue?
    var tif: PlainValue?
    var strategy: PlainValue?
    var tags: PlainValue?
    var orderClass: PlainValue?
    var extendedHours: PlainValue?

    /// The field a key names, by its bytes.
    enum Key: CaseIterable {
        case id, op, account, clientOrderID, symbol, side, qty, type, limitPrice, stopPrice, trailPrice
        case trailPercent, tif, strategy, tags, orderClass, extendedHours

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

    /// Sets the field `key` names; false when it is set already.
    mutating func set(_ key: Key, _ value: PlainValue) -> Bool {
        func put(_ slot: inout PlainValue?) -> Bool {
            guard slot == nil else { return false }
            slot = value
            return true
        }
        switch key {
        case .id: return put(&id)
        case .op: return put(&op)
        case .account: return put(&account)
        case .clientOrderID: return put(&clientOrderID)
        case .symbol: return put(&symbol)
        case .side: return put(&side)
        case .qty: return put(&qty)
        case .type: return put(&type)
        case .limitPrice: return put(&limitPrice)
        case .stopPrice: return put(&stopPrice)
        case .trailPrice: return put(&trailPrice)
        case .trailPercent: return put(&trailPercent)
        case .tif: return put(&tif)
        case .strategy: return put(&strategy)
        case .tags: return put(&tags)
        case .orderClass: return put(&orderClass)
        case .extendedHours: return put(&extendedHours)
        }
    }
}

/// Reads one flat JSON object and nothing after it but whitespace; `nil` at the first thing it does not
/// take.
struct PlainObjectReader {
    private let bytes: UnsafeRawBufferPointer
    private var at = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func fields() -> PlainFields? {
        var fields = PlainFields()
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if take(UInt8(ascii: "}")) { return end() ? fields : nil }
        while true {
            guard let key = key() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            guard let value = value(), fields.set(key, value) else { return nil }
            skipSpace()
            if take(UInt8(ascii: ",")) {
                skipSpace()
                continue
            }
            guard take(UInt8(ascii: "}")) else { return nil }
            return end() ? fields : nil
        }
    }

    private mutating func end() -> Bool {
        skipSpace()
        return at == bytes.count
    }

    private mutating func value() -> PlainValue? {
        guard at < bytes.count else { return nil }
        switch bytes[at] {
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
