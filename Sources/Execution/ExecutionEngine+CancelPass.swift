import BrokerAPI
import GatewayCore

/// The cancels of one `cancel_all`, or of a halt that cancels, sent a slice of `burstSlice` orders at a
/// time. Sent all at once, 100 000 open orders made one batch of 100 000 journal records and broker
/// calls, then a burst of 100 000 broker reports, and the daemon's peak RSS went from about 150 MiB to
/// about 350 MiB before the answer was even written (docs/performance.md). Each slice's batch is
/// journaled and its broker calls made before the next slice is taken, and the next waits as a direct
/// broker's next step does (`takeBrokerSteps`): until the broker's reports are journaled and the
/// journal's tables have caught up. Requests read meanwhile are handled between two slices.
///
/// The orders are those open when the request was handled, in order-ID order; one that has finished or
/// is being canceled by the time its slice comes is passed over. The answer comes once the last slice is
/// journaled.
struct CancelPass {
    var targets: [OrderID]
    var next = 0
    var canceled: [OrderID] = []
    /// Takes each slice's orders, in `pending_cancel`, on the engine's thread, before the slice is
    /// journaled: the caller builds its answer from them but sends it only with `done`'s success.
    let slice: ([Order]) -> Void
    /// Gets the IDs of the orders whose cancel was sent, once the last slice's batch is journaled.
    let done: Reply<[OrderID]>
}

extension ExecutionEngine {
    /// Asks the brokers to cancel every open order of `account` (or of every account), of `symbol` (or
    /// of every symbol): the first slice now, the others as `takeBrokerSteps` takes them.
    func startCancelPass(
        account: AccountID?, symbol: Symbol?, slice: @escaping ([Order]) -> Void, done: Reply<[OrderID]>
    ) {
        let targets = orders.openIDs(in: account) { order in
            order.status != .pendingCancel && (symbol.map { order.symbol == $0 } ?? true)
                && accounts[order.account] != nil
        }
        var pass = CancelPass(targets: targets, slice: slice, done: done)
        cancelSlice(&pass)
        if pass.next < pass.targets.count {
            cancelPasses.append(pass)
        } else {
            reply(done, .success(pass.canceled))
        }
    }

    /// The next slice of the oldest pass under way, answered once it is the pass's last; false when no
    /// pass is under way.
    func takeCancelSlice() -> Bool {
        guard !cancelPasses.isEmpty else { return false }
        cancelSlice(&cancelPasses[0])
        if cancelPasses[0].next == cancelPasses[0].targets.count {
            let pass = cancelPasses.removeFirst()
            reply(pass.done, .success(pass.canceled))
        }
        return true
    }

    /// Every slice left, at once: at shutdown, so that no cancel asked for is left unsent.
    func finishCancelPasses() {
        while takeCancelSlice() {}
    }

    /// Answers every pass under way with `error`: the journal failed, and nothing more is sent.
    func failCancelPasses(_ error: EngineError) {
        let passes = cancelPasses
        cancelPasses.removeAll()
        for pass in passes { pass.done.resume(returning: .failure(error)) }
    }

    private func cancelSlice(_ pass: inout CancelPass) {
        let end = min(pass.next + burstSlice, pass.targets.count)
        var sent: [Order] = []
        sent.reserveCapacity(end - pass.next)
        for id in pass.targets[pass.next..<end] {
            guard let order = orders.working(id), order.status != .pendingCancel,
                case .moved = transition(id, .cancelRequested), let updated = orders.working(id)
            else { continue }
            sent.append(updated)
            send(.cancel(updated), to: updated.account)
        }
        pass.next = end
        pass.canceled.append(contentsOf: sent.lazy.map(\.orderID))
        pass.slice(sent)
    }
}
