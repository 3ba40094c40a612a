/// What happened to an order: the inputs of the order state machine. Commands the gateway sends read
/// as requests; what the broker reports reads as what it did.
public enum OrderEvent: Sendable, Hashable, CustomStringConvertible {
    /// The adapter's submit call returned.
    case sent
    case acknowledged
    /// A fill; `complete` when the cumulative filled quantity reached the order quantity.
    case filled(complete: Bool)
    case cancelRequested
    case canceled
    case cancelRejected
    case replaceRequested
    case replaced
    case replaceRejected
    case expired
    case rejected
    /// A timeout or crash left the outcome unknown.
    case outcomeUnknown

    public var description: String {
        switch self {
        case .sent: "sent"
        case .acknowledged: "acknowledged"
        case .filled(let complete): complete ? "filled" : "partially_filled"
        case .cancelRequested: "cancel_requested"
        case .canceled: "canceled"
        case .cancelRejected: "cancel_rejected"
        case .replaceRequested: "replace_requested"
        case .replaced: "replaced"
        case .replaceRejected: "replace_rejected"
        case .expired: "expired"
        case .rejected: "rejected"
        case .outcomeUnknown: "outcome_unknown"
        }
    }
}

/// The result of one input to the state machine.
public enum OrderTransition: Sendable, Hashable {
    /// The order moves to this status.
    case moved(to: OrderStatus)
    /// Nothing changes: a duplicate or a late report already accounted for. A late fill still counts
    /// toward the position; only the status stays.
    case unchanged
    /// The input is not valid now (a cancel of a filled order, a replace while a cancel is pending).
    case refused(reason: String)
}

