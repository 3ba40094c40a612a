import Foundation
import GatewayCore
import HashTreeCollections
import Journal

/// Rebuilds the engine's state from the journal: each `order` event carries the whole order, each `fill`
/// moves cash and a position, each `quote` a mark, so replay needs no broker and no state machine.
struct Replay {
    let decoder: JSONDecoder
    var books: [AccountID: AccountBook] = [:]
    var orders: [OrderID: Order] = [:]
    var clientIndex: ClientIndex = [:]
    var seenFills: FillKeys = []
    var quotes: [Symbol: Quote] = [:]
    var accountStates: [AccountID: TradingState] = [:]
    var gatewayState = TradingState.active
    var riskBooks: [AccountID: RiskBook] = [:]
    var lastSeq: Int64 = 0

    let accounts: [AccountID: EngineAccount]

    init(decoder: JSONDecoder, accounts: [AccountID: EngineAccount]) {
        self.decoder = decoder
        self.accounts = accounts
    }

    mutating func apply(_ record: JournalRecord) throws {
        guard record.seq == lastSeq + 1 else {
            throw JournalError("replay found seq \(record.seq) after \(lastSeq): the journal has a gap")
        }
        lastSeq = record.seq
        let data = Data(record.payload.utf8)
        do {
            switch EventKind(rawValue: record.kind) {
            case .accountOpened:
                let opened = try decoder.decode(AccountOpened.self, from: data)
                books[opened.account] = AccountBook(
                    account: opened.account, currency: opened.currency, openingCash: opened.cash)
                riskBooks[opened.account] = RiskBook(
                    openingCash: opened.cash, rateWindow: accounts[opened.account]?.rateWindow ?? 0)
            case .order:
                let change = try decoder.decode(OrderChanged.self, from: data)
                let order = change.order
                // Only working orders stay in memory; finished ones are read back from the journal.
                let previous = orders[order.orderID]
                orders[order.orderID] = order.status.isOpen ? order : nil
                riskBooks.modifyValue(forKey: order.account) { $0.track(order, previous: previous) }
                // New orders count toward the rate and the day's total as the engine counted them: not a
                // replacement, not a bracket's exit.
                if change.change == "accepted", order.replacesOrderID == nil, order.parentOrderID == nil {
                    let day = session(of: order.account).sessionDate(of: order.createdAt)
                    riskBooks.modifyValue(forKey: order.account) {
                        $0.recordAccepted(at: order.createdAt, sessionDate: day)
                    }
                }
                if change.change == "accepted" || change.change == "adopted" {
                    clientIndex[change.order.account, default: [:]][change.order.clientOrderID] = change.order.orderID
                }
                // An order refused by pre-trade risk is never accepted, but its client_order_id is taken.
                if change.change == "rejected", clientIndex[order.account]?[order.clientOrderID] == nil {
                    clientIndex[order.account, default: [:]][order.clientOrderID] = order.orderID
                }
                if change.change == "rejected", let replaced = change.order.replacesOrderID,
                    let original = orders[replaced]
                {
                    clientIndex[original.account, default: [:]][original.clientOrderID] = original.orderID
                }
            case .fill:
                let fill = try decoder.decode(FillPayload.self, from: data).fill
                seenFills.insert("\(fill.account)/\(fill.spreadFillID ?? fill.fillID)")
                let day = session(of: fill.account).sessionDate(of: fill.ts)
                books.modifyValue(forKey: fill.account) { $0.apply(fill, sessionDate: day) }
                if let book = books[fill.account] {
                    riskBooks.modifyValue(forKey: fill.account) { $0.update(from: book, symbol: fill.symbol) }
                }
            case .quote:
                let quote = try decoder.decode(QuotePayload.self, from: data).quote
                quotes[quote.symbol] = quote
                riskBooks.mark(quote.symbol, at: quote.mark)
            case .tradingState:
                let change = try decoder.decode(TradingStateChange.self, from: data)
                if let account = change.account {
                    accountStates[account] = change.state
                } else {
                    gatewayState = change.state
                }
            case .broker, .brokerUnmatched, .alertDropped, .accessDenied, .configReloaded, .reconciliation, nil:
                break  // history only; kinds added later are skipped by older builds
            }
        } catch let error as DecodingError {
            throw JournalError("replay cannot read event \(record.seq) (\(record.kind)): \(error)")
        }
    }
}

extension Replay {
    func session(of account: AccountID) -> TradingSession { accounts[account]?.session ?? .utcMidnight }
}

extension Dictionary where Key == AccountID, Value == RiskBook {
    /// A quote's new mark, for every account.
    mutating func mark(_ symbol: Symbol, at price: Price?) {
        guard price != nil else { return }
        for id in keys { self[id]!.mark(symbol, at: price) }
    }
}
