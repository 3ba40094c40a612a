public import Execution
import Foundation

/// Reads an event stream until an event matches, so tests wait on what happened, never on time.
public struct EventWaiter {
    var iterator: AsyncStream<PublishedEvent>.Iterator

    public init(_ stream: AsyncStream<PublishedEvent>) { iterator = stream.makeAsyncIterator() }

    /// The next event (as a JSON object) for which `predicate` holds; `nil` if the stream ends first.
    public mutating func next(where predicate: ([String: Any]) -> Bool) async -> [String: Any]? {
        while let event = await iterator.next() {
            if let object = try? JSONSerialization.jsonObject(with: Data(event.line.utf8)) as? [String: Any],
                predicate(object)
            {
                return object
            }
        }
        return nil
    }

    /// The next `order` event of `orderID` whose status is `status`.
    public mutating func order(_ orderID: String, status: String) async -> [String: Any]? {
        await next { event in
            guard event["event"] as? String == "order", let order = event["order"] as? [String: Any] else {
                return false
            }
            return order["order_id"] as? String == orderID && order["status"] as? String == status
        }
    }
}
