import Foundation
import GRDB
import Glibc

/// The machine's physical floors for the order path, measured in the same run as the gateway's figures:
/// a Unix-socket ping-pong of 100 bytes (what any answer over the socket costs), one durable SQLite commit
/// of a 200-byte row in WAL mode with `synchronous=FULL` (what a durable acknowledgement cannot beat) and
/// the same with `synchronous=NORMAL`.
struct Floors {
    var socketRTT: Summary
    var commitFull: Summary
    var commitNormal: Summary

    static func measure(folder: String) throws -> Floors {
        Floors(
            socketRTT: socketRoundTrip(count: 20_000),
            commitFull: try commit(folder: folder, synchronous: "FULL", count: 1_000),
            commitNormal: try commit(folder: folder, synchronous: "NORMAL", count: 1_000))
    }

    static func median(_ all: [Floors]) -> Floors {
        Floors(
            socketRTT: .median(all.map(\.socketRTT)), commitFull: .median(all.map(\.commitFull)),
            commitNormal: .median(all.map(\.commitNormal)))
    }

    var json: [String: Any] {
        [
            "socket_rtt_us": socketRTT.p50Micros, "socket_rtt_p99_us": socketRTT.p99Micros,
            "commit_full_us": commitFull.p50Micros, "commit_full_p99_us": commitFull.p99Micros,
            "commit_normal_us": commitNormal.p50Micros, "commit_normal_p99_us": commitNormal.p99Micros,
        ]
    }

    func lines() -> [String] {
        [
            socketRTT.line("floor: socket ping-pong 100 B"), commitFull.line("floor: commit FULL 200 B"),
            commitNormal.line("floor: commit NORMAL 200 B"),
        ]
    }

    /// `count` round trips of 100 bytes over a connected pair of Unix stream sockets, echoed by a thread.
    /// Both ends block in `read`, unlike the benchmark's clients, which wait in `poll` (`RawConnection`):
    /// measured with both ends waiting in `poll`, the round trip was slower here (a p50 of 42–45 µs
    /// against 25–47 µs blocking, docs/performance.md) — a wait that leaves the vCPU to halt costs a
    /// full wake-up each way — so the lower floor, which the gateway's ratios are the harder against, is
    /// the one kept.
    static func socketRoundTrip(count: Int) -> Summary {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { return Summary([], elapsed: 1) }
        let (near, far) = (pair[0], pair[1])
        let echo = Thread {
            var message = [UInt8](repeating: 0, count: 100)
            while exactly(100, from: far, into: &message) {
                _ = message.withUnsafeBytes { write(far, $0.baseAddress, $0.count) }
            }
            close(far)
        }
        echo.start()
        var message = [UInt8](repeating: 0x2a, count: 100)
        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        let began = monotonicNanos()
        for _ in 0..<count {
            let t0 = monotonicNanos()
            _ = message.withUnsafeBytes { write(near, $0.baseAddress, $0.count) }
            guard exactly(100, from: near, into: &message) else { break }
            samples.append(monotonicNanos() - t0)
        }
        let elapsed = monotonicNanos() - began
        close(near)
        return Summary(samples, elapsed: elapsed)
    }

    private static func exactly(_ count: Int, from fd: Int32, into message: inout [UInt8]) -> Bool {
        var have = 0
        while have < count {
            let got = message.withUnsafeMutableBytes { read(fd, $0.baseAddress! + have, count - have) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { return false }
            have += got
        }
        return true
    }

    /// `count` transactions, each inserting one 200-byte row, in a WAL database in the journal's folder.
    static func commit(folder: String, synchronous: String, count: Int) throws -> Summary {
        let path = folder + "/floor-\(synchronous.lowercased()).sqlite"
        defer {
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        }
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try db.execute(sql: "CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        }
        let body = Data(repeating: 0x2a, count: 200)
        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        let began = monotonicNanos()
        for _ in 0..<count {
            let t0 = monotonicNanos()
            try queue.write { db in try db.execute(sql: "INSERT INTO rows (body) VALUES (?)", arguments: [body]) }
            samples.append(monotonicNanos() - t0)
        }
        let elapsed = monotonicNanos() - began
        try queue.close()
        return Summary(samples, elapsed: elapsed)
    }
}
