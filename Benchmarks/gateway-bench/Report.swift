import Foundation

/// One figure's identity: the mode, the daemon (its durability, or what it was compared for), the rate.
struct Key: Hashable, Comparable {
    var mode: String
    var durability: String
    var rate: Int?

    static func < (a: Key, b: Key) -> Bool {
        (a.mode, a.durability, a.rate ?? 0) < (b.mode, b.durability, b.rate ?? 0)
    }
}

/// Every run's measurements, to be reported as medians.
struct Results {
    var floors: [Floors] = []
    /// The same clients' `hello`s, each run (`GatewayBench.helloName`).
    var hello: [Measurement] = []
    var measured: [Key: [(Measurement, Double)]] = [:]
    var idleRSS = 0.0
    var openOrders = 0
    /// Resting: the quote through every resting order (`Driver.sweep`).
    var sweep: Sweep?
    /// Resting: the daemon's peak RSS over its whole run, the quote's pass included.
    var sweepPeakRSS: Double?
    /// Resting: the daemon's RSS with the orders open, two seconds after the journal's tables caught up.
    var settledRSS: Double?
    /// Resting: one `cancel_all` over as many resting orders (`measureCancelAll`).
    var cancelAll: CancelAllRun?

    mutating func add(_ key: Key, _ measurement: Measurement, rss: Double) {
        measured[key, default: []].append((measurement, rss))
    }

    /// The median of the runs' daemon CPU per order (in all, on the busiest thread), when measured.
    func medianCPU(_ key: Key) -> (total: Double, busiest: Double)? {
        Self.medianCPU(of: (measured[key] ?? []).map(\.0))
    }

    /// The median of the `hello` runs, when measured.
    var medianHello: Summary? { hello.isEmpty ? nil : Summary.median(hello.map(\.ack)) }

    /// The median of the `hello` runs' daemon CPU per request, when measured.
    var medianHelloCPU: (total: Double, busiest: Double)? { Self.medianCPU(of: hello) }

    private static func medianCPU(of runs: [Measurement]) -> (total: Double, busiest: Double)? {
        let all = runs.compactMap(\.cpuPerOrder)
        guard !all.isEmpty else { return nil }
        return (all.map(\.total).sorted()[all.count / 2], all.map(\.busiest).sorted()[all.count / 2])
    }

    func median(_ key: Key) -> (ack: Summary, fill: Summary?, rss: Double, failures: Int) {
        let all = measured[key] ?? []
        let fills = all.compactMap(\.0.fill)
        return (
            Summary.median(all.map(\.0.ack)), fills.isEmpty ? nil : Summary.median(fills),
            all.map(\.1).sorted()[all.count / 2], all.map(\.0.failures).reduce(0, +)
        )
    }

    /// The median of the runs' setup steps (`cancel`: the resting submits), when measured.
    func medianSetup(_ key: Key) -> Summary? {
        let all = (measured[key] ?? []).compactMap(\.0.setup)
        return all.isEmpty ? nil : Summary.median(all)
    }

    /// The median of the runs' open-loop send lag, when measured.
    func medianSendLag(_ key: Key) -> Summary? {
        let all = (measured[key] ?? []).compactMap(\.0.sendLag)
        return all.isEmpty ? nil : Summary.median(all)
    }
}

extension GatewayBench {
    /// The `hello` measurement's name in the report.
    var helloName: String {
        (window > 1 ? "hello (\(clients) clients, window \(window))" : "gatewayd hello (\(clients) clients)")
    }

