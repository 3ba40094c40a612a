import Foundation
public import GatewayCore
import Journal

extension ExecutionEngine {
    /// A performance report over the committed journal (PROTOCOL.md `report`), read off the actor: it
    /// walks the journal's accounts, orders (for strategy and tags), fills and quotes in order.
    public nonisolated func report(_ scope: ReportScope) -> Result<PerformanceReport, EngineError> {
        if let account = scope.account, sessions[account] == nil {
            return .failure(EngineError(.unknownAccount, "no account named '\(account)'"))
        }
        let session = sessions[scope.account ?? accountOrder.first ?? AccountID("none")!] ?? .utcMidnight
        var builder = ReportBuilder(scope: scope) { session.sessionDate(of: $0) }
        var labels: [OrderID: (strategy: String?, tags: [String])] = [:]
        let decoder = JSONDecoder()
        do {
            try journal.forEachRecord { record in
                let data = Data(record.payload.utf8)
                let ts = Timestamp(nanosecondsSinceEpoch: record.ts)
                switch EventKind(rawValue: record.kind) {
                case .accountOpened:
                    let opened = try decoder.decode(AccountOpened.self, from: data)
                    builder.opened(opened.account, cash: opened.cash, at: ts)
                case .order where record.payload.contains("\"change\":\"accepted\""):
                    let order = try decoder.decode(OrderChanged.self, from: data).order
                    labels[order.orderID] = (order.strategy, order.tags ?? [])
                case .fill:
                    let fill = try decoder.decode(FillPayload.self, from: data).fill
                    let label = labels[fill.orderID]
                    builder.fill(fill, strategy: label?.strategy ?? record.strategy, tags: label?.tags ?? [])
                case .quote:
                    let quote = try decoder.decode(QuotePayload.self, from: data).quote
                    builder.quote(quote.symbol, mark: quote.mark, at: ts)
                default:
                    break
                }
            }
        } catch {
            return .failure(EngineError(.internal, "cannot read the journal for the report: \(error)"))
        }
        return .success(builder.report())
    }
}
