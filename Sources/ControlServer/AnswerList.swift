import GatewayCore
import NIOCore
import Synchronization

/// An answer whose one member is a list (the orders of `cancel_all` and `orders`), written into the
/// socket's buffers as its items are made, and sent once the last is.
///
/// With 100 000 orders the answer is about 34 MB. Made as one list of orders, then its text, then a
/// string and then the socket's buffer, it held about three copies of that at once. It is kept in pieces
/// of `pieceSize` bytes, which malloc can make from memory that the orders canceled before them gave
/// back; one buffer of 34 MB is always new memory. Over 100 000 resting orders, `cancel_all`'s peak RSS
/// was 170.8–184.6 MiB with pieces of 4 KiB (median of four about 171) against 178.5–188.8 MiB with one
/// buffer (docs/performance.md).
final class AnswerList: Sendable {
    static let pieceSize = 4 * 1024

    private struct State {
        var pieces: [ByteBuffer] = []
        var empty = true
    }

    private let state: Mutex<State>

    /// `head` is the answer's start, up to the list's `[` (`AnswerWriter.successListHead`).
    init(head: String) {
        var buffer = ByteBufferAllocator().buffer(capacity: head.utf8.count)
        buffer.writeString(head)
        state = Mutex(State(pieces: [buffer]))
    }

    /// Writes `items` at the end of the list.
    func append(_ items: [some JSONTextEncodable]) {
        guard !items.isEmpty else { return }
        state.withLock { state in
            var json = JSONText(capacity: items.count * 512)
            for item in items {
                if !state.empty || json.count > 0 { json.raw(CollectionOfOne(UInt8(ascii: ","))) }
                item.write(to: &json)
            }
            state.empty = false
            json.withBytes { bytes in
                for start in stride(from: 0, to: bytes.count, by: Self.pieceSize) {
                    let piece = UnsafeBufferPointer(rebasing: bytes[start..<min(start + Self.pieceSize, bytes.count)])
                    var buffer = ByteBufferAllocator().buffer(capacity: piece.count)
                    buffer.writeBytes(piece)
                    state.pieces.append(buffer)
                }
            }
        }
    }

    /// The whole answer, in pieces to be written in order; the last ends with the line's newline.
    func finish() -> [ByteBuffer] {
        state.withLock { state in
            var tail = ByteBufferAllocator().buffer(capacity: 3)
            tail.writeString("]}\n")
            return state.pieces + [tail]
        }
    }
}
