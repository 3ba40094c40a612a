import FIXCodec
import Testing

@Suite struct FIXMessageTests {
    @Test func parsesAndReencodesByteForByte() throws {
        let bytes = Fixtures.message("35=D|34=2|49=TW|52=20261203-12:00:00.000|56=ISLD|11=ID|21=3|40=1|54=1|55=INTC|")
        let message = try FIXMessage(parsing: bytes)
        #expect(message[11] == "ID")
        #expect(message.int(34) == 2)
        var encoder = FIXEncoder(beginString: "FIX.4.2")
        #expect(encoder.encode(message) == bytes)
    }

    @Test func refusesWrongBodyLengthChecksumAndHeaderOrder() {
        #expect(throws: FIXParseError.self) {
            try FIXMessage(parsing: Fixtures.wire("8=FIX.4.2|9=5|35=0|34=2|10=000|"))
        }
        var good = Fixtures.message("35=0|34=2|")
        good[good.count - 2] = good[good.count - 2] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(throws: FIXParseError.self) { try FIXMessage(parsing: good) }
        #expect(throws: FIXParseError.self) { try FIXMessage(parsing: Fixtures.wire("9=5|8=FIX.4.2|35=0|10=000|")) }
        #expect(throws: FIXParseError.self) { try FIXMessage(parsing: Fixtures.wire("8=FIX.4.2|9=5|35=0|34")) }
    }

    @Test func readsDataFieldsThatContainSOHByTheirLength() throws {
        var built = FIXMessage(msgType: "B")
        for (tag, value) in [(34, "2"), (49, "TW"), (52, "20261203-12:00:00"), (56, "ISLD"), (148, "News"), (95, "5")] {
            built.append(tag, value)
        }
        built.append(96, Fixtures.wire("a|b|c"))
        var encoder = FIXEncoder(beginString: "FIX.4.2")
        let bytes = encoder.encode(built)
        let message = try FIXMessage(parsing: bytes, dictionary: Fixtures.fix42)
        #expect(message.bytes(96) == [UInt8(ascii: "a"), 1, UInt8(ascii: "b"), 1, UInt8(ascii: "c")][...])
    }

    @Test func formatsAndReadsTimestampsToTheMillisecond() throws {
        let instant = FIXTimestamp(millisecondsSinceEpoch: 1_796_304_671_042)
        #expect(instant.text == "20261203-13:31:11.042")
        #expect(FIXTimestamp(parsing: Array("20261203-13:31:11.042".utf8)) == instant)
        #expect(FIXTimestamp(parsing: Array("20261203-13:31:11".utf8))?.millisecondsSinceEpoch == 1_796_304_671_000)
        #expect(FIXTimestamp(parsing: Array("20240229-00:00:00".utf8)) != nil)
        #expect(FIXTimestamp(parsing: Array("20230229-00:00:00".utf8)) == nil)
        #expect(FIXTimestamp(parsing: Array("20261203-25:00:00".utf8)) == nil)
    }
}
