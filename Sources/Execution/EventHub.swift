import Journal
import Synchronization

/// Fans committed events out to subscribers. Publishing and subscribing take one lock, so a new
/// subscriber learns exactly the last sequence number published before it joined: everything after it
/// reaches its stream, everything up to it is in the journal. A subscriber that falls more than
/// `bufferLimit` events behind is dropped (its stream ends) rather than slowing everyone.
final class EventHub: Sendable {
    private enum Delivery {
        case stream(AsyncStream<PublishedEvent>.Continuation)
        case sink(EventSink)
    }

    private struct Subscriber {
        var kinds: Kinds
        var delivery: Delivery

        init(kinds: Set<String>?, delivery: Delivery) {
            self.kinds = kinds.map { $0.count <= 16 ? .few(Array($0)) : .many($0) } ?? .all
            self.delivery = delivery
        }

        /// Ends the subscription from the hub's side (closed, or fell behind).
        func end() {
            switch delivery {
            case .stream(let continuation): continuation.finish()
            case .sink(let sink): sink.ended()
            }
        }
    }

    /// The kinds a subscriber wants. A short list is searched in turn: comparing an event's kind with a
    /// few short strings costs less than hashing it, once for every event and subscriber.
    private enum Kinds {
        case all
        case few([String])
        case many(Set<String>)

        func contains(_ kind: String) -> Bool {
            switch self {
            case .all: true
            case .few(let kinds): kinds.contains(kind)
            case .many(let kinds): kinds.contains(kind)
            }
        }
    }

    private struct State {
        var lastSeq: Int64
        var nextID = 0
        var subscribers: [Int: Subscriber] = [:] {
            didSet { list = Array(subscribers) }
        }
        /// `subscribers` as the array each publish walks, made when they change rather than at every
        /// publish (an allocation each, two an order).
        private(set) var list: [(Int, Subscriber)] = []
        var closed = false
    }

    private let state: Mutex<State>
    let bufferLimit: Int

    init(lastSeq: Int64, bufferLimit: Int = 65_536) {
        state = Mutex(State(lastSeq: lastSeq))
        self.bufferLimit = bufferLimit
    }

    /// The last sequence number published.
    var lastSeq: Int64 { state.withLock { $0.lastSeq } }

    /// Registers a subscriber: the events published from now on, and the sequence number just before them.
    func subscribe(kinds: Set<String>?) -> (lastSeq: Int64, events: AsyncStream<PublishedEvent>) {
        let (stream, continuation) = AsyncStream.makeStream(
            of: PublishedEvent.self, bufferingPolicy: .bufferingOldest(bufferLimit))
        let (lastSeq, id, closed) = state.withLock { state -> (Int64, Int, Bool) in
            let id = state.nextID
            state.nextID += 1
            if !state.closed {
                state.subscribers[id] = Subscriber(kinds: kinds, delivery: .stream(continuation))
            }
            return (state.lastSeq, id, state.closed)
        }
        if closed {
            continuation.finish()
        } else {
            continuation.onTermination = { [weak self] _ in self?.remove(id) }
        }
        return (lastSeq, stream)
    }

    /// Registers a sink that takes the events published from now on as they are published, on the
    /// publisher's thread; returns its id for `remove`, or `nil` when the hub is closed.
    func subscribe(kinds: Set<String>?, sink: EventSink) -> Int? {
        state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = Subscriber(kinds: kinds, delivery: .sink(sink))
            return id
        }
    }

    /// Sends committed events, in sequence order, to every subscriber that wants their kind.
    ///
    /// The events are yielded outside the lock: yielding resumes a waiting reader, which takes that
    /// task's own lock, while a reader being cancelled holds its task's lock and calls `remove`, which
    /// takes this one — holding both in opposite orders hung the daemon (found by gateway-bench when its
    /// watchers disconnected under load). Only the engine publishes, one batch after another, so
    /// yielding outside the lock keeps every subscriber's events in sequence order; a subscriber that
    /// joins meanwhile was told a `lastSeq` that already covers this batch.
    func publish(_ events: [PublishedEvent]) {
        publish(events, kind: \.kind, seq: \.seq) { $0 }
    }

    /// Publishes a committed batch of journal records: each record's line is made only when a
    /// subscriber wants its kind, once for all of them (most events of the order path go to no one, or
    /// only to subscribers of fills).
    func publish(_ records: [JournalRecord]) {
        publish(records, kind: \.kind, seq: \.seq, PublishedEvent.init(record:))
    }

    private func publish<Item>(
        _ items: [Item], kind: (Item) -> String, seq: (Item) -> Int64, _ event: (Item) -> PublishedEvent
    ) {
        guard let last = items.last else { return }
        let subscribers = state.withLock { state -> [(Int, Subscriber)] in
            state.lastSeq = seq(last)
            return state.list
        }
        guard !subscribers.isEmpty else { return }
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: subscribers.count) { took in
            took.initialize(repeating: false)
            publish(items, to: subscribers, took: took, kind: kind, event)
        }
    }

    /// `publish`'s walk over the items and `subscribers`; `took` marks the sinks that took any.
    private func publish<Item>(
        _ items: [Item], to subscribers: [(Int, Subscriber)], took: UnsafeMutableBufferPointer<Bool>,
        kind: (Item) -> String, _ event: (Item) -> PublishedEvent
    ) {
        var overflowed: [Int] = []
        for item in items {
            let itemKind = kind(item)
            var made: PublishedEvent?
            for (index, (id, subscriber)) in subscribers.enumerated()
            where subscriber.kinds.contains(itemKind) && !overflowed.contains(id) {
                let published = made ?? event(item)
                made = published
                switch subscriber.delivery {
                case .stream(let continuation):
                    if case .dropped = continuation.yield(published) { overflowed.append(id) }
                case .sink(let sink):
                    took[index] = true
                    if !sink.accept(published) { overflowed.append(id) }
                }
            }
        }
        for (index, (_, subscriber)) in subscribers.enumerated() where took[index] {
            if case .sink(let sink) = subscriber.delivery { sink.batchEnded() }
        }
        guard !overflowed.isEmpty else { return }
        let dropped = state.withLock { state in overflowed.compactMap { state.subscribers.removeValue(forKey: $0) } }
        for subscriber in dropped { subscriber.end() }
    }

    /// Ends every subscription; later subscribers get an ended stream.
    func close() {
        let all = state.withLock { state -> [Subscriber] in
            state.closed = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in all { subscriber.end() }
    }

    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    func remove(_ id: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }
}

/// A subscriber that takes events on the publisher's thread — the engine's, which in `gatewayd` is the
/// control socket's event loop — so that a connection writes each event as its batch commits, with no
/// task and no thread between. `accept` returns false when the subscriber has fallen too far behind (it
/// is then dropped and `ended` called); `batchEnded` follows each batch it took events from (a
/// connection flushes then); `ended` is called when the hub closes or drops it, not after `remove`.
public struct EventSink: Sendable {
    let accept: @Sendable (PublishedEvent) -> Bool
    let batchEnded: @Sendable () -> Void
    let ended: @Sendable () -> Void

    public init(
        accept: @escaping @Sendable (PublishedEvent) -> Bool, batchEnded: @escaping @Sendable () -> Void,
        ended: @escaping @Sendable () -> Void
    ) {
        self.accept = accept
        self.batchEnded = batchEnded
        self.ended = ended
    }
}
