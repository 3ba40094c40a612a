import ControlServer
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite struct LineFrameDecoderTests {
    @Test func splitsLinesDripFedInBulkAndWithLeftovers() throws {
        let input = ByteBuffer(string: "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}\n")
        let expected = ["{\"a\":1}", "{\"b\":2}", "", "{\"c\":3}"].map { LineFrameComparable.line($0) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(input, expected.map(\.frame))],
            decoderFactory: { LineFrameDecoder(maxLength: 64) })
    }

    @Test func reportsALineOverTheLimitOnceAndDropsTheRest() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLength: 8)))
        try channel.writeInbound(ByteBuffer(string: "123456789"))
        try channel.writeInbound(ByteBuffer(string: "more\nok\n"))
        let first = try channel.readInbound(as: LineFrame.self)
        guard case .tooLarge = first else {
            Issue.record("expected too_large, got \(String(describing: first))")
            return
        }
        #expect(try channel.readInbound(as: LineFrame.self) == nil)
        _ = try channel.finish()
    }

    @Test func aLineOfExactlyTheLimitIsAccepted() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLength: 4)))
        try channel.writeInbound(ByteBuffer(string: "abcd\n"))
        guard case .line(let line) = try channel.readInbound(as: LineFrame.self) else {
            Issue.record("expected a line")
            return
        }
        #expect(String(buffer: line) == "abcd")
        _ = try channel.finish()
    }
}

/// `LineFrame` with equality, for the verifier.
enum LineFrameComparable {
    case line(String)
    var frame: LineFrame {
        switch self {
        case .line(let text): .line(ByteBuffer(string: text))
        }
    }
}
