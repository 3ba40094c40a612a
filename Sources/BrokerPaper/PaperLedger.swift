import BrokerAPI
import Foundation
import Glibc
import GatewayCore
import Synchronization

/// The paper broker's own record, one JSON line per change, appended with `write(2)` before the change is
/// reported: the lines of one call on the broker together, in one `write` (`PaperSimulator`). A line is
/// in the kernel once `write` returns, so it survives the gateway being killed; the paper broker does not
/// fsync, since it stands in for a remote broker and not for the journal.
///
/// The record is compacted (`compact`): rewritten as what the book holds — its positions and cash, its
/// open orders and the finished ones it still keeps, one line each — so that a start reads about as many
/// lines as the book has orders plus those written since, not the whole history. The new file is
/// written beside the old, flushed to disk and renamed over it: a crash leaves one or the other whole.
final class PaperLedger: Sendable {
    enum Entry: Codable, Sendable {
        case received(Order, brokerOrderID: String)
        case filled(BrokerFill)
        case canceled(OrderID)
        case replaced(OrderID, by: Order, brokerOrderID: String)
        case triggered(OrderID)
        /// A trailing stop's best price so far (the highest for a sell, the lowest for a buy).
        case watermark(OrderID, Price)
        /// A bracket's stop or target, held until its parent fills.
        case receivedChild(Order, brokerOrderID: String, parent: OrderID, sibling: OrderID?)
        case activated(OrderID)
        /// A day order past its session's close, or an opening order the open did not fill.
        case expired(OrderID)
        /// An option position ended at its expiry (worthless, or into the underlying at the strike).
        case settled(BrokerSettlement)
        /// A compacted ledger's first line: the positions whole, and how far the cash has moved from the
        /// starting cash (`nil` when the book keeps no cash). The starting cash stays the configuration's.
        case book(positions: [Position], cashChange: Money?)
        /// A compacted ledger's order, as the book held it.
        case kept(Kept)
    }

    /// One order of a compacted ledger, with everything the book holds of it.
    struct Kept: Codable, Sendable, Hashable {
        var order: Order
        var brokerOrderID: String
        var status: OrderStatus
        var fills: [BrokerFill]
        var triggered: Bool
        var watermark: Price?
        var reservePrice: Price?
        var held: Bool
        var parent: OrderID?
        var sibling: OrderID?
    }

    let path: String
    /// The open file, opened on the first append and kept: one `write` per entry, nothing more.
    private let descriptor = Mutex<Int32?>(nil)
    private let encoder = Mutex(JSONEncoder())

    /// Writes left before every later one fails (`PaperFaults.ledgerWritesBeforeFailing`); `nil`: no fault.
    private let writesLeft: Mutex<Int?>
    /// A read started ahead (`readAhead`): what it was asked for, and its result once it has one.
    private let ahead = Mutex<ReadAhead?>(nil)
    private let aheadDone = DispatchSemaphore(value: 0)

    private struct ReadAhead: Sendable {
        let cash: Money?
        let finishedKept: Int
        var result: Result<Loaded, any Error>?
    }

    /// A ledger read back: the book it holds, and how many lines it took (what `compact` would shrink).
    struct Loaded: Sendable {
        var book: PaperBook
        var lines: Int
    }

    init(path: String, writesBeforeFailing: Int? = nil) {
        self.path = path
        writesLeft = Mutex(writesBeforeFailing)
    }

    deinit {
        if let fd = descriptor.withLock({ $0 }) { close(fd) }
    }

