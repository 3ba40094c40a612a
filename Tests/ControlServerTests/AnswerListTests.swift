import ControlProtocol
import Foundation
import GatewayCore
import Glibc
import NIOCore
import Testing

@testable import ControlServer

/// `cancel_all`'s and `orders`' answers, written a slice of orders at a time (`AnswerList`): the same line
/// as the answer written whole, in memory or spilled to a file.
@Suite struct AnswerListTests {
    static func order(_ index: Int) -> Order {
        Order(
            orderID: OrderID("o-\(index)")!, clientOrderID: ClientOrderID("c-\(index)")!,
            account: AccountID("paper")!, symbol: Symbol("AAPL")!, side: index % 2 == 0 ? .buy : .sell,
            qty: Quantity(index), type: .limit, limitPrice: Price("190.5")!, tif: .gtc, strategy: "mean/rev",
            tags: ["a", "b\"c"], createdAt: Timestamp(nanosecondsSinceEpoch: Int64(index)))
    }

    static let slicings: [[[Int]]] = [
        [], [[]], [[1]], [[1, 2, 3]], [[], [1, 2], [], [3]], [[1], [2], [3, 4]],
        // Slices longer than one piece (`AnswerList.pieceSize`).
        [Array(1...30), [31], Array(32...70)],
    ]

    /// The text of `parts`, reading a file's stretch from the file.
    static func text(of parts: [IOData]) throws -> String {
        var bytes: [UInt8] = []
        for part in parts {
            switch part {
            case .byteBuffer(let buffer):
                bytes += buffer.readableBytesView
            case .fileRegion(let region):
                var stretch = [UInt8](repeating: 0, count: region.readableBytes)
                let read = try region.fileHandle.withUnsafeFileDescriptor { fd in
                    pread(fd, &stretch, stretch.count, off_t(region.readerIndex))
                }
                #expect(read == stretch.count)
                bytes += stretch
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `slices` through a list and checks its line against the answer written whole.
    static func check(_ slices: [[Int]], spillDirectory: String? = nil, spillAt: Int = AnswerList.spillAt) throws
        -> (parts: [IOData], file: SpillFile?)
    {
        let writer = AnswerWriter()
        var last: (parts: [IOData], file: SpillFile?) = ([], nil)
        for id in [RequestID.number(7), .string("x/y"), .null] {
            let list = AnswerList(
                head: writer.successListHead(id: id, key: "orders"), spillDirectory: spillDirectory, spillAt: spillAt)
            for slice in slices { list.append(slice.map(order)) }
            let all = slices.joined().map(order)
            last = list.finish()
            #expect(try text(of: last.parts) == writer.success(id: id, body: OrdersAnswer(orders: all)) + "\n")
        }
        return last
    }

    @Test(arguments: slicings)
    func slicesMakeTheSameLineAsTheWholeAnswer(slices: [[Int]]) throws {
        let (parts, file) = try Self.check(slices)
        #expect(file == nil)
        for part in parts.dropLast() {
            guard case .byteBuffer(let buffer) = part else { Issue.record("a file in memory's answer"); continue }
            #expect(buffer.readableBytes <= AnswerList.pieceSize)
        }
    }

    /// Past `spillAt` bytes the rest goes to a file, unlinked at once, read back for the answer; below
    /// it, nothing does.
    @Test(arguments: slicings)
    func aLongAnswerSpillsToAFileAndGivesTheSameLine(slices: [[Int]]) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("answer-list-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (parts, file) = try Self.check(slices, spillDirectory: folder, spillAt: 2_000)
        let length = slices.joined().reduce(0) { $0 + Self.order($1).jsonBytes.count + 1 }
        let regions = parts.filter { if case .fileRegion = $0 { true } else { false } }
        #expect(regions.count == (length > 2_000 ? 1 : 0))
        #expect((file != nil) == (length > 2_000))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        file?.close()
        #expect(file?.handle.isOpen != true)
    }

    /// A folder where no file can be made: the answer stays in memory, the same.
    @Test func anAnswerThatCannotSpillStaysInMemory() throws {
        let (parts, file) = try Self.check(
            [Array(1...30), Array(31...70)], spillDirectory: "/nonexistent/answer-list", spillAt: 2_000)
        #expect(file == nil)
        #expect(parts.allSatisfy { if case .byteBuffer = $0 { true } else { false } })
    }
}
