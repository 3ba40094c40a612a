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
}
