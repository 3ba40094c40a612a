import Alerts
import Testing

@Suite struct DeliveryQueueTests {
    /// Sends whatever `next` hands out until it says wait or idle; returns what was sent.
    static func drain(_ queue: inout DeliveryQueue, now: Duration) -> [DeliveryQueue.Message] {
        var sent: [DeliveryQueue.Message] = []
        while case .send(let message) = queue.next(now: now) {
            sent.append(message)
            _ = queue.finished(.delivered, now: now)
        }
        return sent
    }

    @Test func coalescesABurstOfAThousandFillsIntoNineteenMessagesAndASummary() {
        var queue = DeliveryQueue(capacity: 1_000, perMinute: 20)
        for n in 1...1_000 {
            #expect(queue.enqueue(fillAlert(n, symbol: n % 10 == 0 ? "MSFT" : "AAPL"), now: .zero).isEmpty)
        }
        let sent = Self.drain(&queue, now: .zero)
        #expect(sent.count == 20)
        for (index, message) in sent.prefix(19).enumerated() {
            guard case .alert(let alert, _) = message else {
                Issue.record("message \(index) is not a single alert")
                continue
            }
            let n = index + 1
            #expect(alert.text == "FILLED buy \(n) \(n % 10 == 0 ? "MSFT" : "AAPL") @ 190.12 · paper")
        }
        guard case .summary(let summary) = sent.last else {
            Issue.record("the last message is not a summary")
            return
        }
        #expect(summary.count == 981)
        #expect(summary.counts == [.fill: 981])
        #expect(summary.text == "SUMMARY +981 more alerts: 981 fills · AAPL ×882, MSFT ×99")
        #expect(queue.isEmpty)
        #expect(queue.droppedTotal == 0)
    }

    @Test func waitsForTheMinuteWindowOnceItsMessagesAreSpent() {
        var queue = DeliveryQueue(capacity: 100, perMinute: 2)
        _ = queue.enqueue(fillAlert(1), now: .zero)
        #expect(Self.drain(&queue, now: .zero).count == 1)
        _ = queue.enqueue(fillAlert(2), now: .seconds(10))
        #expect(Self.drain(&queue, now: .seconds(10)).count == 1)
        _ = queue.enqueue(fillAlert(3), now: .seconds(20))
        #expect(queue.next(now: .seconds(20)) == .wait(until: .seconds(60)))
        let late = Self.drain(&queue, now: .seconds(60))
        #expect(late.count == 1)
        if case .alert(let alert, let since) = late.first {
            #expect(alert.text.hasPrefix("FILLED buy 3 "))
            #expect(since == .seconds(20))
        } else {
            Issue.record("expected the third fill")
        }
    }