    func report(_ results: Results) {
        let floors = results.floors.isEmpty ? nil : Floors.median(results.floors)
        say(
            "\nmedians of \(runs) runs (gatewayd's allocator: \(BenchDaemon.allocatorsSeen.sorted().joined(separator: ", "))):"
        )
        if let floors { for line in floors.lines() { say("  " + line) } }
        let hello = results.medianHello
        let helloCPU = results.medianHelloCPU
        if let hello { say("  " + hello.line(helloName)) }
        if let helloCPU { say("  \(helloName): " + Measurement.cpuLine(helloCPU, per: "hello")) }
        var objects: [[String: Any]] = []
        for key in results.measured.keys.sorted() {
            let (ack, fill, rss, failures) = results.median(key)
            let name =
                "\(key.durability) \(key.mode)" + (key.rate.map { " \($0)/s" } ?? "")
                + (key.mode == "closed" && window > 1 ? " (window \(window))" : "")
            say("  " + ack.line("\(name): ack") + ratios(ack, floors))
            if let fill { say("  " + fill.line("\(name): fill")) }
            let lag = results.medianSendLag(key)
            if let lag { say("  " + lag.line("\(name): send lag")) }
            var object: [String: Any] = [
                "mode": key.mode, "durability": key.durability, "clients": clients, "window": window,
                "orders": ack.count,
                "orders_per_s": Int(ack.perSecond.rounded()), "ack_p50_us": ack.p50Micros,
                "ack_p99_us": ack.p99Micros, "ack_p999_us": ack.p999Micros, "peak_rss_mib": rss,
                "failures": failures, "allocator": BenchDaemon.allocatorsSeen.sorted().joined(separator: ","),
            ]
            if let setup = results.medianSetup(key) {
                say("  " + setup.line("\(name): resting submit") + ratios(setup, floors))
                object["resting_submit_ack_p50_us"] = setup.p50Micros
                object["resting_submit_ack_p99_us"] = setup.p99Micros
            }
            if let fill {
                object["fill_p50_us"] = fill.p50Micros
                object["fill_p99_us"] = fill.p99Micros
            }
            if let cpu = results.medianCPU(key) {
                say("  \(name): " + Measurement.cpuLine(cpu))
                object["cpu_us_per_order"] = cpu.total
                object["busiest_thread_cpu_us_per_order"] = cpu.busiest
            }
            if let rate = key.rate { object["offered_per_s"] = rate }
            if let lag {
                object["send_lag_p50_us"] = lag.p50Micros
                object["send_lag_p99_us"] = lag.p99Micros
            }
            if key.mode == "resting" {
                object["open_orders"] = results.openOrders
                object["idle_rss_mib"] = results.idleRSS
                if let sweep = results.sweep {
                    object["sweep_all_filled_ms"] = sweep.allFilledMillis
                    object["sweep_longest_answer_ms"] = sweep.longestAnswerMillis
                    object["sweep_median_answer_ms"] = sweep.medianAnswerMillis
                    object["sweep_answers"] = sweep.answers
                }
                if let sweepPeakRSS = results.sweepPeakRSS { object["sweep_peak_rss_mib"] = sweepPeakRSS }
                if let settledRSS = results.settledRSS { object["settled_rss_mib"] = settledRSS }
                if let run = results.cancelAll {
                    object["cancel_all_answer_ms"] = run.answeredMillis
                    object["cancel_all_answer_mb"] = run.answerMB
                    object["cancel_all_peak_rss_mib"] = run.peakRSS
                }
            }
            if let hello, key.mode == "closed" {
                object["hello_per_s"] = (hello.perSecond * 10).rounded() / 10
                if let helloCPU { object["hello_cpu_us"] = helloCPU.total }
            }
            if let floors {
                object["floors"] = floors.json
                object["ratios"] = ratioObject(ack, floors)
            }
            objects.append(object)
        }
        if let floors { for line in targets(results, floors) { say(line) } }
        guard json else { return }
        for object in objects {
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    private func ratioObject(_ ack: Summary, _ floors: Floors) -> [String: Double] {
        func ratio(_ value: UInt64, _ floor: UInt64) -> Double {
            (Double(value) / Double(max(1, floor)) * 100).rounded() / 100
        }
        let durableFloor = floors.socketRTT.p50 + floors.commitFull.p50
        return [
            "ack_p50_to_socket_rtt": ratio(ack.p50, floors.socketRTT.p50),
            "ack_p99_to_socket_rtt": ratio(ack.p99, floors.socketRTT.p50),
            "ack_p50_to_rtt_plus_commit_full": ratio(ack.p50, durableFloor),
            "ack_p99_to_rtt_plus_commit_full": ratio(ack.p99, durableFloor),
            "orders_per_s_to_commits_full_per_s": (ack.perSecond / floors.commitFull.perSecond * 100).rounded() / 100,
        ]
    }

    private func ratios(_ ack: Summary, _ floors: Floors?) -> String {
        guard let floors else { return "" }
        let r = ratioObject(ack, floors)
        return String(
            format: "  [p50 %.1f× rtt, %.2f× rtt+FULL; p99 %.1f× rtt]", r["ack_p50_to_socket_rtt"]!,
            r["ack_p50_to_rtt_plus_commit_full"]!, r["ack_p99_to_socket_rtt"]!)
    }

    /// The issue's targets, each against this run's floors: met, or missed by how much.
    private func targets(_ results: Results, _ floors: Floors) -> [String] {
        var lines = ["\ntargets (ratios to this run's floors):"]
        func verdict(_ name: String, _ value: Double, _ limit: Double, _ unit: String, atMost: Bool = true) {
            let met = atMost ? value <= limit : value >= limit
            let by = atMost ? value / limit : limit / max(value, 0.001)
            lines.append(
                "  \(name.padding(toLength: 46, withPad: " ", startingAt: 0)) \(String(format: "%.2f", value))\(unit) "
                    + "(target \(atMost ? "≤" : "≥") \(String(format: "%.2f", limit))\(unit)): "
                    + (met ? "met" : String(format: "missed, %.1f× off", by)))
        }
        let rtt = Double(floors.socketRTT.p50)
        if results.measured[Key(mode: "closed", durability: "fast", rate: nil)] != nil {
            let ack = results.median(Key(mode: "closed", durability: "fast", rate: nil)).ack
            verdict("fast, ack p50 / socket rtt", Double(ack.p50) / rtt, 2.5, "×")
            verdict("fast, ack p99 / socket rtt", Double(ack.p99) / rtt, 5, "×")
            verdict("fast, sustained (closed loop)", ack.perSecond, 100_000, "/s", atMost: false)
        }
        if results.measured[Key(mode: "closed", durability: "durable", rate: nil)] != nil {
            let ack = results.median(Key(mode: "closed", durability: "durable", rate: nil)).ack
            let floor = rtt + Double(floors.commitFull.p50)
            verdict("durable, ack p50 / (rtt + commit FULL)", Double(ack.p50) / floor, 1.25, "×")
            verdict("durable, ack p99 / (rtt + commit FULL)", Double(ack.p99) / floor, 2, "×")
            verdict("durable, sustained (closed loop)", ack.perSecond, 50_000, "/s", atMost: false)
            verdict(
                "durable, sustained / FULL commits per s", ack.perSecond / floors.commitFull.perSecond, 5, "×",
                atMost: false)
        }
        if let resting = results.measured.keys.first(where: { $0.mode == "resting" }) {
            verdict(
                "peak RSS with \(results.openOrders) open orders", results.median(resting).rss, 150, " MiB")
            if let sweepPeakRSS = results.sweepPeakRSS {
                verdict("peak RSS, the quote's pass through them included", sweepPeakRSS, 150, " MiB")
            }
            if let run = results.cancelAll {
                verdict("peak RSS, a cancel_all over them included", run.peakRSS, 150, " MiB")
            }
        }
        if let hello = results.medianHello, results.measured.keys.contains(where: { $0.mode == "closed" }) {
            lines.append(
                "  (the ceiling here: the same clients' hello, which does no order's work, ran at "
                    + String(format: "%.0f/s", hello.perSecond)
                    + (results.medianHelloCPU.map { String(format: ", %.1f µs of daemon CPU each", $0.total) } ?? "")
                    + ")")
        }
        if clients != 1 {
            lines.append("  (the one-client durable target is judged on a run with --clients 1)")
        }
        return lines
    }
}

/// What `measureCancelAll` measured: milliseconds to 0.1, megabytes to 0.1.
struct CancelAllRun {
    var answeredMillis: Double
    var answerMB: Double
    var peakRSSBefore: Double
    var peakRSS: Double
}
