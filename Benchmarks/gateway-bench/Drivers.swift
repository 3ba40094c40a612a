import ControlProtocol
import Foundation
import Glibc

/// What one measurement of the order path gave.
struct Measurement {
    var ack: Summary
    var fill: Summary?
    var failures: Int
    /// Open loop: how late the writers sent each order after it was due — the load generator's own
    /// lateness (its threads' wake-ups on the shared cores), which every open-loop latency includes.
    var sendLag: Summary?
    /// `cancel`: each resting submit's own ack, timed as the cancel is (an order that does not fill
    /// at once: nothing of a fill follows its answer on the engine's thread).
    var setup: Summary?
    /// The daemon's CPU time over the measurement, in all and on its busiest thread (nanoseconds).
    var cpu: (total: UInt64, busiest: UInt64)?

    init(ack: Summary, fill: Summary?, failures: Int) {
        self.ack = ack
        self.fill = fill
        self.failures = failures
    }

    /// The daemon's CPU per order, in all and on its busiest thread, in microseconds.
    var cpuPerOrder: (total: Double, busiest: Double)? {
        guard let cpu, ack.count > 0 else { return nil }
        func per(_ nanos: UInt64) -> Double { (Double(nanos) / Double(ack.count) / 100).rounded() / 10 }
        return (per(cpu.total), per(cpu.busiest))
    }

    var cpuLine: String? { cpuPerOrder.map { Self.cpuLine($0) } }

    static func cpuLine(_ cpu: (total: Double, busiest: Double), per request: String = "order") -> String {
        "daemon CPU \(cpu.total) µs per \(request), \(cpu.busiest) µs on its busiest thread"
    }
}

/// When each order of a measurement was sent (or, open-loop, meant to be sent), by client and number, so
/// that the fill watcher can time submit→fill. Written by one writer thread per client before the send,
/// read by the watcher after the fill that the send caused.
final class SendTimes: @unchecked Sendable {
    let perClient: Int
    private let storage: UnsafeMutableBufferPointer<UInt64>

    init(clients: Int, perClient: Int) {
        self.perClient = perClient
        storage = .allocate(capacity: max(1, clients * perClient))
        storage.initialize(repeating: 0)
    }

    deinit { storage.deallocate() }

    subscript(client: Int, n: Int) -> UInt64 {
        get { storage[client * perClient + n] }
        set { storage[client * perClient + n] = newValue }
    }
}

/// The order each client sends: market orders alternating buy and sell (each fills at once against the
/// quote), or, for the memory measurement, limit buys far under the market that rest.
struct OrderLines {
    let tag: String
    let resting: Bool
    var hello = false

