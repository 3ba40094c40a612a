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
/// The record is compacted (`compactInBackground`): rewritten as what the book holds — its positions and
/// cash, its open orders and the finished ones it still keeps, one line each — so that a start reads about
/// as many lines as the book has orders plus those written since, not the whole history. The new file is
/// written beside the old, flushed to disk and renamed over it: a crash leaves one or the other whole.
/// The rewrite runs on a thread of its own from a copy of the book: with many orders kept it takes
/// hundreds of milliseconds (a quote through 100 000 resting orders brought one), which on the caller's
/// thread — the engine's — held every client that long. Appends go on to the old file meanwhile and are
/// kept aside; the rewrite adds them to the new file before it renames it over the old.
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
    /// The open file, opened on the first append and kept (one `write` per entry, nothing more), and the
    /// lines appended since a rewrite under way took its copy of the book (`nil`: none under way).
    private let file = Mutex(File())
    /// Entered while a rewrite is under way on its own thread (`waitForRewrite`).
    private let rewriting = DispatchGroup()
    /// Run by a rewrite once the new file is written, before it takes the file to add what was appended
    /// meanwhile and rename (tests hold it there).
    let beforeRename = Mutex<(@Sendable () -> Void)?>(nil)

    private struct File {
        var descriptor: Int32?
        var sinceCopy: [UInt8]?
    }
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

    /// A ledger read back: the book it holds, and how many lines it took (what a rewrite would shrink).
    struct Loaded: Sendable {
        var book: PaperBook
        var lines: Int
    }

    init(path: String, writesBeforeFailing: Int? = nil) {
        self.path = path
        writesLeft = Mutex(writesBeforeFailing)
    }

    deinit {
        if let fd = file.withLock({ $0.descriptor }) { close(fd) }
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

    /// Starts rewriting the ledger as `book` (a copy of the broker's) holds it, on a thread of its own;
    /// `false` when it cannot start (a rewrite is under way, or the disk is full by `PaperFaults`). Lines
    /// appended meanwhile go to the old file and are added to the new one before the rename. A rewrite
    /// that fails leaves the old ledger as it was.
    func compactInBackground(_ book: PaperBook, startingCash: Money?) -> Bool {
        // A disk made full by `PaperFaults` takes no rewrite either.
        guard !writesLeft.withLock({ $0.map { $0 <= 0 } ?? false }) else { return false }
        let started = file.withLock { file -> Bool in
            guard file.sinceCopy == nil else { return false }
            file.sinceCopy = []
            return true
        }
        guard started else { return false }
        rewriting.enter()
        let thread = Thread { [self] in
            defer { rewriting.leave() }
            try? rewrite(as: book, startingCash: startingCash)
        }
        thread.name = "paper-ledger"
        thread.start()
        return true
    }

    /// Waits for a rewrite under way on its own thread to end.
    func waitForRewrite() {
        rewriting.wait()
    }

    /// Most bytes of the new file a rewrite holds before writing them: 100 000 orders make about 18 MiB
    /// of lines, which a rewrite that wrote them at once held whole (and more while the buffer grew), at
    /// the top of the daemon's peak memory as a quote filled them (docs/performance.md).
    static let rewritePiece = 1 << 18

    /// Writes what `book` (a copy of the broker's) holds to a file beside the ledger, a piece at a time,
    /// and flushes it; then, holding the file, adds the lines appended since the book was copied and
    /// renames it over the ledger; then flushes it and the folder again. On failure the file beside is
    /// removed and the ledger left as it was.
    private func rewrite(as book: PaperBook, startingCash: Money?) throws {
        // The next rewrite may start once this one has ended, whatever happened.
        defer { file.withLock { $0.sinceCopy = nil } }
        // Where the ledger really is: a ledger path that is a symbolic link stays one, to the new file.
        let path = URL(fileURLWithPath: self.path).resolvingSymlinksInPath().path
        let temporary = path + ".compacting"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        var renamed = false
        defer {
            // Closed once whatever happened: a second close could close a descriptor another thread opened.
            close(fd)
            if !renamed { unlink(temporary) }
        }
        var piece: [UInt8] = []
        piece.reserveCapacity(Self.rewritePiece + 4_096)
        try book.forEachCompacted(startingCash: startingCash) { entry in
            piece += try line(entry)
            guard piece.count >= Self.rewritePiece else { return }
            guard Self.writeAll(piece, to: fd) else { throw CocoaError(.fileWriteUnknown) }
            piece.removeAll(keepingCapacity: true)
        }
        let flushed = Self.writeAll(piece, to: fd) && fsync(fd) == 0
        beforeRename.withLock { $0 }?()
        try file.withLock { file in
            guard flushed, Self.writeAll(file.sinceCopy ?? [], to: fd), rename(temporary, path) == 0 else {
                throw CocoaError(.fileWriteUnknown)
            }
            renamed = true
            // The old file's descriptor points at the replaced file: the next append opens the new one.
            if let old = file.descriptor { close(old) }
            file.descriptor = nil
        }
        // What was added under the lock, and the rename, reach the disk outside it: a crash of the process
        // loses nothing the kernel holds, and appends do not wait for these flushes.
        fsync(fd)
        let folder = (path as NSString).deletingLastPathComponent
        let folderFD = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 {
            fsync(folderFD)
            close(folderFD)
        }
    }

    /// Writes all of `bytes` to `fd`; `false` when a write fails.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            guard count > 0 else { return false }
            written += count
        }
        return true
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
        try file.withLock { file in
            if file.descriptor == nil {
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
                file.descriptor = fd
            }
            let fd = file.descriptor!
            let written = lines.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written != lines.count else {
                file.sinceCopy?.append(contentsOf: lines)
                return
            }
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
