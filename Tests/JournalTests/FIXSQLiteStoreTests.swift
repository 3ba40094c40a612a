import FIXCodec
import FIXSession
import Foundation
import GatewayTesting
import Journal
import Testing

@Suite struct FIXSQLiteStoreTests {
    let path = TestFolders.make("fix-store") + "/store.sqlite"

    @Test func keepsSequenceNumbersAndSentMessagesAcrossAReopen() throws {
        do {
            let store = try FIXSQLiteStore(path: path, sessionID: "FIX.4.2:ISLD->TW42")
            #expect(store.nextSenderSeqNum == 1 && store.nextTargetSeqNum == 1)
            try store.saveSent(Array("one".utf8), seqNum: 1)
            try store.saveSent(Array("two".utf8), seqNum: 2)
            try store.setNextTargetSeqNum(7)
        }
        let reopened = try FIXSQLiteStore(path: path, sessionID: "FIX.4.2:ISLD->TW42")
        #expect(reopened.nextSenderSeqNum == 3)
        #expect(reopened.nextTargetSeqNum == 7)
        let messages = try reopened.sentMessages(in: 1...5)
        #expect(messages.map(\.seqNum) == [1, 2])
        #expect(messages.map { String(decoding: $0.message, as: UTF8.self) } == ["one", "two"])
        let other = try FIXSQLiteStore(path: path, sessionID: "FIX.4.4:ISLD->TW44")
        #expect(other.nextSenderSeqNum == 1)
        #expect(try other.sentMessages(in: 1...5).isEmpty)
        try reopened.reset()
        #expect(try FIXSQLiteStore(path: path, sessionID: "FIX.4.2:ISLD->TW42").nextSenderSeqNum == 1)
        #expect(try reopened.sentMessages(in: 1...5).isEmpty)
    }
}

extension FIXSQLiteStoreTests {
    static let dictionary: FIXDictionary = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/fix/FIX42.xml")
        do { return try FIXDictionary(xml: String(contentsOf: url, encoding: .utf8)) } catch { fatalError("\(error)") }
    }()

    /// The counterparty's message to a session ISLD → TW.
    static func wire(_ msgType: String, _ seqNum: Int, _ body: [(Int, String)], at now: FIXTimestamp) -> [UInt8] {
        var message = FIXMessage(msgType: msgType)
        message.append(34, seqNum)
        message.append(49, "TW")
        message.append(52, now.text)
        message.append(56, "ISLD")
        for (tag, value) in body { message.append(tag, value) }
        var encoder = FIXEncoder(beginString: "FIX.4.2")
        return encoder.encode(message)
    }

    @Test func aSessionRestartedOnItsStoreResendsWhatItSentBefore() throws {
        let now = FIXTimestamp(millisecondsSinceEpoch: 1_796_304_671_000)
        let settings = FIXSessionSettings(
            beginString: "FIX.4.2", senderCompID: "ISLD", targetCompID: "TW", role: .acceptor)
        do {
            var session = FIXSession(
                settings: settings, dictionary: Self.dictionary,
                store: try FIXSQLiteStore(path: path, sessionID: "FIX.4.2:ISLD->TW"))
            _ = session.connected(at: now)
            _ = session.received(Self.wire("A", 1, [(98, "0"), (108, "30")], at: now), at: now)
            var order = FIXMessage(msgType: "D")
            for (tag, value) in [(11, "KEPT"), (21, "1"), (40, "1"), (54, "1"), (55, "X"), (60, "20261203-12:00:00")] {
                order.append(tag, value)
            }
            _ = session.send(order, at: now)  // sequence number 2
        }
        // A new process: the session comes back on the same file and is asked for everything again.
        var session = FIXSession(
            settings: settings, dictionary: Self.dictionary,
            store: try FIXSQLiteStore(path: path, sessionID: "FIX.4.2:ISLD->TW"))
        #expect(session.nextSenderSeqNum == 3 && session.expectedTargetSeqNum == 2)
        _ = session.connected(at: now)
        _ = session.received(Self.wire("A", 2, [(98, "0"), (108, "30")], at: now), at: now)
        let answer = session.received(Self.wire("2", 3, [(7, "1"), (16, "0")], at: now), at: now)
        let sent = answer.compactMap { action -> FIXMessage? in
            if case .send(let bytes) = action { return try? FIXMessage(parsing: bytes) }
            return nil
        }
        // The first logon gap-filled, the order resent from the file, the new logon gap-filled.
        try #require(sent.count == 3)
        #expect(sent.map { $0.msgType } == ["4", "D", "4"])
        #expect(sent.first?.int(36) == 2 && sent.last?.int(34) == 3 && sent.last?.int(36) == 4)
        #expect(sent[1][11] == "KEPT" && sent[1].int(34) == 2 && sent[1].flag(43))
    }
}
