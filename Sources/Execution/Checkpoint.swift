import Foundation
import GatewayCore

/// The engine's state after the event `seq`, as a restart needs it (issue: journal as an audit trail,
/// "Snapshots"): books, working orders, the idempotency index, fills seen, last quotes, trading states
/// and the risk figures. Written into the journal every N events; a restart loads the newest one and
/// replays only the events after it. Everything is encoded in a fixed order, so the same state always
/// makes the same bytes — which is how tests prove a checkpoint equals a full replay.
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
    var books: [AccountBook]
    var orders: [Order]
    var clientIndex: [ClientEntry]
    var seenFills: [String]
    var quotes: [Quote]
    var accountStates: [AccountState]
    var gatewayState: TradingState
    var riskBooks: [AccountRisk]

    /// The state after event `seq`, put in a fixed order (sorting is the costly part: do it off the engine).
    init(seq: Int64, state: StateCopy) {
        self.seq = seq
        books = state.books.values.sorted { $0.account < $1.account }
        orders = state.orders.values.filter(\.status.isOpen).sorted { $0.orderID < $1.orderID }
        clientIndex = state.clientIndex.flatMap { account, index in
            index.map { ClientEntry(account: account, clientOrderID: $0.key, orderID: $0.value) }
        }.sorted { ($0.account, $0.clientOrderID) < ($1.account, $1.clientOrderID) }
        seenFills = state.seenFills.sorted()
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

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// The state a checkpoint holds, as the engine or a replay keeps it: copying it is cheap (its
/// collections are copy-on-write), so the engine hands it to a task that sorts and encodes it.
struct StateCopy: Sendable {
    var books: [AccountID: AccountBook]
    var orders: [OrderID: Order]
    var clientIndex: [AccountID: [ClientOrderID: OrderID]]
    var seenFills: Set<String>
    var quotes: [Symbol: Quote]
    var accountStates: [AccountID: TradingState]
    var gatewayState: TradingState
    var riskBooks: [AccountID: RiskBook]
}

extension ExecutionEngine {
    var stateCopy: StateCopy {
        StateCopy(
            books: books, orders: orders.live, clientIndex: clientIndex, seenFills: seenFills, quotes: quotes,
            accountStates: accountStates, gatewayState: gatewayState, riskBooks: riskBooks)
    }
}

extension Replay {
    var stateCopy: StateCopy {
        StateCopy(
            books: books, orders: orders, clientIndex: clientIndex, seenFills: seenFills, quotes: quotes,
            accountStates: accountStates, gatewayState: gatewayState, riskBooks: riskBooks)
    }

    /// Replay picking up after a checkpoint.
    init(checkpoint: Checkpoint, decoder: JSONDecoder, accounts: [AccountID: EngineAccount]) {
        self.init(decoder: decoder, accounts: accounts)
        lastSeq = checkpoint.seq
        books = Dictionary(checkpoint.books.map { ($0.account, $0) }, uniquingKeysWith: { $1 })
        orders = Dictionary(checkpoint.orders.map { ($0.orderID, $0) }, uniquingKeysWith: { $1 })
        for entry in checkpoint.clientIndex {
            clientIndex[entry.account, default: [:]][entry.clientOrderID] = entry.orderID
        }
        seenFills = Set(checkpoint.seenFills)
        quotes = Dictionary(checkpoint.quotes.map { ($0.symbol, $0) }, uniquingKeysWith: { $1 })
        accountStates = Dictionary(checkpoint.accountStates.map { ($0.account, $0.state) }, uniquingKeysWith: { $1 })
        gatewayState = checkpoint.gatewayState
        riskBooks = Dictionary(checkpoint.riskBooks.map { ($0.account, $0.risk) }, uniquingKeysWith: { $1 })
        for (id, account) in accounts { riskBooks[id]?.resizeRateWindow(to: account.rateWindow) }
    }
}