    /// The two entries every order writes, `received` and `filled`, and the compacted ledger's orders, in
    /// the shape `Entry`'s synthesized `Codable` reads, written by JSONText (JSONEncoder cost more than the
    /// rest of the paper broker's order path); nil for the others.
    static func line(_ entry: Entry) -> [UInt8]? {
        var json = JSONText()
        switch entry {
        case .received(let order, let brokerOrderID):
            json.object { json in
                json.key("received")
                json.object { json in
                    json.member("_0", order)
                    json.member("brokerOrderID", brokerOrderID)
                }
            }
        case .filled(let fill) where fill.legs == nil:
            json.object { json in
                json.key("filled")
                json.object { json in
                    json.key("_0")
                    write(fill, to: &json)
                }
            }
        case .kept(let kept) where kept.fills.allSatisfy({ $0.legs == nil }):
            json.object { json in
                json.key("kept")
                json.object { json in
                    json.key("_0")
                    json.object { json in
                        json.member("brokerOrderID", kept.brokerOrderID)
                        json.key("fills")
                        json.array(kept.fills) { json, fill in write(fill, to: &json) }
                        json.key("held")
                        json.bool(kept.held)
                        json.member("order", kept.order)
                        json.member("parent", kept.parent?.rawValue)
                        json.member("reservePrice", kept.reservePrice)
                        json.member("sibling", kept.sibling?.rawValue)
                        json.member("status", kept.status.rawValue)
                        json.key("triggered")
                        json.bool(kept.triggered)
                        json.member("watermark", kept.watermark)
                    }
                }
            }
        default:
            return nil
        }
        return json.bytes
    }

    /// A fill without legs, as `BrokerFill`'s `Codable` writes it.
    private static func write(_ fill: BrokerFill, to json: inout JSONText) {
        json.object { json in
            json.member("commission", fill.commission)
            json.member("fillID", fill.fillID.rawValue)
            json.member("orderID", fill.orderID.rawValue)
            json.member("price", fill.price)
            json.member("qty", fill.qty)
            json.member("ts", fill.ts)
        }
    }

    func load(cash: Money? = nil, finishedKept: Int = PaperBroker.finishedOrdersKept) throws -> PaperBook {
        try loadCounting(cash: cash, finishedKept: finishedKept).book
    }

    /// Starts reading the ledger (`loadCounting`) on a thread of its own, for `takeReadAhead` to take:
    /// gatewayd starts it as it makes the broker, so that the read overlaps the journal's replay (both take
    /// a few hundred milliseconds of a start). Nothing writes the ledger before the broker connects.
    func readAhead(cash: Money?, finishedKept: Int) {
        let started = ahead.withLock { ahead -> Bool in
            guard ahead == nil else { return false }
            ahead = ReadAhead(cash: cash, finishedKept: finishedKept, result: nil)
            return true
        }
        guard started else { return }
        Thread.detachNewThread { [self] in
            let result = Result { try loadCounting(cash: cash, finishedKept: finishedKept) }
            ahead.withLock { $0?.result = result }
            aheadDone.signal()
        }
    }

    /// The read started ahead with these arguments, once it has ended (waiting for it); `nil` when none
    /// was, or with others. It is taken once.
    func takeReadAhead(cash: Money?, finishedKept: Int) throws -> Loaded? {
        let waiting = ahead.withLock { ahead -> Bool in
            guard let started = ahead, started.cash == cash, started.finishedKept == finishedKept else { return false }
            return true
        }
        guard waiting else { return nil }
        aheadDone.wait()
        let result = ahead.withLock { ahead -> Result<Loaded, any Error>? in
            defer { ahead = nil }
            return ahead?.result
        }
        return try result?.get()
    }

