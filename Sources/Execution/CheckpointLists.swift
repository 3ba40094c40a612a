import Foundation
import GatewayCore

/// Reads a checkpoint's two lists that only grow with the history — the `client_order_id` index and
/// the fills seen — straight from the bytes `Checkpoint.encode` wrote, and leaves the rest of the text
/// to `JSONDecoder`.
///
/// Written by hand because `JSONDecoder` was most of a start from a checkpoint: on `journal-bench`'s
/// journal of a million events, 58 % of the start's CPU was decoding the checkpoint and 44 % these two
/// lists alone, a keyed container and three validated identifiers per index entry (`perf record -g` of
/// `gatewayd` starting on it, with the target at 1 s and the start at 0.8–1.1 s).
///
/// It takes the text only as the checkpoint's writer makes it — no spaces, the keys in their order,
/// strings without escapes — and says `nil` for anything else, which is then decoded whole by
/// `JSONDecoder` as before: an escape, a key out of place or an identifier that fails its rule costs
/// the fast path, never a wrong list.
enum CheckpointLists {
    struct Split {
        /// The checkpoint's text with both lists empty.
        var rest: Data
        var clientIndex: [Checkpoint.ClientEntry]
        var seenFills: [String]
    }

    static func split(_ data: Data) -> Split? {
        let bytes = [UInt8](data)
        guard let indexOpen = find(Self.indexKey, in: bytes, from: 0) else { return nil }
        var reader = Reader(bytes: bytes, at: indexOpen)
        var clientIndex: [Checkpoint.ClientEntry] = []
        guard
            reader.list({ reader in
                guard reader.take(Self.accountKey), let account = reader.string().flatMap(AccountID.init),
                    reader.take(Self.clientOrderIDKey), let clientOrderID = reader.string().flatMap(ClientOrderID.init),
                    reader.take(Self.orderIDKey), let orderID = reader.string().flatMap(OrderID.init),
                    reader.take(Self.entryEnd)
                else { return false }
                clientIndex.append(
                    Checkpoint.ClientEntry(account: account, clientOrderID: clientOrderID, orderID: orderID))
                return true
            })
        else { return nil }
        let indexClose = reader.at - 1
        guard let fillsOpen = find(Self.fillsKey, in: bytes, from: reader.at) else { return nil }
        reader.at = fillsOpen
        var seenFills: [String] = []
        guard
            reader.list({ reader in
                guard let fill = reader.string() else { return false }
                seenFills.append(fill)
                return true
            })
        else { return nil }
        let fillsClose = reader.at - 1
        var rest = Data(capacity: bytes.count - (indexClose - indexOpen) - (fillsClose - fillsOpen))
        rest.append(contentsOf: bytes[..<indexOpen])
        rest.append(contentsOf: bytes[indexClose..<fillsOpen])
        rest.append(contentsOf: bytes[fillsClose...])
        return Split(rest: rest, clientIndex: clientIndex, seenFills: seenFills)
    }

    private static let indexKey = Array(#""clientIndex":["#.utf8)
    private static let fillsKey = Array(#""seenFills":["#.utf8)
    private static let accountKey = Array(#"{"account":"#.utf8)
    private static let clientOrderIDKey = Array(#","clientOrderID":"#.utf8)
    private static let orderIDKey = Array(#","orderID":"#.utf8)
    private static let entryEnd = Array("}".utf8)

    /// Where `needle` ends in `bytes`, first found from `start`. A key found here is a key: inside a JSON
    /// string a quote is escaped, so `"name":[` cannot appear there.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        bytes.withUnsafeBytes { ByteSearch.end(of: needle, in: $0, from: start) }
    }

    private struct Reader {
        let bytes: [UInt8]
        var at: Int

        /// Takes `expected` if the text goes on with it.
        mutating func take(_ expected: [UInt8]) -> Bool {
            guard bytes.count - at >= expected.count else { return false }
            for (offset, byte) in expected.enumerated() where bytes[at + offset] != byte { return false }
            at += expected.count
            return true
        }

        /// A string without escapes, its quotes included.
        mutating func string() -> String? {
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
            var end = at + 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                if bytes[end] == UInt8(ascii: "\\") || bytes[end] < 0x20 { return nil }
                end += 1
            }
            guard end < bytes.count else { return nil }
            defer { at = end + 1 }
            return String(decoding: bytes[(at + 1)..<end], as: UTF8.self)
        }

        /// The entries of a list whose `[` was just taken, each read by `entry`, up to and past its `]`.
        mutating func list(_ entry: (inout Reader) -> Bool) -> Bool {
            if take([UInt8(ascii: "]")]) { return true }
            while true {
                guard entry(&self) else { return false }
                if take([UInt8(ascii: "]")]) { return true }
                guard take([UInt8(ascii: ",")]) else { return false }
            }
        }
    }
}

extension Checkpoint {
    /// A checkpoint from its text: its long lists by `CheckpointLists`, the rest by `decoder`.
    static func decode(_ data: Data, decoder: JSONDecoder) throws -> Checkpoint {
        guard let split = CheckpointLists.split(data) else { return try decoder.decode(Checkpoint.self, from: data) }
        var checkpoint = try decoder.decode(Checkpoint.self, from: split.rest)
        guard checkpoint.clientIndex.isEmpty, checkpoint.seenFills.isEmpty else {
            return try decoder.decode(Checkpoint.self, from: data)
        }
        checkpoint.clientIndex = split.clientIndex
        checkpoint.seenFills = split.seenFills
        return checkpoint
    }
}

extension Checkpoint.Lists {
    /// A base checkpoint's lists, as `Checkpoint.decode` reads them.
    static func decode(_ data: Data, decoder: JSONDecoder) throws -> Checkpoint.Lists {
        guard let split = CheckpointLists.split(data) else { return try decoder.decode(Self.self, from: data) }
        return Checkpoint.Lists(clientIndex: split.clientIndex, seenFills: split.seenFills)
    }
}
