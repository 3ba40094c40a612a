import ArgumentParser
import Foundation
import Glibc
import Synchronization

/// What waking a thread costs on this machine — the order path pays for it three times an order: the
/// client woken by its ack, the subscriber by its fill, and the client once more, for nothing, when its
/// request is read (the kernel wakes a reader blocked in `recv` when its peer frees the request's send
/// space). Over a Unix socket pair between two threads, each pinned to a CPU (`sched_setaffinity`):
///
/// - the round trip of 100 bytes with the two threads on two CPUs, and on one;
/// - what the `write` that wakes the other thread costs the writer;
/// - what a `read` costs the reader when the writer is blocked in its own `read`, 2 to 30 µs after the
///   message arrived, against when the writer waits spinning (`MSG_DONTWAIT`), so that no one is woken.
///
/// Written by hand: a few system calls timed with the monotonic clock, which no library measures.
@main
struct WakeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wake-bench", abstract: "Time a thread's wake-up over a Unix socket pair, on two CPUs and on one.")

    @Option(help: "Round trips timed per run.") var rounds = 20_000
    @Option(help: "Runs; medians are printed.") var runs = 3

    func run() throws {
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        print("per round trip, medians of \(runs) runs of \(rounds):")
        if cpus >= 2 {
            report("round trip, two CPUs", runs, { ping(client: 0, server: 1).roundTrip })
            report("  the write that wakes the other", runs, { ping(client: 0, server: 1).write })
        }
        report("round trip, one CPU", runs, { ping(client: 0, server: 0).roundTrip })
        if cpus >= 2 {
            for pause in [2.0, 5, 10, 30] {
                report("read, writer blocked \(Int(pause)) µs", runs, { readCost(writerBlocked: true, pause: pause) })
            }
            report("read, writer spinning", runs, { readCost(writerBlocked: false, pause: 30) })
        }
    }

    /// Client on `client`, echo on `server`: the medians of the round trip and of the client's `write`,
    /// in microseconds.
    func ping(client: Int, server: Int) -> (roundTrip: Double, write: Double) {
        let pair = Self.socketPair()
        defer {
            close(pair.0)
            close(pair.1)
        }
        let rounds = self.rounds
        let echo = Thread {
            Self.pin(server)
            var buffer = [UInt8](repeating: 0, count: 128)
            for _ in 0..<rounds {
                guard Self.readMessage(pair.1, &buffer) else { return }
                _ = write(pair.1, buffer, 100)
            }
        }
        echo.start()
        Self.pin(client)
        var buffer = [UInt8](repeating: 1, count: 128)
        var trips: [Double] = []
        var writes: [Double] = []
        trips.reserveCapacity(rounds)
        writes.reserveCapacity(rounds)
        for _ in 0..<rounds {
            let start = Self.now()
            _ = write(pair.0, buffer, 100)
            let written = Self.now()
            guard Self.readMessage(pair.0, &buffer) else { break }
            let answered = Self.now()
            writes.append(written - start)
            trips.append(answered - start)
        }
        return (Self.median(trips), Self.median(writes))
    }

    /// The median `read` of a waiting 100-byte message, in microseconds, on the second CPU, `pause` µs
    /// after it arrived, while the writer on the first waits for the answer blocked in `read` (its CPU
    /// idle meanwhile) or spinning.
    func readCost(writerBlocked: Bool, pause: Double) -> Double {
        let pair = Self.socketPair()
        defer {
            close(pair.0)
            close(pair.1)
        }
        let rounds = self.rounds
        let reads = Mutex<[Double]>([])
        let readerDone = DispatchSemaphore(value: 0)
        let reader = Thread {
            Self.pin(1)
            var buffer = [UInt8](repeating: 0, count: 128)
            var times: [Double] = []
            times.reserveCapacity(rounds)
            defer {
                reads.withLock { $0 = times }
                readerDone.signal()
            }
            for _ in 0..<rounds {
                // The message is there: give the writer time to block (or spin), then read it.
                while recv(pair.1, &buffer, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0 {}
                let arrived = Self.now()
                while Self.now() - arrived < pause {}
                let start = Self.now()
                guard Self.readMessage(pair.1, &buffer) else { return }
                times.append(Self.now() - start)
                _ = write(pair.1, buffer, 100)
            }
        }
        reader.start()
        Self.pin(0)
        var buffer = [UInt8](repeating: 1, count: 128)
        for _ in 0..<rounds {
            _ = write(pair.0, buffer, 100)
            if writerBlocked {
                guard Self.readMessage(pair.0, &buffer) else { break }
            } else {
                var got = 0
                while got < 100 {
                    let count = recv(pair.0, &buffer[got], 100 - got, Int32(MSG_DONTWAIT))
                    if count > 0 { got += count }
                }
            }
        }
        readerDone.wait()
        return Self.median(reads.withLock { $0 })
    }

    /// Reads one 100-byte message whole.
    static func readMessage(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        var got = 0
        while got < 100 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, 100 - got) }
            guard count > 0 else { return false }
            got += count
        }
        return true
    }

    static func socketPair() -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0, "socketpair failed")
        return (fds[0], fds[1])
    }

    /// Pins the calling thread to `cpu` (`sched_setaffinity`, which Swift's Glibc module leaves out, is
    /// looked up by name).
    static func pin(_ cpu: Int) {
        var set = cpu_set_t()
        withUnsafeMutableBytes(of: &set) { $0[cpu / 8] |= UInt8(1 << (cpu % 8)) }
        let pinned = withUnsafeMutableBytes(of: &set) { setAffinity(0, $0.count, $0.baseAddress!) }
        precondition(pinned == 0, "cannot pin to CPU \(cpu)")
    }

    static let setAffinity: @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32 = {
        guard let symbol = dlsym(nil, "sched_setaffinity") else { fatalError("no sched_setaffinity") }
        return unsafeBitCast(symbol, to: (@convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32).self)
    }()

    /// The monotonic clock, in microseconds.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) * 1e6 + Double(time.tv_nsec) / 1e3
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        return values.sorted()[values.count / 2]
    }

    func report(_ name: String, _ runs: Int, _ measure: () -> Double) {
        let medians = (0..<runs).map { _ in measure() }
        let text = medians.map { String(format: "%.2f", $0) }.joined(separator: ", ")
        print(
            "  \(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%7.2f", Self.median(medians))) µs  (runs: \(text))"
        )
    }
}
