import Alerts
import ArgumentParser
import Foundation
import GatewayCore
import Glibc
import Histogram
import Logging

/// What alerting costs per event, in process: the engine's share (one `yield` into the alert
/// subscription, as the event hub does for every subscriber) and the dispatcher's (classify the event,
/// queue it for every destination that wants it) with three destinations that never take anything, so
/// every queue is full and each offer also drops the oldest. Beside them, the clock's own cost.
@main
struct AlertBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert-bench", abstract: "Measure what an alert costs the order path.")

    @Option(help: "Events per run.") var events = 200_000
    @Option(help: "Runs; medians across runs are printed last.") var runs = 5

    func run() throws {
        print("alert-bench: \(events) fill events a run, \(runs) runs; three destinations that never answer")
        var results: [String: [Summary]] = [:]
        let names = [
            "clock_gettime alone", "yield to the alert feed", "classify an order event", "classify a fill",
            "offer a fill (queue ×3)",
        ]
        for run in 1...runs {
            let measured = [
                (names[0], Self.time(events) { _ in }),
                (names[1], Self.yieldCost(events)),
                (names[2], Self.time(events) { n in _ = AlertClassifier.alert(for: Self.orderEvent(n)) }),
                (names[3], Self.time(events) { n in _ = AlertClassifier.alert(for: Self.event(n)) }),
                (names[4], Self.offerCost(events)),
            ]
            for (name, summary) in measured {
                results[name, default: []].append(summary)
                print("run \(run)  \(summary.line(name))")
            }
        }
        print("\nmedians of \(runs) runs:")
        for name in names { print("  " + Summary.median(results[name]!).line(name)) }
    }

    static let lines = (0..<64).map { n in
        """
        {"event":"fill","seq":\(n + 1),"ts":"2026-11-25T14:32:05.123456789Z","fill":{"account":"paper",\
        "client_order_id":"bench-\(n)","commission":"0","fill_id":"F-\(n)","order_id":"O-\(n)","price":"190.12",\
        "qty":"100","side":"buy","symbol":"AAPL","ts":"2026-11-25T14:32:05.123456789Z"}}
        """
    }

    static let orderLines = (0..<64).map { n in
        """
        {"event":"order","seq":\(n + 1),"ts":"2026-11-25T14:32:05Z","change":"acknowledged","order":{"account":"paper",\
        "broker_order_id":"B-\(n)","client_order_id":"c-\(n)","created_at":"2026-11-25T14:32:00Z","filled_qty":"0",\
        "order_id":"O-\(n)","qty":"100","side":"buy","status":"acknowledged","symbol":"AAPL","tif":"day",\
        "type":"market","updated_at":"2026-11-25T14:32:05Z"}}
        """
    }

    /// An order event that makes no alert (most of them: accepted, submitted, acknowledged, filled).
    static func orderEvent(_ n: Int) -> AlertFeedEvent {
        AlertFeedEvent(seq: Int64(n + 1), kind: "order", strategy: "bench", line: orderLines[n & 63])
    }

    static func event(_ n: Int) -> AlertFeedEvent {
        AlertFeedEvent(seq: Int64(n + 1), kind: "fill", strategy: "bench", line: lines[n & 63])
    }

    /// Times `body` once per event with the monotonic clock.
    static func time(_ count: Int, _ body: (Int) -> Void) -> Summary {
        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        let began = monotonicNanos()
        for n in 0..<count {
            let t0 = monotonicNanos()
            body(n)
            samples.append(monotonicNanos() - t0)
        }
        return Summary(samples, elapsed: monotonicNanos() - began)
    }

    /// One yield per event into a stream that another thread drains, as the hub does.
    static func yieldCost(_ count: Int) -> Summary {
        let (stream, continuation) = AsyncStream.makeStream(
            of: AlertFeedEvent.self, bufferingPolicy: .bufferingOldest(65_536))
        let drained = DispatchSemaphore(value: 0)
        Task.detached {
            for await _ in stream {}
            drained.signal()
        }
        let summary = time(count) { n in continuation.yield(event(n)) }
        continuation.finish()
        drained.wait()
        return summary
    }

    static func offerCost(_ count: Int) -> Summary {
        let destinations = ["ops", "desk", "phone"].map { name in
            AlertDestination(
                name: name,
                service: .webhook(
                    url: URL(string: "http://127.0.0.1:9/hook")!, signingKey: nil,
                    signatureHeader: "X-Gateway-Signature"),
                categories: Set(AlertCategory.allCases), queueCapacity: 1_000)
        }
        // Not run: no delivery task ever takes from the queues, as with destinations that hang.
        let dispatcher = AlertDispatcher(
            destinations: destinations, transport: NeverAnswers(), clock: ContinuousClock(), wallClock: WallNow(),
            logger: Logger(label: "alert-bench") { _ in SwiftLogNoOpLogHandler() }, notes: { _ in true },
            feed: { _ in AsyncStream { $0.finish() } })
        return time(count) { n in dispatcher.offer(event(n)) }
    }
}

struct NeverAnswers: AlertTransport {
    func post(_ request: AlertHTTPRequest, timeout: Duration) async -> AlertHTTPResponse {
        .failed(problem: "never called")
    }
}

struct WallNow: WallClock {
    func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(nanosecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }
}

/// Percentiles of one measurement, in nanoseconds.
struct Summary {
    var p50: UInt64
    var p99: UInt64
    var perSecond: Double

    init(p50: UInt64, p99: UInt64, perSecond: Double) {
        self.p50 = p50
        self.p99 = p99
        self.perSecond = perSecond
    }

    init(_ samples: [UInt64], elapsed: UInt64) {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for sample in samples { _ = histogram.record(max(1, sample)) }
        self.init(
            p50: histogram.valueAtPercentile(50), p99: histogram.valueAtPercentile(99),
            perSecond: Double(samples.count) / (Double(elapsed) / 1e9))
    }

    func line(_ name: String) -> String {
        name.padding(toLength: 30, withPad: " ", startingAt: 0)
            + String(format: " p50 %8d ns  p99 %8d ns  %12.0f/s", p50, p99, perSecond)
    }

    static func median(_ all: [Summary]) -> Summary {
        func mid<T: Comparable>(_ values: [T]) -> T { values.sorted()[values.count / 2] }
        return Summary(p50: mid(all.map(\.p50)), p99: mid(all.map(\.p99)), perSecond: mid(all.map(\.perSecond)))
    }
}

func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
