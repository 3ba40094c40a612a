import GRDB

/// The journal's schema, as migrations: later issues add tables and columns, never rewrite events.
enum JournalSchema {
    /// Views for reading the journal with the `sqlite3` shell (docs/journal.md). Amounts in
    /// `round_trips` are computed with SQLite's floating point and rounded to six places: a convenience;
    /// the `report` verb computes them exactly.
    static let auditViews = """
        CREATE VIEW fills AS
        SELECT seq, strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1000000000.0, 'unixepoch') AS time, ts, account, symbol,
            order_id, client_order_id, strategy,
            json_extract(payload, '$.fill.fill_id') AS fill_id, json_extract(payload, '$.fill.side') AS side,
            json_extract(payload, '$.fill.qty') AS qty, json_extract(payload, '$.fill.price') AS price,
            json_extract(payload, '$.fill.commission') AS commission
        FROM events WHERE kind = 'fill';

        CREATE VIEW orders AS
        SELECT order_id, client_order_id, account, symbol, strategy,
            json_extract(payload, '$.order.side') AS side, json_extract(payload, '$.order.qty') AS qty,
            json_extract(payload, '$.order.type') AS type, json_extract(payload, '$.order.limit_price') AS limit_price,
            json_extract(payload, '$.order.stop_price') AS stop_price, json_extract(payload, '$.order.tif') AS tif,
            json_extract(payload, '$.order.status') AS status, json_extract(payload, '$.order.filled_qty') AS filled_qty,
            json_extract(payload, '$.order.avg_fill_price') AS avg_fill_price,
            json_extract(payload, '$.order.created_at') AS created_at,
            json_extract(payload, '$.order.updated_at') AS updated_at, seq AS last_seq
        FROM events
        WHERE seq IN (SELECT MAX(seq) FROM events WHERE kind = 'order' GROUP BY order_id);

        CREATE VIEW round_trips AS
        WITH f AS (
            SELECT seq, ts, account, symbol, COALESCE(strategy, '') AS strategy,
                (CASE WHEN json_extract(payload, '$.fill.side') LIKE 'buy%' THEN 1 ELSE -1 END)
                    * CAST(json_extract(payload, '$.fill.qty') AS REAL) AS signed_qty,
                CAST(json_extract(payload, '$.fill.price') AS REAL) AS price,
                CAST(json_extract(payload, '$.fill.commission') AS REAL) AS commission,
                CASE WHEN length(symbol) = 21 THEN 100 ELSE 1 END AS multiplier
            FROM events WHERE kind = 'fill'),
        p AS (
            SELECT *, ROUND(SUM(signed_qty) OVER (PARTITION BY account, symbol, strategy ORDER BY seq), 8)
                AS position
            FROM f),
        t AS (
            SELECT *, COALESCE(SUM(CASE WHEN position = 0 THEN 1 ELSE 0 END) OVER (
                PARTITION BY account, symbol, strategy ORDER BY seq
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS trip
            FROM p)
        SELECT account, symbol, NULLIF(strategy, '') AS strategy, trip + 1 AS trip,
            strftime('%Y-%m-%dT%H:%M:%fZ', MIN(ts) / 1000000000.0, 'unixepoch') AS opened_at,
            strftime('%Y-%m-%dT%H:%M:%fZ', MAX(ts) / 1000000000.0, 'unixepoch') AS closed_at,
            COUNT(*) AS fills, MAX(ABS(position)) AS max_qty,
            ROUND(-SUM(signed_qty * price * multiplier) - SUM(commission), 6) AS pnl,
            ROUND(SUM(commission), 6) AS commissions
        FROM t GROUP BY account, symbol, strategy, trip
        HAVING SUM(CASE WHEN position = 0 THEN 1 ELSE 0 END) = 1;
        """

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                    CREATE TABLE events (
                        seq INTEGER PRIMARY KEY NOT NULL,
                        ts INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        account TEXT,
                        symbol TEXT,
                        order_id TEXT,
                        client_order_id TEXT,
                        strategy TEXT,
                        payload TEXT NOT NULL
                    );
                    CREATE INDEX events_by_account ON events(account, seq);
                    CREATE INDEX events_by_symbol ON events(symbol, seq);
                    CREATE INDEX events_by_order ON events(order_id, seq);
                    CREATE INDEX events_by_strategy ON events(strategy, seq);
                    CREATE INDEX events_by_ts ON events(ts);
                    CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
                    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
                    CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
                    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
                    """)
        }
        migrator.registerMigration("v2-hash-chain") { db in
            // Journals written before the chain get theirs computed once, in order; the update trigger
            // is lifted only inside this migration's transaction.
            try db.execute(
                sql: """
                    ALTER TABLE events ADD COLUMN hash BLOB;
                    CREATE INDEX events_by_client_order ON events(client_order_id, seq);
                    CREATE INDEX events_by_kind ON events(kind, seq);
                    DROP TRIGGER events_are_append_only_update;
                    """)
            var previous = HashChain.genesis
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM events ORDER BY seq")
            let update = try db.makeStatement(sql: "UPDATE events SET hash = ? WHERE seq = ?")
            while let row = try rows.next() {
                let record = JournalRecord(row: row)
                previous = HashChain.link(after: previous, record)
                try update.execute(arguments: [previous, record.seq])
            }
            try db.execute(
                sql: """
                    CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
                    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
                    """)
        }
        migrator.registerMigration("v3-audit-views") { db in
            try db.execute(sql: auditViews)
        }
        migrator.registerMigration("v4-checkpoints") { db in
            // The engine's state after event `seq`, bound to the chain by the event's hash there and to
            // itself by its own hash. Not events: older checkpoints are deleted as newer ones land.
            try db.execute(
                sql: """
                    CREATE TABLE checkpoints (
                        seq INTEGER PRIMARY KEY NOT NULL,
                        ts INTEGER NOT NULL,
                        head_hash BLOB NOT NULL,
                        state_hash BLOB NOT NULL,
                        state BLOB NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v5-symbol-time-index") { db in
            // The audit question "this symbol on that day" reads only the day's rows.
            try db.execute(sql: "CREATE INDEX events_by_symbol_time ON events(symbol, ts)")
        }
        migrator.registerMigration("v6-checkpoint-pieces") { db in
            // A checkpoint's state in pieces (`CheckpointWriter.pieceSize`), written one transaction each before the
            // `checkpoints` row (whose own `state` is then empty) that names them.
            try db.execute(
                sql: """
                    CREATE TABLE checkpoint_pieces (
                        seq INTEGER NOT NULL,
                        piece INTEGER NOT NULL,
                        bytes BLOB NOT NULL,
                        PRIMARY KEY (seq, piece)
                    );
                    """)
        }
        migrator.registerMigration("v7-fewer-indexes") { db in
            // Every index is written on every append, on the engine's thread, inside the commit that an
            // acknowledgement waits for: about 13 µs of the engine's CPU per order each (five events), and
            // a page more for every commit to write to the log and later copy back. Kept: what the engine
            // reads on the order path (`events_by_order`) and what an audit asks most: a symbol over a
            // time (`events_by_symbol_time`, which also serves a symbol alone), a time (`events_by_ts`), a
            // strategy and a client order id — those two now only for the events that have one — and
            // the fills of an account (`events_fills`: a fifth of the events). Gone: the account (a
            // gateway has a handful: the index narrowed nothing), the symbol by sequence (the symbol and
            // time index does its work), and the kind (seven values; the fills have their own).
            try db.execute(
                sql: """
                    DROP INDEX IF EXISTS events_by_account;
                    DROP INDEX IF EXISTS events_by_symbol;
                    DROP INDEX IF EXISTS events_by_kind;
                    DROP INDEX IF EXISTS events_by_strategy;
                    DROP INDEX IF EXISTS events_by_client_order;
                    CREATE INDEX events_by_strategy ON events(strategy, seq) WHERE strategy IS NOT NULL;
                    CREATE INDEX events_by_client_order ON events(client_order_id, seq)
                        WHERE client_order_id IS NOT NULL;
                    CREATE INDEX events_fills ON events(account, seq) WHERE kind = 'fill';
                    """)
        }
        migrator.registerMigration("v8-checkpoint-bases") { db in
            // A checkpoint may hold only what its longest lists gained since an older one, its `base`
            // (NULL: it holds them whole); restoring it reads its chain of bases back to a whole one.
            try db.execute(sql: "ALTER TABLE checkpoints ADD COLUMN base INTEGER")
        }
        return migrator
    }
}
