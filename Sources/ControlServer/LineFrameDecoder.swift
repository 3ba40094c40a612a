public import NIOCore

/// One inbound frame: a line without its newline, or word that a line ran past the limit.
public enum LineFrame: Sendable, Equatable {
    case line(ByteBuffer)
    case tooLarge
}

/// Splits the byte stream at `\n` (dropping a `\r` before it), never rescanning bytes it has looked at,
/// and reports `.tooLarge` as soon as a line exceeds `maxLength` bytes without a newline (PROTOCOL.md:
/// 64 KiB). After `.tooLarge` it discards everything: the server closes the connection.
public struct LineFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = LineFrame

    let maxLength: Int
    private var scanned = 0
    private var overflowed = false

    public init(maxLength: Int = 65_536) { self.maxLength = maxLength }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if overflowed {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        if let newline = view.dropFirst(scanned).firstIndex(of: UInt8(ascii: "\n")) {
            var length = newline - view.startIndex
            scanned = 0
            guard length <= maxLength else { return tooLarge(context: context, buffer: &buffer) }
            let hasReturn = length > 0 && view[newline - 1] == UInt8(ascii: "\r")
            if hasReturn { length -= 1 }
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: hasReturn ? 2 : 1)
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        }
        scanned = view.count
        if scanned > maxLength { return tooLarge(context: context, buffer: &buffer) }
        return .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        // A last line without a newline is still a request.
        if try decode(context: context, buffer: &buffer) == .continue { return .continue }
        if !overflowed, buffer.readableBytes > 0, let line = buffer.readSlice(length: buffer.readableBytes) {
            scanned = 0
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        return .needMoreData
    }

    private mutating func tooLarge(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        overflowed = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(wrapInboundOut(.tooLarge))
        return .needMoreData
    }
}
