import Foundation
import GRDB
import GatewayTesting
import Testing

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct JournalAuditTests {
        @Test func verifyExportBackupAndATamperedRowNamedByItsSeq() async throws {
            let daemon = try await startedDaemon()
            #expect(try await daemon.ctl(["quote", "AAPL", "--bid", "190", "--ask", "190.05"]).status == 0)
            #expect(try await daemon.ctl(["buy", "AAPL", "10", "--id", "audit-1"]).status == 0)
            _ = try await daemon.ctl(["watch", "--after-seq", "0", "--kinds", "fill", "--count", "1"])

            let verified = try await daemon.ctl(["journal", "verify"])
            #expect(verified.status == 0 && verified.out.contains("journal verified"), "\(verified.err)")
            let byClientID = object(try await daemon.ctl(["journal", "--client-order-id", "audit-1", "--json"]).out)
            let kinds = (byClientID["events"] as? [[String: Any]] ?? []).compactMap { $0["event"] as? String }
            #expect(kinds.contains("order") && kinds.contains("fill"))

            let csv = daemon.folder + "/aapl.csv"
            #expect(
                try await daemon.ctl(["journal", "export", "--format", "csv", "--symbol", "AAPL", "-o", csv]).status
                    == 0)
            let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
            #expect(rows.first == "seq,ts,event,account,symbol,order_id,client_order_id,strategy,payload")
            #expect(rows.contains { $0.contains(",fill,paper,AAPL,") && $0.contains("audit-1") })
            let jsonl = try await daemon.ctl(["journal", "export", "--kinds", "fill"])
            #expect(object(String(jsonl.out.split(separator: "\n")[0]))["event"] as? String == "fill")

            let copy = daemon.folder + "/backup.sqlite"
            let backup = try await daemon.ctl(["journal", "backup", copy])
            #expect(backup.status == 0 && backup.out.contains("events"), "\(backup.err)")
            #expect(try await daemon.ctl(["journal", "backup", copy]).status == 1)  // never overwrites
            #expect(await daemon.stop() == 0)

            // Someone edits a fill's price with the sqlite3 shell while the daemon is down.
            let raw = try DatabaseQueue(path: daemon.journalPath)
            let fillSeq = try await raw.write { db -> Int64 in
                try db.execute(sql: "DROP TRIGGER events_are_append_only_update")
                let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM events WHERE kind = 'fill'")!
                try db.execute(
                    sql: "UPDATE events SET payload = replace(payload, '190.05', '19.05') WHERE seq = ?",
                    arguments: [seq])
                return seq
            }
            try raw.close()
            try #require(try await daemon.launch(["--config", daemon.folder + "/gatewayd.yaml"]), "\(daemon.log)")
            let broken = try await daemon.ctl(["journal", "verify"])
            #expect(broken.status == 1)
            #expect(broken.err.contains("first broken link: seq \(fillSeq)"), "\(broken.err)")
            let copyCheck = try DatabaseQueue(path: copy)
            #expect(try await copyCheck.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fills") } == 1)
            try copyCheck.close()
            #expect(await daemon.stop() == 0)
        }
    }
}
