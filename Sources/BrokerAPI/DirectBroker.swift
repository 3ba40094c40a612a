public import GatewayCore

/// One call on a broker adapter, as `DirectBroker.callNow` takes it.
public enum BrokerCall: Sendable {
    case submit(Order)
    case cancel(Order)
    case replace(Order, with: Order)
    case submitBracket(entry: Order, stop: Order?, target: Order?)
    case quote(Quote)
    case reconcile(tag: UInt64, since: Timestamp?)
    case orderReport(OrderID)
}

/// An adapter whose calls do all their work in memory at once, waiting on nothing outside the process:
/// the paper broker. The engine makes such a call on its own thread, right after the commit that
/// journaled the request, instead of handing it to a task, and takes what the broker reported in the same
/// step — so that an order's acknowledgement and fills reach the engine without any thread being woken
/// (through a task they cost two wake-ups an order: the call's and the events' reader's).
///
/// Not for adapters that report fills from running totals (`JournaledTotalsAware`): `callNow` has no
/// way to be told the journal's totals first.
public protocol DirectBroker: BrokerAdapter {
    /// Sends what the broker reports outside `callNow` (a timer's reports, a `connect()`'s) to `sink` from
    /// now on, in the order reported, instead of to `events`; `events` still finishes at `disconnect()`.
    func deliverEvents(to sink: @escaping @Sendable (BrokerEvent) -> Void)

    /// Makes `call` on the caller's thread and hands `deliver` what it returned (an order report for
    /// `.orderReport`, else `nil`) with every event the broker reported during it, in order, also when
    /// it failed. `deliver` runs before the broker can report anything else, so whatever it does with
    /// the events keeps the broker's order.
    func callNow(_ call: BrokerCall, deliver: (Result<BrokerOrderReport?, BrokerError>, [BrokerEvent]) -> Void)

    /// Whether a call left work unfinished, so as to give the caller's thread back before it was done (a
    /// quote through more resting orders than one step matches); `continueNow` does the next step.
    var hasUnfinishedWork: Bool { get }

    /// Does the next step of the work a call left unfinished, on the caller's thread, and hands `deliver`
    /// every event the broker reported during it, in order, as `callNow` does.
    func continueNow(deliver: ([BrokerEvent]) -> Void)
}

extension DirectBroker {
    /// A broker whose calls always finish their work.
    public var hasUnfinishedWork: Bool { false }

    public func continueNow(deliver: ([BrokerEvent]) -> Void) {}
}