    /// The ledger read back, its book keeping `finishedKept` finished orders.
    func loadCounting(cash: Money? = nil, finishedKept: Int = PaperBroker.finishedOrdersKept) throws -> Loaded {
        var book = PaperBook()
        book.cash = cash
        book.finishedKept = finishedKept
        guard FileManager.default.fileExists(atPath: path) else { return Loaded(book: book, lines: 0) }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        var lines = 0
        // Split on the newline byte, each line decoded from a slice of the file's bytes (a `String` split
        // by characters, then copied into `Data` line by line, took a quarter of a start).
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            defer { start = end + 1 }
            guard end > start else { continue }
            lines += 1
            // A torn last line (killed mid-write) is the one thing the broker never reported: skip it.
            guard let entry = try? decoder.decode(Entry.self, from: data[start..<end]) else { continue }
            book.apply(entry)
            book.shed(atMost: 2)
        }
        return Loaded(book: book, lines: lines)
    }

    /// Rewrites the ledger as `entries` (a book's `compacted`): written to a file beside it, flushed to
    /// disk, renamed over it and the folder flushed, so that a crash at any point leaves either the old
    /// ledger or the new one whole. Appends after it go to the new file. When it fails the old ledger is
    /// left as it was, and the error is thrown.
    func compact(_ entries: [Entry]) throws {
        // A disk made full by `PaperFaults` takes no rewrite either.
        if writesLeft.withLock({ $0.map { $0 <= 0 } ?? false }) { throw CocoaError(.fileWriteOutOfSpace) }
        var bytes: [UInt8] = []
        for entry in entries { bytes += try line(entry) }
        // Where the ledger really is: a ledger path that is a symbolic link stays one, to the new file.
        let path = URL(fileURLWithPath: self.path).resolvingSymlinksInPath().path
        let temporary = path + ".compacting"
        try descriptor.withLock { descriptor in
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
            var written = 0
            while written < bytes.count {
                let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
                guard count > 0 else { break }
                written += count
            }
            let flushed = written == bytes.count && fsync(fd) == 0
            // Closed once whatever happened: a second close could close a descriptor another thread opened.
            guard close(fd) == 0, flushed else {
                unlink(temporary)
                throw CocoaError(.fileWriteUnknown)
            }
            guard rename(temporary, path) == 0 else {
                unlink(temporary)
                throw CocoaError(.fileWriteUnknown)
            }
            let folder = (path as NSString).deletingLastPathComponent
            let folderFD = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if folderFD >= 0 {
                fsync(folderFD)
                close(folderFD)
            }
            // The old file's descriptor points at the replaced file: the next append opens the new one.
            if let old = descriptor { close(old) }
            descriptor = nil
        }
    }

    /// The entry's line, with its newline.
    func line(_ entry: Entry) throws -> [UInt8] {
        var line = try Self.line(entry) ?? Array(encoder.withLock { try $0.encode(entry) })
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// Appends `lines` in one `write`. When it fails, or writes only part of them, what it wrote is cut
    /// off again, so that the file holds whole lines only and stays as it was.
    func write(_ lines: [UInt8]) throws {
        try writesLeft.withLock { left in
            guard let remaining = left else { return }
            guard remaining > 0 else { throw CocoaError(.fileWriteOutOfSpace) }
            left = remaining - 1
        }
        try descriptor.withLock { descriptor in
            if descriptor == nil {
                let folder = (path as NSString).deletingLastPathComponent
                if !folder.isEmpty {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                }
                let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
                do {
                    try Self.cutTornTail(fd)
                } catch {
                    close(fd)
                    throw error
                }
                descriptor = fd
            }
            let fd = descriptor!
            let written = lines.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written != lines.count else { return }
            var status = stat()
            if written > 0, fstat(fd, &status) == 0 { _ = ftruncate(fd, status.st_size - off_t(written)) }
            throw CocoaError(.fileWriteUnknown)
        }
    }

    /// Cuts off a last line that has no newline, before the first append: the lines of a call the process
    /// was killed in the middle of writing (the kernel ends a write to a file early when its writer gets
    /// SIGKILL). That call was never reported, and `load` skips the torn line; but an append after it
    /// would be glued to it, and skipped with it at the next start — a change the broker did report, lost
    /// (the crash harness found a fill lost so, and the paper position one share off the journal's).
    static func cutTornTail(_ fd: Int32) throws {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw CocoaError(.fileReadUnknown) }
        let size = off_t(status.st_size)
        var end = size
        var keep: off_t = 0
        var chunk = [UInt8](repeating: 0, count: 65_536)
        search: while end > 0 {
            let start = max(0, end - off_t(chunk.count))
            let count = Int(end - start)
            let read = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, start) }
            guard read == count else { throw CocoaError(.fileReadUnknown) }
            if end == size, chunk[count - 1] == UInt8(ascii: "\n") { return }
            for index in stride(from: count - 1, through: 0, by: -1) where chunk[index] == UInt8(ascii: "\n") {
                keep = start + off_t(index) + 1
                break search
            }
            end = start
        }
        guard ftruncate(fd, keep) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}
