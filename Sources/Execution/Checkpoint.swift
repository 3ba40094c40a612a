import Foundation
import GatewayCore
import HashTreeCollections
import Synchronization

/// The engine's state after the event `seq`, as a restart needs it (issue: journal as an audit trail,
/// "Snapshots"): books, working orders, the idempotency index, fills seen, last quotes, trading states
/// and the risk figures. Written into the journal every N events; a restart loads the newest one and
/// replays only the events after it. Everything is encoded in a fixed order, so the same state always
/// makes the same bytes — which is how tests prove a checkpoint equals a full replay.
///
/// The two lists that only grow with the history — the `client_order_id` index and the fills seen — are
/// most of a long-running journal's checkpoint (16.9 MB after a million events, written every 10 000
/// events, in docs/performance.md). A checkpoint with a `base` holds only the entries those two gained
/// or changed since the checkpoint `base`, and the rest of the state whole (`CheckpointChain` says when
/// the next one builds on it); a restart reads its chain of bases back to one without
/// (`Replay.init(checkpoint:bases:)`).
struct Checkpoint: Codable, Sendable {
    struct ClientEntry: Codable, Sendable {
        var account: AccountID
        var clientOrderID: ClientOrderID
        var orderID: OrderID
    }

    struct AccountState: Codable, Sendable {
        var account: AccountID
        var state: TradingState
    }

    struct AccountRisk: Codable, Sendable {
        var account: AccountID
        var risk: RiskBook
    }

    var seq: Int64
    /// The checkpoint whose index and fills this one's extend; `nil`: they are whole here.
    var base: Int64?
    var books: [AccountBook]
    var orders: [Order]
    var clientIndex: [ClientEntry]
    var seenFills: [String]
    var quotes: [Quote]
    var accountStates: [AccountState]
    var gatewayState: TradingState
    var riskBooks: [AccountRisk]

    /// The state after event `seq`, put in a fixed order (sorting is the costly part: do it off the engine).
    /// With `changes`, the index and the fills are only what changed since the checkpoint `changes.base`.
    init(seq: Int64, state: StateCopy, changes: CheckpointChanges? = nil) {
        self.seq = seq
        base = changes?.base
        books = state.books.values.sorted { $0.account < $1.account }
        // The long lists are sorted in place, the index in an array made to size: with 100 000 open
        // orders, a sorted copy of the index and the slack of an array grown by doubling were some 10 MiB.
        orders = state.orders.values.filter(\.status.isOpen)
        orders.sort { $0.orderID < $1.orderID }
        if let changes {
            // An id changed twice since the base is written once, as it is now.
            var latest: [AccountID: [ClientOrderID: OrderID]] = [:]
            for entry in changes.clientIndex {
                latest[entry.account, default: [:]][entry.clientOrderID] = entry.orderID
            }
            clientIndex = latest.flatMap { account, index in
                index.map { ClientEntry(account: account, clientOrderID: $0.key, orderID: $0.value) }
            }
            seenFills = changes.fills  // each key once: only a newly seen fill is added
        } else {
            clientIndex = []
            clientIndex.reserveCapacity(state.clientIndex.values.reduce(0) { $0 + $1.count })
            for (account, index) in state.clientIndex {
                for (clientOrderID, orderID) in index {
                    clientIndex.append(ClientEntry(account: account, clientOrderID: clientOrderID, orderID: orderID))
                }
            }
            seenFills = Array(state.seenFills)
        }
        clientIndex.sort { ($0.account, $0.clientOrderID) < ($1.account, $1.clientOrderID) }
        seenFills.sort()
        quotes = state.quotes.values.sorted { $0.symbol < $1.symbol }
        accountStates = state.accountStates.map { AccountState(account: $0.key, state: $0.value) }.sorted {
            $0.account < $1.account
        }
        gatewayState = state.gatewayState
        riskBooks = state.riskBooks.map { AccountRisk(account: $0.key, risk: $0.value) }.sorted {
            $0.account < $1.account
        }
    }

    init(_ replay: Replay) {
        self.init(seq: replay.lastSeq, state: replay.stateCopy)
    }

    /// The checkpoint as JSON, the bytes `JSONEncoder` (sorted keys, slashes unescaped) writes for it.
    func encoded() throws -> Data {
        var whole: [UInt8] = []
        try encode(pieceSize: 1 << 20) { whole += $0 }
        return Data(whole)
    }

