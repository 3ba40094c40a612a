import BrokerAPI
import Foundation
import GatewayCore
import Synchronization

/// The paper broker's own record, one JSON line per change, appended with `write(2)` before the change is
/// reported. A line is in the kernel once `write` returns, so it survives the gateway being killed; the
/// paper broker does not fsync, since it stands in for a remote broker and not for the journal.
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

    init(path: String) { self.path = path }

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

    func append(_ entry: Entry) throws {
        var data = try Self.line(entry) ?? Array(encoder.withLock { try $0.encode(entry) })
        data.append(UInt8(ascii: "\n"))
        try descriptor.withLock { descriptor in
            if descriptor == nil {
                let folder = (path as NSString).deletingLastPathComponent
                if !folder.isEmpty {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                }
                let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
                descriptor = fd
            }
            let written = data.withUnsafeBytes { write(descriptor!, $0.baseAddress, $0.count) }
            guard written == data.count else { throw CocoaError(.fileWriteUnknown) }
        }
    }
}
