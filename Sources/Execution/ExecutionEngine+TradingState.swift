import GatewayCore
import Logging

extension ExecutionEngine {
    /// The state in force for an account: the stricter of its own and the gateway's.
    func tradingState(of account: AccountID) -> TradingState {
        if journalFailure != nil { return .halted }
        return gatewayState.combined(with: accountStates[account] ?? .active)
    }

    func handleHalt(
        _ account: AccountID?, _ reason: String?, _ cancelOpen: Bool, _ continuation: Reply<TradingStateChange>
    ) {
        if let account, accounts[account] == nil {
            return reply(continuation, .failure(EngineError(.unknownAccount, "no account named '\(account)'")))
        }
        let why = reason ?? "halted by an operator"
        setState(.halted, of: account, reason: why, cause: "operator")
        let change = TradingStateChange(account: account, state: .halted, reason: why, cause: "operator")
        guard cancelOpen else { return reply(continuation, .success(change)) }
        startCancelPass(
            account: account, symbol: nil, slice: { _ in },
            done: .callback { result in
                continuation.resume(
                    returning: result.map { canceled in
                        var change = change
                        change.canceled = canceled
                        return change
                    })
            })
    }

    func handleResume(
        _ account: AccountID?, _ state: TradingState, _ reason: String?, _ continuation: Reply<TradingStateChange>
    ) {
        if let account, accounts[account] == nil {
            return reply(continuation, .failure(EngineError(.unknownAccount, "no account named '\(account)'")))
        }
        guard state != .halted else {
            return reply(
                continuation, .failure(.badRequest("state", "resume takes active or reducing; halt with halt")))
        }
        let why = reason ?? "resumed by an operator"
        setState(state, of: account, reason: why, cause: "operator")
        reply(
            continuation, .success(TradingStateChange(account: account, state: state, reason: why, cause: "operator")))
    }

    /// Journals and applies a state; a halt or resume of the whole gateway is journaled once.
    func setState(_ state: TradingState, of account: AccountID?, reason: String, cause: String) {
        if let account {
            accountStates[account] = state
        } else {
            gatewayState = state
        }
        stage(
            .tradingState(TradingStateChange(account: account, state: state, reason: reason, cause: cause)),
            at: clock.now())
        logger.notice(
            "trading state changed",
            metadata: [
                "account": "\(account?.rawValue ?? "gateway")", "state": "\(state.rawValue)", "reason": "\(reason)",
            ])
    }
}
