import Crypto
public import Foundation

/// The journal's hash chain (issue: journal as an audit trail): each event stores
/// SHA-256(previous event's hash ‖ the event's canonical bytes); the first event's previous hash is 32
/// zero bytes. Editing, inserting or deleting a row breaks every link after it, and `verify` names the
/// first broken one.
///
/// Canonical bytes, so that anyone can recompute the chain from the table with any language: `seq` and
/// `ts` as 8-byte big-endian two's complement integers, then `kind`, `account`, `symbol`, `order_id`,
/// `client_order_id`, `strategy` and `payload` each as one byte (0 absent, 1 present) followed, when
/// present, by its UTF-8 length as a 4-byte big-endian integer and the UTF-8 bytes.
public enum HashChain {
    public static let genesis = Data(repeating: 0, count: 32)

    public static func canonicalBytes(of record: JournalRecord) -> [UInt8] {
        // Exactly the size below, so that the array is allocated once: two 8-byte integers, then for each
        // of the seven texts a presence byte and, when present, a 4-byte length and its bytes.
        func size(_ text: String?) -> Int { 1 + (text.map { 4 + $0.utf8.count } ?? 0) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            16 + size(record.kind) + size(record.account) + size(record.symbol) + size(record.orderID)
                + size(record.clientOrderID) + size(record.strategy) + size(record.payload))
        appendCanonicalBytes(of: record, to: &bytes)
        return bytes
    }

    /// The canonical bytes appended to `bytes` (the journal's log buffer: no array of their own per event).
    /// No exact reservation here: on a buffer that takes a whole batch, reserving each event's size would
    /// reallocate it for every event of a batch larger than any before, where appending grows it by
    /// doubling.
    static func appendCanonicalBytes(of record: JournalRecord, to bytes: inout [UInt8]) {
        append(record.seq, to: &bytes)
        append(record.ts, to: &bytes)
        append(record.kind, to: &bytes)
        append(record.account, to: &bytes)
        append(record.symbol, to: &bytes)
        append(record.orderID, to: &bytes)
        append(record.clientOrderID, to: &bytes)
        append(record.strategy, to: &bytes)
        append(record.payload, to: &bytes)
    }

    private static func append(_ value: Int64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private static func append(_ value: String?, to bytes: inout [UInt8]) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        withUnsafeBytes(of: UInt32(value.utf8.count).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: value.utf8)
    }

    /// The record whose canonical bytes are `bytes`; `nil` when they are not exactly one record's (the
    /// journal's log reads its frames back with this).
    static func record(fromCanonical bytes: ArraySlice<UInt8>) -> JournalRecord? {
        var index = bytes.startIndex
        func integer(_ width: Int) -> Int64? {
            guard bytes.endIndex - index >= width else { return nil }
            defer { index += width }
            return bytes[index..<index + width].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        }
        func text() -> String?? {
            guard index < bytes.endIndex else { return nil }
            let present = bytes[index]
            index += 1
            if present == 0 { return .some(nil) }
            guard present == 1, let length = integer(4), bytes.endIndex - index >= Int(length) else { return nil }
            defer { index += Int(length) }
            return .some(String(decoding: bytes[index..<index + Int(length)], as: UTF8.self))
        }
        guard let seq = integer(8), let ts = integer(8), case let kind?? = text(), let account = text(),
            let symbol = text(), let orderID = text(), let clientOrderID = text(), let strategy = text(),
            case let payload?? = text(), index == bytes.endIndex
        else { return nil }
        return JournalRecord(
            seq: seq, ts: ts, kind: kind, account: account, symbol: symbol, orderID: orderID,
            clientOrderID: clientOrderID, strategy: strategy, payload: payload)
    }

    /// The link of `record` after `previous`.
    public static func link(after previous: Data, _ record: JournalRecord) -> Data {
        link(after: previous, canonical: canonicalBytes(of: record))
    }

    /// The link of the record whose canonical bytes are `canonical`, after `previous`, as the append path
    /// keeps it: 32 bytes in a value, without the allocation a `Data` costs for every event.
    static func link(after previous: ChainHash, canonical: UnsafeRawBufferPointer) -> ChainHash {
        var hasher = SHA256()
        previous.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: canonical)
        return ChainHash(hasher.finalize())
    }

    /// The link of the record whose canonical bytes are `canonical`, after `previous`.
    static func link(after previous: Data, canonical: [UInt8]) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        canonical.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return Data(hasher.finalize())
    }

    static func hex(_ data: Data?) -> String {
        guard let data else { return "none" }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(data.count * 2)
        for byte in data {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// What `EventJournal.verify()` found.
public struct JournalVerification: Sendable, Hashable, Codable {
    public var verified: Bool
    /// Events checked, and the last one's sequence number and hash (hex) — the head to note down
    /// elsewhere, since cutting the newest events off the end cannot be told from the chain alone.
    public var events: Int64
    public var lastSeq: Int64
    public var headHash: String
    /// The first broken link: where, what the chain says the hash should be, and what the row holds.
    public var brokenSeq: Int64?
    public var expected: String?
    public var found: String?
    public var problem: String?

    enum CodingKeys: String, CodingKey {
        case verified, events, lastSeq = "last_seq", headHash = "head_hash", brokenSeq = "broken_seq", expected, found
        case problem
    }
}

/// One link of the hash chain, its 32 bytes held in the value: the append path makes one for every event
/// on the engine's thread, where making each a `Data` (an allocation) cost more than the hashing — 3 % of
/// that thread at 16 clients × 16 orders in flight (docs/performance.md). Stored and compared as `Data`
/// everywhere else.
struct ChainHash: Sendable, Equatable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ digest: SHA256Digest) {
        Swift.withUnsafeMutableBytes(of: &words) { words in
            digest.withUnsafeBytes { words.copyMemory(from: $0) }
        }
    }

    /// The link held in `data`; `nil` unless it is 32 bytes.
    init?(_ data: Data) {
        guard data.count == 32 else { return nil }
        Swift.withUnsafeMutableBytes(of: &words) { words in
            data.withUnsafeBytes { words.copyMemory(from: $0) }
        }
    }

    var data: Data { withUnsafeBytes { Data($0) } }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words, body)
    }

    static func == (left: ChainHash, right: ChainHash) -> Bool {
        left.words.0 == right.words.0 && left.words.1 == right.words.1 && left.words.2 == right.words.2
            && left.words.3 == right.words.3
    }
}
