import FIXCodec
import FIXTransport
import Synchronization

/// An application that records what its session delivers, for tests to wait on.
final class RecordingApplication: FIXApplication {
    enum Event: Sendable {
        case loggedOn
        case loggedOut
        case message(FIXMessage)
    }

    let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    init() {
        (events, continuation) = AsyncStream.makeStream()
    }

    func received(_ message: FIXMessage, session: FIXSessionHandle) { continuation.yield(.message(message)) }
    func loggedOn(session: FIXSessionHandle) { continuation.yield(.loggedOn) }
    func loggedOut(session: FIXSessionHandle) { continuation.yield(.loggedOut) }
}

/// Reads events until one matches, failing after `limit` so a broken engine cannot hang the suite.
struct EventReader {
    var iterator: AsyncStream<RecordingApplication.Event>.Iterator

    init(_ application: RecordingApplication) {
        iterator = application.events.makeAsyncIterator()
    }

    struct TimedOut: Error {}

    mutating func next(
        limit: Duration = .seconds(20), where predicate: (RecordingApplication.Event) -> Bool
    ) async throws -> RecordingApplication.Event {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            guard let event = await iterator.next() else { throw TimedOut() }
            if predicate(event) { return event }
        }
        throw TimedOut()
    }

    mutating func loggedOn() async throws {
        _ = try await next { if case .loggedOn = $0 { true } else { false } }
    }

    mutating func message() async throws -> FIXMessage {
        guard case .message(let message) = try await next(where: { if case .message = $0 { true } else { false } })
        else { throw TimedOut() }
        return message
    }
}

/// A NewOrderSingle with `clOrdID`.
func newOrderSingle(_ clOrdID: String) -> FIXMessage {
    var order = FIXMessage(msgType: "D")
    for (tag, value) in [
        (11, clOrdID), (21, "1"), (38, "100"), (40, "1"), (54, "1"), (55, "INTC"), (60, "20261203-12:00:00"),
    ] {
        order.append(tag, value)
    }
    return order
}
