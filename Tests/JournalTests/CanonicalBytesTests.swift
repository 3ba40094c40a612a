import Journal
import Testing

/// The canonical bytes of a row, as docs/journal.md defines them for anyone recomputing the chain.
@Suite struct CanonicalBytesTests {
    @Test func areTheDocumentedLayoutByteForByte() {
        let record = JournalRecord(
            seq: 258, ts: -2, kind: "fill", account: "pa", symbol: nil, orderID: "o", clientOrderID: nil,
            strategy: "é", payload: "{}")
        let expected: [UInt8] =
            [0, 0, 0, 0, 0, 0, 1, 2]  // seq 258, big-endian
            + [255, 255, 255, 255, 255, 255, 255, 254]  // ts -2, two's complement
            + [1, 0, 0, 0, 4] + Array("fill".utf8)
            + [1, 0, 0, 0, 2] + Array("pa".utf8)
            + [0]  // no symbol
            + [1, 0, 0, 0, 1] + Array("o".utf8)
            + [0]  // no client order id
            + [1, 0, 0, 0, 2, 0xC3, 0xA9]  // "é": its UTF-8 length and bytes
            + [1, 0, 0, 0, 2] + Array("{}".utf8)
        #expect(HashChain.canonicalBytes(of: record) == expected)
    }
}
