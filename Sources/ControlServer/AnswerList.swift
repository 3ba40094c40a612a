import Glibc
import GatewayCore
import NIOCore
import Synchronization

/// An answer whose one member is a list (the orders of `cancel_all` and `orders`), written as its items
/// are made and sent once the last is.
///
/// With 100 000 orders the answer is about 34 MB. Made as one list of orders, then its text, then a
/// string and then the socket's buffer, it held about three copies of that at once; held once, in the
/// socket's buffers, it still took a `cancel_all` over 100 000 resting orders to about 180 MiB of peak
/// RSS against about 140 before it. So past `spillAt` bytes the rest goes to a file of its own in
/// `spillDirectory` (the journal's folder), unlinked at once, and is sent from there (`sendfile`): the
/// kernel's page cache holds it, not the daemon, and the disk takes it if memory is short. A file that
/// cannot be made or written leaves the rest in memory, as before; the answer is the same either way.
/// In memory it is kept in pieces of `pieceSize` bytes, which malloc can make from memory the orders
/// canceled before them gave back (docs/performance.md).
final class AnswerList: Sendable {
    static let pieceSize = 4 * 1024
    static let spillAt = 1 << 20

    private struct State {
        /// What is written so far, in order: pieces in memory, then at most one stretch of the file.
        var parts: [IOData] = []
        var empty = true
        var inMemory = 0
        /// The file the answer spills to while it is written; `nil` again once writing it failed.
        var file: SpillFile?
        /// The file, once the answer has spilled: it must stay open until the answer is sent.
        var spilled: SpillFile?
        var fileBytes = 0
        /// Set once a file was tried: the answer spills at most once.
        var spillTried = false
    }

    private let state: Mutex<State>
    private let spillDirectory: String?
    private let spillAt: Int

    /// `head` is the answer's start, up to the list's `[` (`AnswerWriter.successListHead`).
    init(head: String, spillDirectory: String? = nil, spillAt: Int = AnswerList.spillAt) {
        var buffer = ByteBufferAllocator().buffer(capacity: head.utf8.count)
        buffer.writeString(head)
        state = Mutex(State(parts: [.byteBuffer(buffer)]))
        self.spillDirectory = spillDirectory
        self.spillAt = spillAt
    }

    /// Writes `items` at the end of the list.
    func append<Items: Collection>(_ items: Items) where Items.Element: JSONTextEncodable {
        guard !items.isEmpty else { return }
        state.withLock { state in
            var json = JSONText(capacity: items.count * 512)
            for item in items {
                if !state.empty || json.count > 0 { json.raw(CollectionOfOne(UInt8(ascii: ","))) }
                item.write(to: &json)
            }
            state.empty = false
            json.withBytes { bytes in
                var rest = bytes[...]
                if !state.spillTried, state.inMemory + bytes.count > spillAt, let directory = spillDirectory {
                    state.spillTried = true
                    state.file = SpillFile(in: directory)
                }
                if let file = state.file {
                    let written = file.write(UnsafeBufferPointer(rebasing: rest))
                    if state.fileBytes == 0, written > 0 {
                        state.spilled = file
                        state.parts.append(
                            .fileRegion(FileRegion(fileHandle: file.handle, readerIndex: 0, endIndex: 0)))
                    }
                    state.fileBytes += written
                    rest = rest.dropFirst(written)
                    if !rest.isEmpty {
                        // The disk refused: the rest stays in memory, after what the file holds.
                        Self.endFile(&state)
                    }
                }
                for start in stride(from: rest.startIndex, to: rest.endIndex, by: Self.pieceSize) {
                    let piece = UnsafeBufferPointer(rebasing: rest[start..<min(start + Self.pieceSize, rest.endIndex)])
                    var buffer = ByteBufferAllocator().buffer(capacity: piece.count)
                    buffer.writeBytes(piece)
                    state.parts.append(.byteBuffer(buffer))
                    state.inMemory += piece.count
                }
            }
        }
    }

    /// The whole answer, in parts to be written in order (the last ends with the line's newline), and
    /// the file some of them are read from, if it spilled: it must stay open until they are written.
    func finish() -> (parts: [IOData], file: SpillFile?) {
        state.withLock { state in
            Self.endFile(&state)
            var tail = ByteBufferAllocator().buffer(capacity: 3)
            tail.writeString("]}\n")
            return (state.parts + [.byteBuffer(tail)], state.spilled)
        }
    }

    /// Sets the file's stretch to what was written to it, and stops writing to it.
    private static func endFile(_ state: inout State) {
        guard let file = state.file else { return }
        state.file = nil
        guard let at = state.parts.firstIndex(where: { if case .fileRegion = $0 { true } else { false } }) else {
            return
        }
        state.parts[at] = .fileRegion(FileRegion(fileHandle: file.handle, readerIndex: 0, endIndex: state.fileBytes))
    }
}

/// A file an answer spills to (`AnswerList`), made in `directory` and unlinked at once: it goes when it
/// is closed (when the answer is written, or with this object), or with the process.
public final class SpillFile: Sendable {
    let handle: NIOFileHandle

    init?(in directory: String) {
        var template = Array((directory + "/.gatewayd-answer-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
    }

    deinit { close() }

    func close() {
        if handle.isOpen { try? handle.close() }
    }

    /// Appends `bytes`; how many were written before the first failure.
    func write(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        (try? handle.withUnsafeFileDescriptor { fd in
            var written = 0
            while written < bytes.count {
                let count = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                written += count
            }
            return written
        }) ?? 0
    }
}
