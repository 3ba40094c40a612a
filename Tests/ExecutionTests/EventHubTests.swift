import Foundation
import Journal
import Synchronization
import Testing

@testable import Execution

@Suite struct EventHubTests {
    /// Readers cancelled while the engine publishes to them: publishing used to yield under the hub's
    /// lock while a cancelled reader, holding its task's lock, waited for the hub's to remove itself —
    /// each waiting for the other, which stopped the whole daemon. Rounds of subscribe, read, cancel
    /// against a publisher on a thread of its own must all finish.
    @Test func readersCancelledWhileEventsArePublishedNeverHangThePublisher() async throws {
        let hub = EventHub(lastSeq: 0)
        let stop = Atomic<Bool>(false)
        let published = Atomic<Int>(0)
        let publisher = Thread {
            var seq: Int64 = 0
            while !stop.load(ordering: .relaxed) {
                seq += 1
                hub.publish([PublishedEvent(seq: seq, kind: "fill", line: "{}")])
                published.add(1, ordering: .relaxed)
            }
        }
        publisher.start()
        for _ in 0..<300 {
            // Readers that have each had an event, so they are waiting in `next()` when cancelled.
            let readers = (0..<16).map { _ in
                let (_, events) = hub.subscribe(kinds: nil)
                let (got, first) = AsyncStream.makeStream(of: Void.self)
                let task = Task {
                    // Says so at the first event, then reads until cancelled.
                    var signal: AsyncStream<Void>.Continuation? = first
                    for await _ in events {
                        signal?.finish()
                        signal = nil
                    }
                }
                return (task, got)
            }
            for (_, got) in readers { for await _ in got {} }
            for (task, _) in readers { task.cancel() }
            for (task, _) in readers { await task.value }
        }
        let before = published.load(ordering: .relaxed)
        // The publisher is still going: it was never stuck behind a cancelled reader. The first event
        // comes from a publish that began after `before` was read (its list of subscribers has this
        // one) but may not have counted itself yet; the second comes from a later publish, so by then
        // the first has been counted.
        let (_, events) = hub.subscribe(kinds: nil)
        var iterator = events.makeAsyncIterator()
        let first = await iterator.next()
        let second = await iterator.next()
        #expect(first != nil && second != nil)
        #expect(published.load(ordering: .relaxed) > before)
        stop.store(true, ordering: .relaxed)
        #expect(hub.subscriberCount <= 1)
    }

    /// A sink takes each batch's events of its kinds in order, hears the batch end, and is dropped (told
    /// once) when it refuses an event; closing the hub tells the others; a removed sink hears nothing.
    @Test func sinksTakeTheirKindsAndAreDroppedWhenTheyRefuse() {
        let hub = EventHub(lastSeq: 0)
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var lines: [String] = []
            func add(_ line: String) { lock.withLock { lines.append(line) } }
        }
        let (fills, picky, removed) = (Log(), Log(), Log())
        func sink(_ log: Log, refuseAfter: Int = .max) -> EventSink {
            let taken = Atomic<Int>(0)
            return EventSink(
                accept: { event in
                    guard taken.add(1, ordering: .relaxed).newValue <= refuseAfter else { return false }
                    log.add("\(event.seq)")
                    return true
                }, batchEnded: { log.add("end") }, ended: { log.add("ended") })
        }
        _ = hub.subscribe(kinds: ["fill"], sink: sink(fills))
        _ = hub.subscribe(kinds: nil, sink: sink(picky, refuseAfter: 3))
        let gone = hub.subscribe(kinds: nil, sink: sink(removed))!
        hub.remove(gone)
        hub.publish([
            PublishedEvent(seq: 1, kind: "order", line: "{}"), PublishedEvent(seq: 2, kind: "fill", line: "{}"),
        ])
        hub.publish([
            PublishedEvent(seq: 3, kind: "fill", line: "{}"), PublishedEvent(seq: 4, kind: "order", line: "{}"),
            PublishedEvent(seq: 5, kind: "fill", line: "{}"),
        ])
        hub.close()
        #expect(fills.lines == ["2", "end", "3", "5", "end", "ended"])
        #expect(picky.lines == ["1", "2", "end", "3", "end", "ended"])
        #expect(removed.lines.isEmpty)
        #expect(hub.subscribe(kinds: nil, sink: sink(removed)) == nil)
    }

    /// A subscriber's kinds match the same events whether it names a few (searched in turn) or many (a
    /// set): the kinds of a subscription are the client's, unchecked, and may be any number.
    @Test func fewOrManyKindsMatchTheSameEvents() {
        let hub = EventHub(lastSeq: 0)
        let taken = Mutex<[String: [Int64]]>([:])
        func sink(_ name: String) -> EventSink {
            EventSink(
                accept: { event in
                    taken.withLock { $0[name, default: []].append(event.seq) }
                    return true
                }, batchEnded: {}, ended: {})
        }
        let many = Set(["fill", "quote"] + (0..<40).map { "made-up-\($0)" })
        _ = hub.subscribe(kinds: ["fill", "quote"], sink: sink("few"))
        _ = hub.subscribe(kinds: many, sink: sink("many"))
        _ = hub.subscribe(kinds: [], sink: sink("none"))
        hub.publish(
            ["order", "fill", "quote", "trading_state", "fill", "made-up"].enumerated().map {
                PublishedEvent(seq: Int64($0.offset + 1), kind: $0.element, line: "{}")
            })
        let seen = taken.withLock { $0 }
        #expect(seen["few"] == [2, 3, 5])
        #expect(seen["many"] == [2, 3, 5])
        #expect(seen["none"] == nil)
    }

    /// Journal records are published as the lines a subscriber reads, each made once, to the subscribers
    /// that want its kind; the hub's last sequence number moves on even when no one wants the batch.
    @Test func recordsReachTheSubscribersOfTheirKindAsLines() async {
        let hub = EventHub(lastSeq: 0)
        let records = [
            JournalRecord(seq: 1, ts: 0, kind: "order", payload: #"{"order":{"order_id":"a"}}"#),
            JournalRecord(seq: 2, ts: 1_000, kind: "fill", strategy: "turtle", payload: #"{"fill":{"qty":"1"}}"#),
        ]
        hub.publish(records)
        #expect(hub.lastSeq == 2)
        let (_, fills) = hub.subscribe(kinds: ["fill"])
        let (_, everything) = hub.subscribe(kinds: nil)
        let more = records.map { record -> JournalRecord in
            var next = record
            next.seq += 2
            return next
        }
        hub.publish(more)
        hub.close()
        var fillLines: [PublishedEvent] = []
        for await event in fills { fillLines.append(event) }
        var allLines: [PublishedEvent] = []
        for await event in everything { allLines.append(event) }
        #expect(fillLines == [PublishedEvent(record: more[1])])
        #expect(allLines == more.map(PublishedEvent.init(record:)))
        #expect(fillLines.first?.strategy == "turtle")
        #expect(fillLines.first?.line.hasPrefix(#"{"event":"fill","seq":4,"ts":"#) == true)
        #expect(hub.lastSeq == 4)
    }
}
