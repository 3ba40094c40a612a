import BrokerAPI
import Foundation
import Glibc
import GatewayCore
import Synchronization

/// The paper broker's own record, one JSON line per change, appended with `write(2)` before the change is
/// reported: the lines of one call on the broker together, in one `write` (`PaperSimulator`). A line is
/// in the kernel once `write` returns, so it survives the gateway being killed; the paper broker does not
/// fsync, since it stands in for a remote broker and not for the journal.
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
    }

    let path: String
    /// The open file, opened on the first append and kept: one `write` per entry, nothing more.
    private let descriptor = Mutex<Int32?>(nil)
    private let encoder = Mutex(JSONEncoder())

    /// Writes left before every later one fails (`PaperFaults.ledgerWritesBeforeFailing`); `nil`: no fault.
    private let writesLeft: Mutex<Int?>

    init(path: String, writesBeforeFailing: Int? = nil) {
        self.path = path
        writesLeft = Mutex(writesBeforeFailing)
    }

    deinit {
        if let fd = descriptor.withLock({ $0 }) { close(fd) }
    }

    /// The two entries every order writes, `received` and `filled`, in the shape `Entry`'s synthesized
    /// `Codable` reads, written by JSONText (JSONEncoder cost more than the rest of the paper broker's
    /// order path); nil for the others.
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
                    json.object { json in
                        json.member("commission", fill.commission)
                        json.member("fillID", fill.fillID.rawValue)
                        json.member("orderID", fill.orderID.rawValue)
                        json.member("price", fill.price)
                        json.member("qty", fill.qty)
                        json.member("ts", fill.ts)
                    }
                }
            }
        default:
            return nil
        }
        return json.bytes
    }

    func load(cash: Money? = nil) throws -> PaperBook {
        var book = PaperBook()
        book.cash = cash
        guard FileManager.default.fileExists(atPath: path) else { return book }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let decoder = JSONDecoder()
        for line in text.split(separator: "\n") where !line.isEmpty {
            // A torn last line (killed mid-write) is the one thing the broker never reported: skip it.
            guard let entry = try? decoder.decode(Entry.self, from: Data(line.utf8)) else { continue }
            book.apply(entry)
        }
        return book
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
