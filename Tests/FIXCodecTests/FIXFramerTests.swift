import FIXCodec
import Testing

@Suite struct FIXFramerTests {
    let logon = Fixtures.message("35=A|34=1|49=TW|52=20261203-12:00:00.000|56=ISLD|98=0|108=30|")
    let order = Fixtures.message("35=D|34=2|49=TW|52=20261203-12:00:00.000|56=ISLD|11=ID|21=3|40=1|54=1|55=INTC|")

    private func frames(_ framer: inout FIXFramer) -> [[UInt8]] {
        var result: [[UInt8]] = []
        while let frame = framer.next() {
            if case .message(let range) = frame { result.append(Array(framer.buffer[range])) }
        }
        return result
    }

    @Test func findsMessagesFedOneByteAtATime() {
        var framer = FIXFramer()
        var found: [[UInt8]] = []
        for byte in logon + order {
            framer.append([byte])
            found += frames(&framer)
        }
        #expect(found == [logon, order])
        #expect(framer.bufferedCount == 0)
    }

    @Test func findsManyMessagesInOneRead() {
        var framer = FIXFramer()
        let stream = (0..<500).flatMap { $0 % 2 == 0 ? logon : order }
        framer.append(stream)
        let found = frames(&framer)
        #expect(found.count == 500)
        #expect(found.last == order)
    }

    @Test func holdsATruncatedMessageUntilItsRestArrivesAndSkipsLeadingNoise() {
        var framer = FIXFramer()
        framer.append(Fixtures.wire("garbage|") + logon.prefix(30))
        #expect(framer.next() == nil)
        framer.append(logon.dropFirst(30))
        #expect(frames(&framer) == [logon])
        // A connection closed mid-message leaves the partial bytes buffered, never a message.
        framer.append(order.prefix(order.count - 2))
        #expect(framer.next() == nil)
        #expect(framer.bufferedCount == order.count - 2)
    }

    @Test func reportsANonNumericBodyLengthAsGarbledAndRecovers() {
        var framer = FIXFramer()
        framer.append(Fixtures.wire("8=FIX.4.2|9=x1|35=0|10=000|"))
        #expect({ if case .garbled = framer.next() { true } else { false } }())
        framer.append(logon)
        #expect(frames(&framer) == [logon])
    }

    @Test func framesAShortBodyLengthToTheNextCheckSumSoTheParserRefusesIt() throws {
        var bad = Fixtures.wire("8=FIX.4.2|9=30|35=D|34=2|49=TW|52=20261203-12:00:00|56=ISLD|11=ID|10=000|")
        bad += logon
        var framer = FIXFramer()
        framer.append(bad)
        let found = frames(&framer)
        #expect(found.count == 2)
        #expect(throws: FIXParseError.self) { try FIXMessage(parsing: found[0]) }
        #expect(found[1] == logon)
    }
}