    func line(client: Int, n: Int) -> [UInt8] {
        if hello { return Array(#"{"id":\#(n),"op":"hello","client":"bench"}"#.utf8) + [0x0A] }
        let order =
            resting
            ? #""side":"buy","qty":"1","type":"limit","limit_price":"50","tif":"gtc""#
            : #""side":\#(n % 2 == 0 ? "\"buy\"" : "\"sell\""),"qty":"1","type":"market""#
        return Array(
            #"{"id":\#(n),"op":"submit","account":"paper","symbol":"BENCH",\#(order),"client_order_id":"\#(tag)-\#(client)-\#(n)"}"#
                .utf8) + [0x0A]
    }
}

/// The requests of `Driver.verbs`, made before the clock starts.
struct VerbLines {
    enum Verb: String, CaseIterable {
        case cancel, quote, signal

        /// The start of its client order ids, apart from the closed loop's (`c`) and the open loop's (`o`).
        var tag: String {
            switch self {
            case .cancel: "k"
            case .quote: "q"
            case .signal: "s"
            }
        }
    }

    let tag: String
    let verb: Verb

    func steps(client: Int, n: Int) -> [(line: [UInt8], timed: Bool)] {
        let id = "\(tag)-\(client)-\(n)"
        switch verb {
        case .cancel:
            let submit =
                #"{"id":\#(2 * n),"op":"submit","account":"paper","symbol":"BENCH","side":"buy","qty":"1","type":"limit","limit_price":"50","tif":"gtc","client_order_id":"\#(id)"}"#
            let cancel = #"{"id":\#(2 * n + 1),"op":"cancel","account":"paper","client_order_id":"\#(id)"}"#
            return [(Array(submit.utf8) + [0x0A], false), (Array(cancel.utf8) + [0x0A], true)]
        case .quote:
            let quote = #"{"id":\#(n),"op":"quote","symbol":"BENCH","bid":"100","ask":"100.01"}"#
            return [(Array(quote.utf8) + [0x0A], true)]
        case .signal:
            let side = n % 2 == 0 ? "buy" : "sell"
            let signal =
                #"{"id":\#(n),"op":"signal","account":"paper","signal_id":"\#(id)","strategy":"bench","symbol":"BENCH","side":"\#(side)","entry":{"type":"market"},"qty":"1"}"#
            return [(Array(signal.utf8) + [0x0A], true)]
        }
    }
}

/// Subscribes to fill events and times each of this measurement's orders from its send to its fill.
final class FillWatcher: @unchecked Sendable {
    private let connection: RawConnection
    private let prefix: [UInt8]
    private let times: SendTimes
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var samples: [UInt64] = []
    private var finished = false

    init(socket: String, tag: String, times: SendTimes) throws {
        connection = try RawConnection(socketPath: socket, timeoutSeconds: 1)
        prefix = Array((tag + "-").utf8)
        self.times = times
        guard connection.send(Array(#"{"id":1,"op":"subscribe","kinds":["fill"]}"#.utf8) + [0x0A]),
            connection.readLine({ Line.contains($0, Line.ok) }) == true
        else { throw BenchError("subscribe refused") }
        Thread { [self] in watch() }.start()
    }

    private func watch() {
        while true {
            condition.lock()
            let done = finished
            condition.unlock()
            if done { return }
            let sample = connection.readLine { line -> UInt64? in
                let now = monotonicNanos()
                guard let id = Line.value(after: Line.clientOrderID, in: line), id.starts(with: prefix) else {
                    return nil
                }
                let parts = id.dropFirst(prefix.count).split(separator: 0x2D)
                guard parts.count == 2, let client = Int(String(decoding: parts[0], as: UTF8.self)),
                    let n = Int(String(decoding: parts[1], as: UTF8.self))
                else { return nil }
                let sent = times[client, n]
                return sent > 0 && now > sent ? now - sent : nil
            }
            guard let sample, let sample else { continue }
            condition.lock()
            samples.append(sample)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Waits until `count` fills were seen (or 30 s passed without one), stops, and summarizes them.
    func finish(expecting count: Int, elapsed: UInt64) -> Summary {
        condition.lock()
        var last = samples.count
        while samples.count < count {
            if !condition.wait(until: Date().addingTimeInterval(30)), samples.count == last { break }
            last = samples.count
        }
        finished = true
        let all = samples
        condition.unlock()
        return Summary(all, elapsed: elapsed)
    }
}

enum Driver {
    /// `clients` threads, each sending `orders` submits on its own connection, keeping `window` of them in
    /// flight: with a window of 1 each waits for its answer before the next (a client that does not
    /// pipeline), with more the connection pipelines and the daemon can commit them together. Latency is
    /// from each submit's send to its answer.
    static func closed(
        socket: String, tag: String, clients: Int, orders: Int, window: Int = 1, resting: Bool = false,
        hello: Bool = false, watchFills: Bool
    ) throws -> Measurement {
        let lines = OrderLines(tag: tag, resting: resting, hello: hello)
        let times = SendTimes(clients: clients, perClient: orders)
        let watcher = watchFills ? try FillWatcher(socket: socket, tag: tag, times: times) : nil
        let (acks, failures, elapsed) = try onClients(
            socket: socket, clients: clients,
            prepare: { client in (0..<orders).map { lines.line(client: client, n: $0) } }
        ) { client, connection, prepared in
            var mine: [UInt64] = []
            mine.reserveCapacity(orders)
            var failed = 0
            var sent = 0
            for n in 0..<orders {
                // Keep `window` submits in flight, then read the oldest one's answer.
                while sent < orders, sent < n + window {
                    times[client, sent] = monotonicNanos()
                    guard connection.send(prepared[sent]) else { break }
                    sent += 1
                }
                guard n < sent, let ok = connection.readLine({ Line.contains($0, Line.ok) }) else {
                    failed += orders - n
                    break
                }
                if ok { mine.append(monotonicNanos() - times[client, n]) } else { failed += 1 }
            }
            return (mine, failed)
        }
        let fills = watcher?.finish(expecting: acks.count, elapsed: elapsed)
        return Measurement(ack: Summary(acks, elapsed: elapsed), fill: fills, failures: failures)
    }

    /// The order path's other verbs, closed loop: each client sends its `steps` for each `n` one after
    /// another, each after the last one's answer, and times each from send to answer: those marked `timed`
    /// are the measurement, the others its `setup`. `cancel`: a resting limit buy (setup), then its cancel;
    /// `quote`: a quote for the benchmark's symbol, which moves nothing (no order rests at it); `signal`: a
    /// signal entering at the market with its quantity given, buys and sells in turn, each filled at once
    /// as a market submit is.
    static func verbs(socket: String, tag: String, clients: Int, orders: Int, verb: VerbLines.Verb) throws
        -> Measurement
    {
        let lines = VerbLines(tag: tag, verb: verb)
        let setup = LatencyBox()
        let (latencies, failures, elapsed) = try onClients(
            socket: socket, clients: clients,
            prepare: { client in (0..<orders).map { lines.steps(client: client, n: $0) } }
        ) { _, connection, prepared in
            var mine: [UInt64] = []
            mine.reserveCapacity(orders)
            var before: [UInt64] = []
            var failed = 0
            defer { setup.add(before) }
            loop: for steps in prepared {
                for step in steps {
                    let sent = monotonicNanos()
                    guard connection.send(step.line), let ok = connection.readLine({ Line.contains($0, Line.ok) })
                    else {
                        failed += 1
                        break loop
                    }
                    guard ok else {
                        failed += 1
                        break
                    }
                    if step.timed {
                        mine.append(monotonicNanos() - sent)
                    } else {
                        before.append(monotonicNanos() - sent)
                    }
                }
            }
            return (mine, failed)
        }
        var measurement = Measurement(ack: Summary(latencies, elapsed: elapsed), fill: nil, failures: failures)
        let before = setup.values
        if !before.isEmpty { measurement.setup = Summary(before, elapsed: elapsed) }
        return measurement
    }

    /// One thread per client, each on a connection of its own: each makes its requests first (`prepare`,
    /// so that neither the timing nor the shared cores include them), then all start together and `run`
    /// says what each measured and how many of its requests failed. Returns every latency, the failures
    /// and the time from the start until the last client was done.
    static func onClients<Prepared>(
        socket: String, clients: Int, prepare: @escaping @Sendable (Int) -> Prepared,
        run: @escaping @Sendable (Int, RawConnection, Prepared) -> (latencies: [UInt64], failed: Int)
    ) throws -> (latencies: [UInt64], failures: Int, elapsed: UInt64) {
        let latencies = LatencyBox()
        let failures = LatencyBox()
        let connections = try (0..<clients).map { _ in try RawConnection(socketPath: socket) }
        let start = DispatchSemaphore(value: 0)
        let ready = DispatchGroup()
        let done = DispatchGroup()
        for client in 0..<clients {
            done.enter()
            ready.enter()
            Thread {
                defer { done.leave() }
                let prepared = prepare(client)
                ready.leave()
                start.wait()
                let (mine, failed) = run(client, connections[client], prepared)
                latencies.add(mine)
                if failed > 0 { failures.add([UInt64(failed)]) }
            }.start()
        }
        ready.wait()
        let began = monotonicNanos()
        for _ in 0..<clients { start.signal() }
        done.wait()
        return (latencies.values, Int(failures.values.reduce(0, +)), monotonicNanos() - began)
    }

    /// Orders offered at `rate` a second in all for `seconds`, spread evenly over `clients` connections;
    /// each connection has a writer that sends on schedule whatever the answers do, and a reader. Latency
    /// is counted from when an order was due to be sent, so a stall shows in every order it delays
    /// (no coordinated omission).
    static func open(socket: String, tag: String, clients: Int, rate: Int, seconds: Double) throws -> Measurement {
        let perClient = max(1, Int(Double(rate) * seconds) / clients)
        let interval = UInt64(Double(clients) * 1e9 / Double(rate))
        let lines = OrderLines(tag: tag, resting: false)
        let times = SendTimes(clients: clients, perClient: perClient)
        let watcher = try FillWatcher(socket: socket, tag: tag, times: times)
        let latencies = LatencyBox()
        let failures = LatencyBox()
        let lastAnswer = LatencyBox()
        let lags = LatencyBox()
        let connections = try (0..<clients).map { _ in try RawConnection(socketPath: socket) }
        let prepared = (0..<clients).map { client in (0..<perClient).map { lines.line(client: client, n: $0) } }
        let done = DispatchGroup()
        let began = monotonicNanos() + 50_000_000
        for client in 0..<clients {
            let first = began + UInt64(client) * interval / UInt64(clients)
            let connection = connections[client]
            done.enter()
            Thread {
                var lag: [UInt64] = []
                lag.reserveCapacity(perClient)
                defer {
                    lags.add(lag)
                    done.leave()
                }
                setTimerSlack(nanoseconds: 1)
                for n in 0..<perClient {
                    let due = first + UInt64(n) * interval
                    sleep(untilMonotonic: due)
                    times[client, n] = due
                    lag.append(monotonicNanos() &- due)
                    guard connection.send(prepared[client][n]) else { return }
                }
            }.start()
            done.enter()
            Thread {
                defer { done.leave() }
                var mine: [UInt64] = []
                mine.reserveCapacity(perClient)
                var failed = 0
                for n in 0..<perClient {
                    guard let ok = connection.readLine({ Line.contains($0, Line.ok) }) else {
                        failed += perClient - n
                        break
                    }
                    if ok { mine.append(monotonicNanos() - times[client, n]) } else { failed += 1 }
                }
                latencies.add(mine)
                lastAnswer.add([monotonicNanos()])
                if failed > 0 { failures.add([UInt64(failed)]) }
            }.start()
        }
        done.wait()
        let elapsed = (lastAnswer.values.max() ?? began) - began
        let acks = latencies.values
        let fills = watcher.finish(expecting: acks.count, elapsed: elapsed)
        var measurement = Measurement(
            ack: Summary(acks, elapsed: elapsed), fill: fills, failures: Int(failures.values.reduce(0, +)))
        measurement.sendLag = Summary(lags.values, elapsed: elapsed)
        return measurement
    }

    /// Sends one quote that crosses every resting buy and times, in milliseconds to 0.1, from its send
    /// until `status` counts no open order (asked every millisecond), and how long those `status`
    /// requests waited for their answers meanwhile — the longest and the median: how long the daemon left
    /// a client unanswered. (A live subscriber is no clock for this: 100 000 fills at once outrun its
    /// backlog limit, and it is dropped.) Fails if orders stay open for two minutes.
    static func sweep(socket: String) throws -> Sweep {
        let client = try ControlClient(socketPath: socket)
        let began = monotonicNanos()
        _ = try client.request("quote", ["symbol": "BENCH", "bid": "40", "ask": "40.01"])
        var waits = try untilNoneOpen(client, since: began, after: "the quote")
        let allFilled = monotonicNanos() - began
        waits.sort()
        return Sweep(
            allFilledMillis: millis(allFilled), longestAnswerMillis: millis(waits.last ?? 0),
            medianAnswerMillis: millis(waits[waits.count / 2]), answers: waits.count)
    }
}

extension Driver {
    /// Asks `status` every millisecond until it counts no open order; returns how long each request waited
    /// for its answer. Fails if orders stay open two minutes after `began`, the time of `what`.
    static func untilNoneOpen(_ client: ControlClient, since began: UInt64, after what: String) throws -> [UInt64] {
        var waits: [UInt64] = []
        while true {
            let asked = monotonicNanos()
            let open = try openOrders(client)
            waits.append(monotonicNanos() - asked)
            if open == 0 { return waits }
            guard monotonicNanos() - began < 120_000_000_000 else {
                throw BenchError("\(open.map(String.init) ?? "?") orders still open two minutes after \(what)")
            }
            usleep(1_000)
        }
    }

    /// The open orders `status` counts (of the benchmark's one account).
    static func openOrders(_ client: ControlClient) throws -> Int? {
        let status = try client.request("status")
        return (status["accounts"] as? [[String: Any]])?.first?["open_orders"] as? Int
    }
}

/// Nanoseconds in milliseconds, to 0.1.
func millis(_ nanos: UInt64) -> Double { (Double(nanos) / 100_000).rounded() / 10 }

/// What `Driver.sweep` measured.
struct Sweep {
    var allFilledMillis: Double
    var longestAnswerMillis: Double
    var medianAnswerMillis: Double
    /// How many `status` requests were answered meanwhile.
    var answers: Int
}
