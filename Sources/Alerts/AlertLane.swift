import Synchronization

/// One destination's queue and doorbell, shared by the feed (which enqueues) and the destination's
/// delivery task (which sends). The queue is a value behind a lock; enqueueing is a lock, an append
/// and a doorbell ring, so the feed never waits on a destination.
final class AlertLane: Sendable {
    let destination: AlertDestination
    let queue: Mutex<DeliveryQueue>
    let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation
    /// Set when a reload removed or changed the destination: its delivery task sends what is queued,
    /// then ends.
    private let retiredFlag = Atomic<Bool>(false)

    init(_ destination: AlertDestination) {
        self.destination = destination
        queue = Mutex(DeliveryQueue(capacity: destination.queueCapacity, perMinute: destination.maxPerMinute))
        (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func enqueue(_ alert: Alert, now: Duration) -> [DeliveryQueue.Effect] {
        let effects = queue.withLock { $0.enqueue(alert, now: now) }
        ring.yield()
        return effects
    }

    func wake() { ring.yield() }

    var isRetired: Bool { retiredFlag.load(ordering: .acquiring) }

    func retire() {
        retiredFlag.store(true, ordering: .releasing)
        ring.yield()
    }
}