    /// The checkpoint's JSON, handed to `emit` in pieces of about `pieceSize` bytes as it is written, so
    /// that the whole text is never in memory at once. Its long lists — open orders, the
    /// `client_order_id` index and the fill ids, one entry per order or fill — are written by JSONText
    /// in place of the empty lists `JSONEncoder` writes for the rest: `JSONEncoder` builds the whole tree
    /// in memory first, which for 100 000 open orders added about 340 MiB to the daemon's peak
    /// (docs/performance.md).
    func encode(pieceSize: Int, to emit: ([UInt8]) throws -> Void) throws {
        var rest = self
        rest.orders = []
        rest.clientIndex = []
        rest.seenFills = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = Array(try encoder.encode(rest))
        var json = JSONText(capacity: pieceSize + (64 << 10))
        var failure: (any Error)?
        // After each entry of a long list: a full piece goes out.
        func entryWritten(_ json: inout JSONText) {
            guard failure == nil, json.count >= pieceSize else { return }
            do { try emit(json.takeAllButLast()) } catch { failure = error }
        }
        // Keys are sorted, so each empty list sits between the same two neighbours, in this order.
        let lists: [(marker: String, list: LongList)] = [
            (#","clientIndex":[],"gatewayState":"#, .clientIndex), (#","orders":[],"quotes":"#, .orders),
            (#","seenFills":[],"seq":"#, .seenFills),
        ]
        var from = text.startIndex
        for (marker, list) in lists {
            let needle = Array(marker.utf8)
            guard let start = text[from...].firstRange(of: needle)?.lowerBound else {
                throw CheckpointEncodingError(marker: marker)
            }
            let listStart = start + needle.firstIndex(of: UInt8(ascii: "["))!
            json.raw(text[from..<listStart])
            switch list {
            case .clientIndex:
                json.array(clientIndex) { json, entry in
                    json.object { json in
                        json.member("account", entry.account.rawValue)
                        json.member("clientOrderID", entry.clientOrderID.rawValue)
                        json.member("orderID", entry.orderID.rawValue)
                    }
                    entryWritten(&json)
                }
            case .orders:
                json.array(orders) { json, order in
                    order.write(to: &json)
                    entryWritten(&json)
                }
            case .seenFills:
                json.array(seenFills) { json, fill in
                    json.string(fill)
                    entryWritten(&json)
                }
            }
            from = listStart + 2
        }
        json.raw(text[from...])
        if let failure { throw failure }
        try emit(json.bytes)
    }
}

/// The lists a checkpoint writes itself, entry by entry.
private enum LongList {
    case clientIndex, orders, seenFills
}

/// Every client order id each account has used, to the order it named (idempotency: an id seen before
/// answers with that order). A hash trie (`TreeDictionary`), not a `Dictionary`: it only grows, and a
/// checkpoint's copy of the state shares it, so the engine's next new order after each checkpoint copied
/// a whole `Dictionary` on its thread — an O(all orders ever) stall on the order path, milliseconds at
/// tens of thousands of orders (docs/performance.md). A trie's insert copies only the nodes on its path.
typealias ClientIndex = [AccountID: TreeDictionary<ClientOrderID, OrderID>]

/// Every fill recorded, as `account/fill_id`, to take each broker fill once: a hash trie for the same
/// reason as `ClientIndex`.
typealias FillKeys = TreeSet<String>

/// The state a checkpoint holds, as the engine or a replay keeps it: copying it is cheap (its
/// collections are copy-on-write), so the engine hands it to a task that sorts and encodes it.
struct StateCopy: Sendable {
    var books: [AccountID: AccountBook]
    var orders: [OrderID: Order]
    var clientIndex: ClientIndex
    var seenFills: FillKeys
    var quotes: [Symbol: Quote]
    var accountStates: [AccountID: TradingState]
    var gatewayState: TradingState
    var riskBooks: [AccountID: RiskBook]
}

extension ExecutionEngine {
    var stateCopy: StateCopy { stateCopy(withLists: true) }

    /// The state as a checkpoint takes it; without the two long lists (`withLists` false) when the
    /// checkpoint writes only what they gained (`CheckpointChanges`). A copy of a trie shares its nodes with
    /// the engine's, and while the copy lives each insert on the engine's side copies the nodes on its path
    /// (a node's every key retained again) instead of writing in place: under `gateway-bench`'s 16 × 16 load
    /// that copying, and freeing the nodes the copy kept, took 6–7 % of the engine's thread
    /// (docs/performance.md).
    func stateCopy(withLists: Bool) -> StateCopy {
        StateCopy(
            books: books, orders: orders.live, clientIndex: withLists ? clientIndex : [:],
            seenFills: withLists ? seenFills : [], quotes: quotes, accountStates: accountStates,
            gatewayState: gatewayState, riskBooks: riskBooks)
    }
}

/// Hands a value to the thread that uses it, so that its last reference is dropped there and not where
/// it was made: a checkpoint's copy of the state, freed on the engine's thread when the task that wrote
/// it ended there, freed with it every node of the state's tries the engine had replaced meanwhile.
final class HandOff<Value: Sendable>: Sendable {
    private let value: Mutex<Value?>

    init(_ value: sending Value) { self.value = Mutex(value) }

    /// The value, once; `nil` after.
    func take() -> Value? { value.withLock { $0.take() } }
}

extension Replay {
    var stateCopy: StateCopy {
        StateCopy(
            books: books, orders: orders, clientIndex: clientIndex, seenFills: seenFills, quotes: quotes,
            accountStates: accountStates, gatewayState: gatewayState, riskBooks: riskBooks)
    }

    /// Replay picking up after a checkpoint and the chain of checkpoints it extends (`bases`, oldest
    /// first; empty when its index and fills are whole).
    init(
        checkpoint: Checkpoint, bases: [Checkpoint.Lists] = [], decoder: JSONDecoder,
        accounts: [AccountID: EngineAccount]
    ) {
        self.init(decoder: decoder, accounts: accounts)
        lastSeq = checkpoint.seq
        books = Dictionary(checkpoint.books.map { ($0.account, $0) }, uniquingKeysWith: { $1 })
        orders = Dictionary(checkpoint.orders.map { ($0.orderID, $0) }, uniquingKeysWith: { $1 })
        for lists in bases + [Checkpoint.Lists(clientIndex: checkpoint.clientIndex, seenFills: checkpoint.seenFills)] {
            for entry in lists.clientIndex {
                clientIndex[entry.account, default: [:]][entry.clientOrderID] = entry.orderID
            }
            seenFills.formUnion(lists.seenFills)
        }
        quotes = Dictionary(checkpoint.quotes.map { ($0.symbol, $0) }, uniquingKeysWith: { $1 })
        accountStates = Dictionary(checkpoint.accountStates.map { ($0.account, $0.state) }, uniquingKeysWith: { $1 })
        gatewayState = checkpoint.gatewayState
        riskBooks = Dictionary(checkpoint.riskBooks.map { ($0.account, $0.risk) }, uniquingKeysWith: { $1 })
        for (id, account) in accounts { riskBooks[id]?.resizeRateWindow(to: account.rateWindow) }
    }
}

extension Checkpoint {
    /// The two long lists of a checkpoint, all a restart reads of the checkpoints a newer one extends.
    struct Lists: Decodable, Sendable {
        var clientIndex: [ClientEntry]
        var seenFills: [String]
    }
}

/// What the idempotency index and the fills seen gained since the checkpoint `base` (the engine keeps
/// them as they happen, so that a checkpoint need not compare the whole lists).
struct CheckpointChanges: Sendable {
    var base: Int64
    var clientIndex: [Checkpoint.ClientEntry]
    var fills: [String]
}

/// The checkpoint's JSON did not have the shape its encoder expects (a bug: its keys changed).
struct CheckpointEncodingError: Error, CustomStringConvertible {
    let marker: String
    var description: String { "cannot splice the checkpoint's lists: '\(marker)' not found" }
}

/// The newest checkpoint this engine wrote, and how far its chain is from the whole one it starts from.
/// The next checkpoint extends it while the chain is short and what its links hold, with one more like
/// the last, stays within that whole one: a restart reads the whole chain, so at most `maxLinks`
/// checkpoints and twice a whole one's bytes. (With many open orders, which every checkpoint holds
/// whole, a link is about as large as the root, and whole checkpoints and links alternate.)
struct CheckpointChain {
    static let maxLinks = 32
    var seq: Int64
    var rootSize: Int
    var links = 0
    var addedSize = 0
    var lastSize = 0

    var extendable: Bool { links < Self.maxLinks && addedSize + lastSize <= rootSize }

    mutating func extend(to seq: Int64, size: Int) {
        self.seq = seq
        links += 1
        addedSize += size
        lastSize = size
    }
}
