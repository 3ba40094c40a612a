import Foundation
import Glibc
import Histogram

/// Percentiles and rate of one measurement.
struct Summary {
    var count: Int
    var p50: UInt64
    var p99: UInt64
    var p999: UInt64
    var perSecond: Double

    init(count: Int, p50: UInt64, p99: UInt64, p999: UInt64, perSecond: Double) {
        self.count = count
        self.p50 = p50
        self.p99 = p99
        self.p999 = p999
        self.perSecond = perSecond
    }

    init(_ samples: [UInt64], elapsed: UInt64) {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for sample in samples { _ = histogram.record(max(1, sample)) }
        self.init(
            count: samples.count, p50: samples.isEmpty ? 0 : histogram.valueAtPercentile(50),
            p99: samples.isEmpty ? 0 : histogram.valueAtPercentile(99),
            p999: samples.isEmpty ? 0 : histogram.valueAtPercentile(99.9),
            perSecond: Double(samples.count) / (Double(max(1, elapsed)) / 1e9))
    }

    var p50Micros: Double { Self.micros(p50) }
    var p99Micros: Double { Self.micros(p99) }
    var p999Micros: Double { Self.micros(p999) }

    /// Microseconds to one decimal place, as JSON numbers.
    static func micros(_ nanos: UInt64) -> Double { (Double(nanos) / 100).rounded() / 10 }

    func line(_ name: String) -> String {
        func us(_ nanos: UInt64) -> String { String(format: "%9.1f µs", Double(nanos) / 1_000) }
        return name.padding(toLength: 30, withPad: " ", startingAt: 0)
            + " p50 \(us(p50))  p99 \(us(p99))  p99.9 \(us(p999))  \(String(format: "%9.0f", perSecond))/s  (n=\(count))"
    }

    static func median(_ all: [Summary]) -> Summary {
        func mid<T: Comparable>(_ values: [T]) -> T { values.sorted()[values.count / 2] }
        return Summary(
            count: mid(all.map(\.count)), p50: mid(all.map(\.p50)), p99: mid(all.map(\.p99)),
            p999: mid(all.map(\.p999)), perSecond: mid(all.map(\.perSecond)))
    }
}

/// Samples gathered from several threads.
final class LatencyBox: @unchecked Sendable {
    // Guarded by `lock`; a plain class so that client threads can append without an actor hop.
    private let lock = NSLock()
    private var storage: [UInt64] = []
    func add(_ samples: [UInt64]) {
        lock.lock()
        storage += samples
        lock.unlock()
    }
    var values: [UInt64] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}

func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Linux lets a sleeping thread's timer fire up to 50 µs late by default (its timer slack) to group
/// wake-ups; a load generator's writer wants to send its orders when they are due. Sets the calling
/// thread's slack (`prctl(PR_SET_TIMERSLACK)`, which Swift cannot call: it is variadic, so through its
/// `/proc` file, `/proc/<thread id>/timerslack_ns`). Does nothing where it cannot be written.
func setTimerSlack(nanoseconds: Int) {
    // `/proc/thread-self` links to `<pid>/task/<thread id>`.
    guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"),
        let thread = link.split(separator: "/").last,
        let file = FileHandle(forWritingAtPath: "/proc/\(thread)/timerslack_ns")
    else { return }
    try? file.write(contentsOf: Data("\(nanoseconds)".utf8))
    try? file.close()
}

/// Sleeps until the monotonic clock reads `nanos` (returns at once if it already has).
func sleep(untilMonotonic nanos: UInt64) {
    var target = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
}

/// The peak resident memory of process `pid` (VmHWM), in MiB.
func peakRSSMiB(pid: Int32) -> Double { statusMiB(pid: pid, "VmHWM:") }

/// The resident set of process `pid` now, in MiB to one decimal.
func currentRSSMiB(pid: Int32) -> Double { statusMiB(pid: pid, "VmRSS:") }

/// A size that `/proc/<pid>/status` gives in kB under `field`, in MiB to one decimal.
private func statusMiB(pid: Int32, _ field: String) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
        let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { return 0 }
    return (kib / 1024 * 10).rounded() / 10
}

/// The CPU time a process has used, in all and on each of its threads: what a measurement costs the
/// daemon, which is steadier on a shared machine than the latency it gives.
struct ProcessCPU {
    /// Every thread's user and system time together, in nanoseconds (the process's CPU clock).
    var total: UInt64
    /// Each thread's user and system time, in nanoseconds (clock ticks from `/proc`, so 10 ms steps).
    var threads: [Int32: UInt64]

    init(pid: Int32) {
        var clock = clockid_t()
        var spec = timespec()
        if clock_getcpuclockid(pid, &clock) == 0, clock_gettime(clock, &spec) == 0 {
            total = UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
        } else {
            total = 0
        }
        threads = [:]
        let tick = UInt64(1_000_000_000 / max(1, sysconf(Int32(_SC_CLK_TCK))))
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for task in tasks {
            guard let tid = Int32(task),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After the command's name in parentheses: state is field 3, utime 14 and stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { continue }
            threads[tid] = (user + system) * tick
        }
    }

    /// The CPU used between `earlier` and this reading: in all, and by the thread that used the most.
    func since(_ earlier: ProcessCPU) -> (total: UInt64, busiest: UInt64) {
        let busiest = threads.map { tid, used in used - min(used, earlier.threads[tid] ?? 0) }.max() ?? 0
        return (total - min(total, earlier.total), busiest)
    }
}
