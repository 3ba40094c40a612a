import GatewayCore
import NIOCore
import Synchronization

/// An answer whose one member is a list (`cancel_all`'s orders), written into the buffer the socket
/// sends as its items are made, and sent once the last is. `cancel_all` over 100 000 open orders answers
/// about 34 MB: made as one list of orders, then as its text, then as a string and then as the socket's
/// buffer, it held about three copies of that at once.
final class AnswerList: Sendable {
    private struct State {
        var buffer: ByteBuffer
        var empty = true
    }

    private let state: Mutex<State>

    /// `head` is the answer's start, up to the list's `[` (`AnswerWriter.successListHead`).
    init(head: String) {
        var buffer = ByteBufferAllocator().buffer(capacity: 64 * 1024)
        buffer.writeString(head)
        state = Mutex(State(buffer: buffer))
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
            json.withBytes { _ = state.buffer.writeBytes($0) }
        }
    }

    /// The whole answer, with its newline.
    func finish() -> ByteBuffer {
        state.withLock { state in
            state.buffer.writeString("]}\n")
            return state.buffer
        }
    }
}
