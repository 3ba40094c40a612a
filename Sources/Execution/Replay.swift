import Foundation
import GatewayCore
import Journal

/// Rebuilds the engine's state from the journal: each `order` event carries the whole order, each `fill`
/// moves cash and a position, each `quote` a mark, so replay needs no broker and no state machine.
struct Replay {
    let decoder: JSONDecoder
    var books: [AccountID: AccountBook] = [:]
    var orders: [OrderID: Order] = [:]
    var clientIndex: [AccountID: [ClientOrderID: OrderID]] = [:]
    var seenFills: Set<String> = []
    var quotes: [Symbol: Quote] = [:]
    var accountStates: [AccountID: TradingState] = [:]
    var gatewayState = TradingState.active
    var lastSeq: Int64 = 0

    let sessions: [AccountID: TradingSession]

    init(decoder: JSONDecoder, sessions: [AccountID: TradingSession] = [:]) {
        self.decoder = decoder
        self.sessions = sessions
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
            case .order:
                let change = try decoder.decode(OrderChanged.self, from: data)
                orders[change.order.orderID] = change.order
                if change.change == "accepted" {
                    clientIndex[change.order.account, default: [:]][change.order.clientOrderID] = change.order.orderID
                }
                if change.change == "rejected", let replaced = change.order.replacesOrderID,
                    let original = orders[replaced]
                {
                    clientIndex[original.account, default: [:]][original.clientOrderID] = original.orderID
                }
            case .fill:
                let fill = try decoder.decode(FillPayload.self, from: data).fill
                seenFills.insert("\(fill.account)/\(fill.fillID)")
                books[fill.account]?.apply(fill, sessionDate: sessions[fill.account]?.sessionDate(of: fill.ts))
            case .quote:
                let quote = try decoder.decode(QuotePayload.self, from: data).quote
                quotes[quote.symbol] = quote
            case .tradingState:
                let change = try decoder.decode(TradingStateChange.self, from: data)
                if let account = change.account {
                    accountStates[account] = change.state
                } else {
                    gatewayState = change.state
                }
            case .broker, .brokerUnmatched, nil:
                break  // history only; kinds added later are skipped by older builds
            }
        } catch let error as DecodingError {
            throw JournalError("replay cannot read event \(record.seq) (\(record.kind)): \(error)")
        }
    }
}
