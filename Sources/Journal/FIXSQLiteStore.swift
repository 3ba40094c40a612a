public import FIXSession
import Foundation
import GRDB

/// A FIX message store in SQLite, so that a session's sequence numbers and the messages it sent
/// survive a restart: a resend after the restart answers from here.
///
/// Several sessions may share one file; each is keyed by its id (as `FIX.4.2:ISLD->TW42`). WAL with
/// `synchronous=FULL`: a sent message is durable before the session writes it to the wire.
public final class FIXSQLiteStore: FIXMessageStore {
    private let queue: DatabaseQueue
    private let sessionID: String
    public private(set) var nextSenderSeqNum: Int
    public private(set) var nextTargetSeqNum: Int

    /// Opens (creating when needed) the store at `path` for `sessionID`.
    public init(path: String, sessionID: String) throws(FIXStoreError) {
        do {
            var configuration = Configuration()
            configuration.journalMode = .wal
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            queue = try DatabaseQueue(path: path, configuration: configuration)
            self.sessionID = sessionID
            let numbers = try queue.write { db -> (Int, Int) in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS fix_session (
                            session_id TEXT PRIMARY KEY, next_sender INTEGER NOT NULL, next_target INTEGER NOT NULL);
                        CREATE TABLE IF NOT EXISTS fix_message (
                            session_id TEXT NOT NULL, seq_num INTEGER NOT NULL, message BLOB NOT NULL,
                            PRIMARY KEY (session_id, seq_num));
                        """)
                try db.execute(
                    sql: "INSERT OR IGNORE INTO fix_session (session_id, next_sender, next_target) VALUES (?, 1, 1)",
                    arguments: [sessionID])
                let row = try Row.fetchOne(
                    db, sql: "SELECT next_sender, next_target FROM fix_session WHERE session_id = ?",
                    arguments: [sessionID])
                return (row?["next_sender"] ?? 1, row?["next_target"] ?? 1)
            }
            nextSenderSeqNum = numbers.0
            nextTargetSeqNum = numbers.1
        } catch {
            throw FIXStoreError("cannot open the FIX store \(path): \(error)")
        }
    }

    public func setNextTargetSeqNum(_ value: Int) throws(FIXStoreError) {
        try write { db in
            try db.execute(
                sql: "UPDATE fix_session SET next_target = ? WHERE session_id = ?", arguments: [value, sessionID])
        }
        nextTargetSeqNum = value
    }

    public func setNextSenderSeqNum(_ value: Int) throws(FIXStoreError) {
        try write { db in
            try db.execute(
                sql: "UPDATE fix_session SET next_sender = ? WHERE session_id = ?", arguments: [value, sessionID])
        }
        nextSenderSeqNum = value
    }

    public func saveSent(_ message: [UInt8], seqNum: Int) throws(FIXStoreError) {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO fix_message (session_id, seq_num, message) VALUES (?, ?, ?)",
                arguments: [sessionID, seqNum, Data(message)])
            try db.execute(
                sql: "UPDATE fix_session SET next_sender = ? WHERE session_id = ?", arguments: [seqNum + 1, sessionID])
        }
        nextSenderSeqNum = seqNum + 1
    }

    public func sentMessages(in range: ClosedRange<Int>) throws(FIXStoreError) -> [(seqNum: Int, message: [UInt8])] {
        do {
            return try queue.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT seq_num, message FROM fix_message
                        WHERE session_id = ? AND seq_num BETWEEN ? AND ? ORDER BY seq_num
                        """,
                    arguments: [sessionID, range.lowerBound, range.upperBound]
                ).map { row in (row["seq_num"], [UInt8](row["message"] as Data)) }
            }
        } catch {
            throw FIXStoreError("cannot read sent FIX messages: \(error)")
        }
    }

    public func reset() throws(FIXStoreError) {
        try write { db in
            try db.execute(sql: "DELETE FROM fix_message WHERE session_id = ?", arguments: [sessionID])
            try db.execute(
                sql: "UPDATE fix_session SET next_sender = 1, next_target = 1 WHERE session_id = ?",
                arguments: [sessionID])
        }
        nextSenderSeqNum = 1
        nextTargetSeqNum = 1
    }

    private func write(_ body: (Database) throws -> Void) throws(FIXStoreError) {
        do {
            try queue.write(body)
        } catch {
            throw FIXStoreError("cannot write the FIX store: \(error)")
        }
    }
}