    @Test func retriesWithDoublingBackoffAndKeepsTheMessage() {
        var queue = DeliveryQueue(capacity: 10, perMinute: 20)
        _ = queue.enqueue(fillAlert(1), now: .zero)
        guard case .send(let first) = queue.next(now: .zero) else {
            Issue.record("nothing to send")
            return
        }
        #expect(
            queue.finished(.retry(after: nil, problem: "connection refused"), now: .zero)
                == [.unreachable(problem: "connection refused")])
        #expect(queue.next(now: .zero) == .wait(until: .seconds(1)))
        #expect(queue.next(now: .seconds(1)) == .send(first))
        #expect(queue.finished(.retry(after: nil, problem: "connection refused"), now: .seconds(1)).isEmpty)
        #expect(queue.next(now: .seconds(1)) == .wait(until: .seconds(3)))
        #expect(queue.next(now: .seconds(3)) == .send(first))
        #expect(queue.finished(.delivered, now: .seconds(3)) == [.reachable(afterFailures: 2)])
        #expect(queue.isEmpty)
        #expect(
            (1...12).map { DeliveryQueue.backoff(afterFailures: $0) }
                == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300].map { Duration.seconds($0) })
    }

    @Test func honoursRetryAfterAndCapsIt() {
        var queue = DeliveryQueue(capacity: 10, perMinute: 20)
        _ = queue.enqueue(fillAlert(1), now: .zero)
        _ = queue.next(now: .zero)
        _ = queue.finished(.retry(after: .seconds(7), problem: "HTTP 429 (rate limited)"), now: .zero)
        #expect(queue.next(now: .seconds(6)) == .wait(until: .seconds(7)))
        guard case .send = queue.next(now: .seconds(7)) else {
            Issue.record("no retry at the Retry-After")
            return
        }
        _ = queue.finished(.retry(after: .seconds(86_400), problem: "HTTP 429 (rate limited)"), now: .seconds(7))
        #expect(queue.next(now: .seconds(7)) == .wait(until: .seconds(7 + 900)))
    }

    @Test func dropsTheOldestWhenFullAndJournalsTheCountOnceAMinute() {
        var queue = DeliveryQueue(capacity: 3, perMinute: 20)
        _ = queue.enqueue(fillAlert(1), now: .zero)
        _ = queue.next(now: .zero)  // in flight, failing
        _ = queue.finished(.retry(after: nil, problem: "timed out"), now: .zero)
        for n in 2...4 { #expect(queue.enqueue(fillAlert(n), now: .zero).isEmpty) }
        let reason =
            "the queue of 3 alerts was full while the destination was unreachable (timed out); the oldest was dropped"
        #expect(queue.enqueue(fillAlert(5), now: .zero) == [.dropped(count: 1, total: 1, reason: reason)])
        #expect(queue.enqueue(fillAlert(6), now: .seconds(30)).isEmpty)
        #expect(queue.enqueue(fillAlert(7), now: .seconds(59)).isEmpty)
        #expect(queue.enqueue(fillAlert(8), now: .seconds(60)) == [.dropped(count: 3, total: 4, reason: reason)])
        #expect(queue.waitingCount == 3)
        #expect(queue.droppedTotal == 4)
        // Back up: the retried one goes first, then the newest three (5 was dropped later than 2…4).
        guard case .send(.alert(let head, _)) = queue.next(now: .seconds(61)) else {
            Issue.record("no retry")
            return
        }
        #expect(head.text.hasPrefix("FILLED buy 1 "))
        _ = queue.finished(.delivered, now: .seconds(61))
        let rest = Self.drain(&queue, now: .seconds(61))
        let texts = rest.map { message -> String in
            if case .alert(let alert, _) = message { return alert.text }
            if case .summary(let summary) = message { return summary.text }
            return ""
        }
        #expect(texts.map { String($0.prefix(15)) } == ["FILLED buy 6 AA", "FILLED buy 7 AA", "FILLED buy 8 AA"])
    }

    @Test func tellsThePersonHowManyWereDroppedInTheNextSummary() {
        var queue = DeliveryQueue(capacity: 2, perMinute: 3)
        _ = queue.enqueue(fillAlert(1), now: .zero)
        _ = queue.next(now: .zero)
        _ = queue.finished(.retry(after: nil, problem: "connection refused"), now: .zero)
        for n in 2...6 { _ = queue.enqueue(fillAlert(n), now: .zero) }  // 2, 3, 4 dropped
        let sent = Self.drain(&queue, now: .seconds(1))
        #expect(sent.count == 3)
        guard case .summary(let summary) = sent.last else {
            Issue.record("no summary")
            return
        }
        #expect(summary.count == 1)
        #expect(summary.dropped == 3)
        #expect(
            summary.text
                == "SUMMARY +1 more alert: 1 fill · AAPL ×1 · 3 alerts dropped while this destination was unreachable")
    }

    @Test func dropsAMessageTheDestinationRefuses() {
        var queue = DeliveryQueue(capacity: 10, perMinute: 20)
        _ = queue.enqueue(fillAlert(1), now: .zero)
        _ = queue.enqueue(fillAlert(2), now: .zero)
        _ = queue.next(now: .zero)
        #expect(
            queue.finished(.refused(problem: "HTTP 404"), now: .zero)
                == [.dropped(count: 1, total: 1, reason: "the destination refused the message: HTTP 404")])
        guard case .send(.alert(let next, _)) = queue.next(now: .zero) else {
            Issue.record("the next message does not go")
            return
        }
        #expect(next.text.hasPrefix("FILLED buy 2 "))
    }

    @Test func flushesANoteNotYetDue() {
        var queue = DeliveryQueue(capacity: 1, perMinute: 20)
        _ = queue.enqueue(fillAlert(1), now: .zero)
        #expect(queue.enqueue(fillAlert(2), now: .zero).count == 1)
        #expect(queue.enqueue(fillAlert(3), now: .seconds(1)).isEmpty)
        #expect(queue.flushNote(now: .seconds(2)).count == 1)
        #expect(queue.flushNote(now: .seconds(2)).isEmpty)
    }
}