/// The order state machine as one exhaustive transition table (DESIGN.md "Order states"), modelled on
/// the real brokers' out-of-order reports: fills after a cancel request, acknowledgements that overtake
/// the submit call's return, late fills after a cancel, cancel and replace rejects.
public enum OrderStateMachine {
    /// The status after `event` in `status`. `hasFills` says whether any quantity has filled, which
    /// decides where a rejected cancel or replace returns to.
    public static func transition(from status: OrderStatus, on event: OrderEvent, hasFills: Bool) -> OrderTransition {
        let working: OrderStatus = hasFills ? .partiallyFilled : .acknowledged
        switch (status, event) {
        // Not yet confirmed by the broker: accepted, submitted, unknown.
        case (.accepted, .sent): return .moved(to: .submitted)
        case (.submitted, .sent), (.unknown, .sent): return .unchanged
        case (.accepted, .acknowledged), (.submitted, .acknowledged), (.unknown, .acknowledged):
            return .moved(to: .acknowledged)
        case (.accepted, .filled(let complete)), (.submitted, .filled(let complete)), (.unknown, .filled(let complete)),
            (.acknowledged, .filled(let complete)), (.partiallyFilled, .filled(let complete)):
            return .moved(to: complete ? .filled : .partiallyFilled)
        case (.accepted, .cancelRequested), (.submitted, .cancelRequested), (.unknown, .cancelRequested),
            (.acknowledged, .cancelRequested), (.partiallyFilled, .cancelRequested):
            return .moved(to: .pendingCancel)
        case (.accepted, .canceled), (.submitted, .canceled), (.unknown, .canceled), (.acknowledged, .canceled),
            (.partiallyFilled, .canceled), (.pendingCancel, .canceled), (.pendingReplace, .canceled):
            return .moved(to: .canceled)
        case (.accepted, .replaceRequested), (.submitted, .replaceRequested), (.unknown, .replaceRequested):
            return .refused(reason: "the broker has not acknowledged the order yet")
        case (.accepted, .expired), (.submitted, .expired), (.unknown, .expired), (.acknowledged, .expired),
            (.partiallyFilled, .expired), (.pendingCancel, .expired), (.pendingReplace, .expired):
            return .moved(to: .expired)
        case (.accepted, .rejected), (.submitted, .rejected), (.unknown, .rejected), (.acknowledged, .rejected),
            (.pendingCancel, .rejected):
            return .moved(to: .rejected)
        case (.accepted, .outcomeUnknown), (.submitted, .outcomeUnknown): return .moved(to: .unknown)
        case (.unknown, .outcomeUnknown): return .unchanged

        // Working at the broker.
        case (.acknowledged, .sent), (.acknowledged, .acknowledged), (.partiallyFilled, .sent),
            (.partiallyFilled, .acknowledged):
            return .unchanged
        case (.acknowledged, .replaceRequested), (.partiallyFilled, .replaceRequested):
            return .moved(to: .pendingReplace)
        case (.partiallyFilled, .rejected):
            return .refused(reason: "a partially filled order cannot be rejected")
        case (.acknowledged, .outcomeUnknown), (.partiallyFilled, .outcomeUnknown):
            return .refused(reason: "the broker already confirmed the order")

        // A cancel is pending.
        case (.pendingCancel, .sent), (.pendingCancel, .acknowledged), (.pendingCancel, .cancelRequested):
            return .unchanged
        case (.pendingCancel, .filled(let complete)): return complete ? .moved(to: .filled) : .unchanged
        case (.pendingCancel, .cancelRejected): return .moved(to: working)
        case (.pendingCancel, .replaceRequested): return .refused(reason: "a cancel is pending")
        case (.pendingCancel, .outcomeUnknown): return .refused(reason: "the broker already confirmed the order")

        // A replace is pending.
        case (.pendingReplace, .sent), (.pendingReplace, .acknowledged): return .unchanged
        case (.pendingReplace, .filled(let complete)): return complete ? .moved(to: .filled) : .unchanged
        case (.pendingReplace, .cancelRequested), (.pendingReplace, .replaceRequested):
            return .refused(reason: "a replace is pending")
        case (.pendingReplace, .replaced): return .moved(to: .replaced)
        case (.pendingReplace, .replaceRejected): return .moved(to: working)
        case (.pendingReplace, .rejected):
            return .refused(reason: "a replace is pending; reject the replacement instead")
        case (.pendingReplace, .outcomeUnknown): return .refused(reason: "the broker already confirmed the order")

        // Rejects of requests that are not pending are late duplicates.
        case (.accepted, .cancelRejected), (.submitted, .cancelRejected), (.unknown, .cancelRejected),
            (.acknowledged, .cancelRejected), (.partiallyFilled, .cancelRejected), (.pendingReplace, .cancelRejected),
            (.accepted, .replaceRejected), (.submitted, .replaceRejected), (.unknown, .replaceRejected),
            (.acknowledged, .replaceRejected), (.partiallyFilled, .replaceRejected), (.pendingCancel, .replaceRejected):
            return .unchanged
        case (.accepted, .replaced), (.submitted, .replaced), (.unknown, .replaced), (.acknowledged, .replaced),
            (.partiallyFilled, .replaced), (.pendingCancel, .replaced):
            return .refused(reason: "no replace is pending")

        // Terminal: a late fill is recorded; a complete one after a cancel, expiry or reject means the
        // broker filled it after all.
        case (.canceled, .filled(let complete)), (.expired, .filled(let complete)), (.rejected, .filled(let complete)):
            return complete ? .moved(to: .filled) : .unchanged
        case (.replaced, .filled): return .unchanged
        case (.filled, .filled): return .refused(reason: "a fill beyond the order quantity")
        case (.filled, .cancelRequested), (.canceled, .cancelRequested), (.replaced, .cancelRequested),
            (.expired, .cancelRequested), (.rejected, .cancelRequested),
            (.filled, .replaceRequested), (.canceled, .replaceRequested), (.replaced, .replaceRequested),
            (.expired, .replaceRequested), (.rejected, .replaceRequested):
            return .refused(reason: "the order is already \(status.rawValue)")
        case (.filled, _), (.canceled, _), (.replaced, _), (.expired, _), (.rejected, _):
            return .unchanged
        }
    }
}
