import FIXSession
import Foundation
import Journal
import Testing

@Suite struct FIXSQLiteStoreTests {
    let path = NSTemporaryDirectory() + "fix-store-\(UUID().uuidString).sqlite"

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
