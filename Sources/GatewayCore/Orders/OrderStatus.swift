/// Where an order is in its life (DESIGN.md "Order states").
public enum OrderStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Journaled and answered; not yet handed to the broker.
    case accepted
    /// The broker's submit call returned; the broker has not acknowledged it yet.
    case submitted
    /// The broker confirmed the order is working.
    case acknowledged
    case partiallyFilled = "partially_filled"
    case filled
    case pendingCancel = "pending_cancel"
    case canceled
    case pendingReplace = "pending_replace"
    case replaced
    case expired
    case rejected
    /// The outcome is not known after a timeout or crash; settled only by asking the broker.
    case unknown

    /// No event moves a terminal order except a late fill, which only records what the broker did.
    public var isTerminal: Bool {
        switch self {
        case .filled, .canceled, .replaced, .expired, .rejected: true
        case .accepted, .submitted, .acknowledged, .partiallyFilled, .pendingCancel, .pendingReplace, .unknown: false
        }
    }

    /// Open orders can still trade.
    public var isOpen: Bool { !isTerminal }

    /// Hashed by its case: the conformance an enum with raw values gets otherwise hashes the raw text, so a
    /// look-up keyed by a status (the engine's order counters, once for each status an order reaches) cost
    /// as much as one keyed by a string.
    public func hash(into hasher: inout Hasher) {
        let index: UInt8 =
            switch self {
            case .accepted: 0
            case .submitted: 1
            case .acknowledged: 2
            case .partiallyFilled: 3
            case .filled: 4
            case .pendingCancel: 5
            case .canceled: 6
            case .pendingReplace: 7
            case .replaced: 8
            case .expired: 9
            case .rejected: 10
            case .unknown: 11
            }
        hasher.combine(index)
    }
}
