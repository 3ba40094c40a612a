import GRDB

/// The journal's schema, as migrations: later issues add tables and columns, never rewrite events.
enum JournalSchema {
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
        return migrator
    }
}
