//! The two migration sets stay in step: the schemas they build, read back from each database
//! (column types mapped between the backends, NOT NULL, indexes and unique constraints,
//! foreign keys), are the same; and every `down.sql` undoes its `up.sql`, on both.

use std::collections::BTreeSet;
use std::path::Path;

use certrail::db::{DbConn, DbUrl, PG_MIGRATIONS, SQLITE_MIGRATIONS};
use diesel::migration::MigrationSource;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use diesel_migrations::MigrationHarness;

use crate::helpers::{skipped, TestDb};

fn folders(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            for file in ["up.sql", "down.sql"] {
                assert!(
                    e.path().join(file).exists(),
                    "{backend}/{name}/{file} missing"
                );
            }
            name
        })
        .collect()
}

#[test]
fn sqlite_and_postgres_migrations_have_identical_folders() {
    let sqlite = folders("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, folders("postgres"));
}

/// A schema as lines, one fact each: `table.column type [NOT NULL]`, `table index (a, b)`
/// (`unique`, `partial` when so), `table.column -> other.column on delete …`.
type Schema = BTreeSet<String>;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    #[diesel(column_name = type_)]
    type_: String,
    #[diesel(sql_type = BigInt)]
    not_null: i64,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    is_unique: i64,
    #[diesel(sql_type = BigInt)]
    partial: i64,
}

#[derive(QueryableByName)]
struct SqliteIndexColumn {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(QueryableByName)]
struct SqliteForeignKey {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    from_column: String,
    #[diesel(sql_type = Nullable<Text>)]
    to_column: Option<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

/// The SQLite type a column was declared with, as PostgreSQL names the same storage. An
/// `INTEGER PRIMARY KEY` is the rowid, a 64-bit integer (PostgreSQL's BIGSERIAL).
fn sqlite_type(declared: &str, rowid: bool) -> String {
    match declared.to_uppercase().as_str() {
        "INTEGER" if rowid => "bigint".into(),
        "INTEGER" => "integer".into(),
        "BIGINT" => "bigint".into(),
        "TEXT" => "text".into(),
        "BLOB" => "bytea".into(),
        "TIMESTAMP" => "timestamp".into(),
        "BOOLEAN" => "boolean".into(),
        "REAL" | "DOUBLE" => "double precision".into(),
        other => format!("unmapped SQLite type {other}"),
    }
}

fn pg_type(data_type: &str) -> String {
    match data_type {
        "timestamp without time zone" => "timestamp".into(),
        other => other.into(),
    }
}

fn on_delete(rule: &str) -> String {
    match rule.to_uppercase().as_str() {
        // PostgreSQL's confdeltype letters.
        "A" | "NO ACTION" => "no action",
        "R" | "RESTRICT" => "restrict",
        "C" | "CASCADE" => "cascade",
        "N" | "SET NULL" => "set null",
        "D" | "SET DEFAULT" => "set default",
        other => panic!("unknown ON DELETE rule {other}"),
    }
    .into()
}

fn sqlite_schema(conn: &mut DbConn) -> Schema {
    let DbConn::Sqlite(c) = conn else {
        unreachable!()
    };
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name != '__diesel_schema_migrations'",
    )
    .load(c)
    .unwrap();
    let mut out = Schema::new();
    for Name { name: table } in tables {
        out.insert(format!("table {table}"));
        let columns: Vec<SqliteColumn> = diesel::sql_query(format!(
            "SELECT name, type AS type_, \"notnull\" AS not_null, pk FROM pragma_table_info('{table}')"
        ))
        .load(c)
        .unwrap();
        let primary: Vec<&SqliteColumn> = columns.iter().filter(|c| c.pk > 0).collect();
        let rowid = primary.len() == 1 && primary[0].type_.eq_ignore_ascii_case("INTEGER");
        for col in &columns {
            // A primary key column is NOT NULL on PostgreSQL whatever it says; on SQLite only
            // when it says so (or is the rowid): that difference is reported, not mapped.
            let notnull = col.not_null == 1 || (rowid && col.pk > 0);
            out.insert(format!(
                "{table}.{} {}{}",
                col.name,
                sqlite_type(&col.type_, rowid && col.pk > 0),
                if notnull { " NOT NULL" } else { "" }
            ));
        }
        let mut pk_columns: Vec<(i64, &str)> =
            primary.iter().map(|c| (c.pk, c.name.as_str())).collect();
        pk_columns.sort();
        if !pk_columns.is_empty() {
            let names: Vec<&str> = pk_columns.iter().map(|(_, n)| *n).collect();
            out.insert(format!("{table} primary key ({})", names.join(", ")));
        }
        let indexes: Vec<SqliteIndex> = diesel::sql_query(format!(
            "SELECT name, \"unique\" AS is_unique, partial FROM pragma_index_list('{table}') \
             WHERE origin != 'pk'"
        ))
        .load(c)
        .unwrap();
        for index in indexes {
            let columns: Vec<SqliteIndexColumn> = diesel::sql_query(format!(
                "SELECT name FROM pragma_index_info('{}') ORDER BY seqno",
                index.name
            ))
            .load(c)
            .unwrap();
            let names: Vec<String> = columns
                .into_iter()
                .map(|c| c.name.unwrap_or_else(|| "<expression>".into()))
                .collect();
            out.insert(index_line(
                &table,
                &names,
                index.is_unique == 1,
                index.partial == 1,
            ));
        }
        let keys: Vec<SqliteForeignKey> = diesel::sql_query(format!(
            "SELECT id, \"table\" AS ref_table, \"from\" AS from_column, \"to\" AS to_column, on_delete \
             FROM pragma_foreign_key_list('{table}') ORDER BY id, seq"
        ))
        .load(c)
        .unwrap();
        for key in keys {
            // `REFERENCES t` without a column names t's primary key.
            let to = key
                .to_column
                .unwrap_or_else(|| format!("<primary key, #{}>", key.id));
            out.insert(format!(
                "{table}.{} -> {}.{to} on delete {}",
                key.from_column,
                key.ref_table,
                on_delete(&key.on_delete)
            ));
        }
    }
    out
}

fn index_line(table: &str, columns: &[String], unique: bool, partial: bool) -> String {
    format!(
        "{table} {}index ({}){}",
        if unique { "unique " } else { "" },
        columns.join(", "),
        if partial { " partial" } else { "" }
    )
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = BigInt)]
    is_unique: i64,
    #[diesel(sql_type = BigInt)]
    is_primary: i64,
    #[diesel(sql_type = BigInt)]
    is_partial: i64,
}

#[derive(QueryableByName)]
struct PgForeignKey {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    ref_column: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

fn pg_schema(conn: &mut DbConn) -> Schema {
    let DbConn::Pg(c) = conn else { unreachable!() };
    let mut out = Schema::new();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         AND table_name != '__diesel_schema_migrations'",
    )
    .load(c)
    .unwrap();
    for Name { name } in tables {
        out.insert(format!("table {name}"));
    }
    let columns: Vec<PgColumn> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND table_name != '__diesel_schema_migrations'",
    )
    .load(c)
    .unwrap();
    for col in columns {
        out.insert(format!(
            "{}.{} {}{}",
            col.table_name,
            col.column_name,
            pg_type(&col.data_type),
            if col.is_nullable == "NO" {
                " NOT NULL"
            } else {
                ""
            }
        ));
    }
    // Every index with its columns in order (an expression as `<expression>`).
    let indexes: Vec<PgIndex> = diesel::sql_query(
        "SELECT t.relname::text AS table_name, \
                string_agg(COALESCE(a.attname::text, '<expression>'), ', ' ORDER BY k.n) AS columns, \
                i.indisunique::int::int8 AS is_unique, i.indisprimary::int::int8 AS is_primary, \
                (i.indpred IS NOT NULL)::int::int8 AS is_partial \
         FROM pg_index i \
         JOIN pg_class t ON t.oid = i.indrelid \
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) \
         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0 \
         WHERE t.relnamespace = current_schema()::regnamespace \
           AND t.relname != '__diesel_schema_migrations' \
         GROUP BY t.relname, i.indexrelid, i.indisunique, i.indisprimary, i.indpred",
    )
    .load(c)
    .unwrap();
    for index in indexes {
        let columns: Vec<String> = index.columns.split(", ").map(String::from).collect();
        if index.is_primary == 1 {
            out.insert(format!(
                "{} primary key ({})",
                index.table_name,
                columns.join(", ")
            ));
        } else {
            out.insert(index_line(
                &index.table_name,
                &columns,
                index.is_unique == 1,
                index.is_partial == 1,
            ));
        }
    }
    let keys: Vec<PgForeignKey> = diesel::sql_query(
        "SELECT t.relname::text AS table_name, a.attname::text AS column_name, \
                r.relname::text AS ref_table, ra.attname::text AS ref_column, \
                c.confdeltype::text AS on_delete \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_class r ON r.oid = c.confrelid \
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, refcol) \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col \
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refcol \
         WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
    )
    .load(c)
    .unwrap();
    for key in keys {
        out.insert(format!(
            "{}.{} -> {}.{} on delete {}",
            key.table_name,
            key.column_name,
            key.ref_table,
            key.ref_column,
            on_delete(&key.on_delete)
        ));
    }
    out
}

/// The schema of `conn`'s backend as its migrations leave it.
fn schema(conn: &mut DbConn) -> Schema {
    match conn {
        DbConn::Sqlite(_) => sqlite_schema(conn),
        DbConn::Pg(_) => pg_schema(conn),
    }
}

/// SQLite's foreign keys may name only the table (its primary key): resolved from the
/// schema's own primary key lines, so both backends name the column.
fn resolve_primary_keys(schema: Schema) -> Schema {
    let primary: Vec<(String, String)> = schema
        .iter()
        .filter_map(|l| {
            let (table, rest) = l.split_once(" primary key (")?;
            Some((table.to_string(), rest.trim_end_matches(')').to_string()))
        })
        .collect();
    schema
        .into_iter()
        .map(|line| match line.split_once(" -> ") {
            Some((from, to)) if to.contains(".<primary key") => {
                let (table, rest) = to.split_once(".<primary key").unwrap();
                let rule = rest.split_once("> ").unwrap().1;
                let key = primary
                    .iter()
                    .find(|(t, _)| t == table)
                    .map(|(_, k)| k.as_str())
                    .unwrap_or("<no primary key>");
                format!("{from} -> {table}.{key} {rule}")
            }
            _ => line,
        })
        .collect()
}

/// What one schema has that the other lacks, as readable lines.
fn differences(a_name: &str, a: &Schema, b_name: &str, b: &Schema) -> Vec<String> {
    let mut out: Vec<String> = a
        .difference(b)
        .map(|l| format!("only on {a_name}: {l}"))
        .collect();
    out.extend(b.difference(a).map(|l| format!("only on {b_name}: {l}")));
    out
}

fn connect(url: &str) -> DbConn {
    DbUrl::parse(url).unwrap().establish().unwrap()
}

fn migrate(conn: &mut DbConn) {
    certrail::db::run_migrations(conn).unwrap();
}

/// One migration forward or back on `conn`'s backend; its version.
fn step(conn: &mut DbConn, up: bool) -> String {
    match (conn, up) {
        (DbConn::Sqlite(c), true) => c
            .run_next_migration(SQLITE_MIGRATIONS)
            .map(|v| v.to_string()),
        (DbConn::Sqlite(c), false) => c
            .revert_last_migration(SQLITE_MIGRATIONS)
            .map(|v| v.to_string()),
        (DbConn::Pg(c), true) => c.run_next_migration(PG_MIGRATIONS).map(|v| v.to_string()),
        (DbConn::Pg(c), false) => c
            .revert_last_migration(PG_MIGRATIONS)
            .map(|v| v.to_string()),
    }
    .unwrap()
}

fn migration_count(conn: &DbConn) -> usize {
    match conn {
        DbConn::Sqlite(_) => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .unwrap()
                .len()
        }
        DbConn::Pg(_) => MigrationSource::<diesel::pg::Pg>::migrations(&PG_MIGRATIONS)
            .unwrap()
            .len(),
    }
}

/// Migrates a fresh database up one migration at a time, keeping the schema after each; then
/// down through every `down.sql`, one at a time, each of which must leave the schema as it was
/// before its `up.sql` (nothing at all at the bottom but diesel's own table); then up again to
/// the same schema.
fn down_and_up_again(url: &str) {
    let mut conn = connect(url);
    let count = migration_count(&conn);
    assert_eq!(count, folders("sqlite").len());
    let mut before = vec![schema(&mut conn)];
    assert!(before[0].is_empty(), "{:?}", before[0]);
    let mut versions = Vec::new();
    for _ in 0..count {
        versions.push(step(&mut conn, true));
        before.push(schema(&mut conn));
    }
    let top = before.pop().unwrap();
    assert!(top.len() > 100, "{top:?}");
    let mut wrong = Vec::new();
    while let Some(expected) = before.pop() {
        let version = step(&mut conn, false);
        assert_eq!(Some(&version), versions.last(), "reverted out of order");
        versions.pop();
        let now = schema(&mut conn);
        for line in differences("before its up.sql", &expected, "after its down.sql", &now) {
            wrong.push(format!("{version}: {line}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "down.sql files that do not undo their up.sql:\n{}",
        wrong.join("\n")
    );
    migrate(&mut conn);
    let again = schema(&mut conn);
    let diff = differences("the first way up", &top, "the second", &again);
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}

#[test]
fn every_down_sql_undoes_its_up_sql_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    down_and_up_again(&format!(
        "sqlite://{}",
        dir.path().join("down.db").display()
    ));
}

#[test]
fn every_down_sql_undoes_its_up_sql_on_postgresql() {
    if pg_base().is_none() {
        skipped("needs PostgreSQL: runs in the PostgreSQL pass (TEST_DATABASE_URL set)");
        return;
    }
    let db = TestDb::new();
    down_and_up_again(&db.url);
}

fn pg_base() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

#[test]
fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let Some(base) = pg_base() else {
        skipped("compares with PostgreSQL: runs in the PostgreSQL pass (TEST_DATABASE_URL set)");
        return;
    };
    assert!(base.starts_with("postgres"), "{base}");
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = connect(&format!(
        "sqlite://{}",
        dir.path().join("schema.db").display()
    ));
    migrate(&mut sqlite);
    let pg_db = TestDb::new();
    let mut pg = connect(&pg_db.url);
    migrate(&mut pg);
    let sqlite = resolve_primary_keys(schema(&mut sqlite));
    let pg = schema(&mut pg);
    assert!(pg.len() > 100, "{pg:?}");
    let diff = differences("SQLite", &sqlite, "PostgreSQL", &pg);
    assert!(
        diff.is_empty(),
        "{} differences:\n{}",
        diff.len(),
        diff.join("\n")
    );
}

/// Stored log hashes, one row each before `log_hash_runs` and 32 to a row after: the
/// migration carries every hash over (and its `down.sql` back), on both backends.
#[test]
fn the_logs_stored_hashes_survive_the_move_into_runs_and_back() {
    #[derive(QueryableByName, PartialEq, Debug)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        idx: i64,
        #[diesel(sql_type = diesel::sql_types::Binary)]
        hash: Vec<u8>,
    }
    fn rows(conn: &mut DbConn) -> Vec<Row> {
        let read = "SELECT idx, hash FROM log_hashes ORDER BY idx";
        match conn {
            DbConn::Sqlite(c) => diesel::sql_query(read).load(c).unwrap(),
            DbConn::Pg(c) => diesel::sql_query(read).load(c).unwrap(),
        }
    }
    // Back to just before the move (later migrations reverted first).
    fn revert_runs(conn: &mut DbConn) {
        // The version of `2026-12-08-000015_log_hash_runs`.
        while step(conn, false) != "20261208000015" {}
    }
    let db = TestDb::new();
    let mut conn = connect(&db.url);
    migrate(&mut conn);
    revert_runs(&mut conn);
    // 70 hashes: two full runs and 6 in a third.
    let hash = |i: i64| -> Vec<u8> { (0..32).map(|k| (i * 7 + k * 13) as u8).collect() };
    let values: Vec<String> = (0..70)
        .map(|i| {
            let hex: String = hash(i).iter().map(|b| format!("{b:02x}")).collect();
            match conn {
                DbConn::Sqlite(_) => format!("({i}, x'{hex}')"),
                DbConn::Pg(_) => format!("({i}, '\\x{hex}'::bytea)"),
            }
        })
        .collect();
    let insert = format!(
        "INSERT INTO log_hashes (idx, hash) VALUES {}",
        values.join(", ")
    );
    match &mut conn {
        DbConn::Sqlite(c) => diesel::sql_query(&insert).execute(c).unwrap(),
        DbConn::Pg(c) => diesel::sql_query(&insert).execute(c).unwrap(),
    };
    let before = rows(&mut conn);
    assert_eq!(before.len(), 70);
    migrate(&mut conn);
    let indexes: Vec<i64> = (0..72).collect();
    let read = certrail::db::models::tlog::read_hashes(&mut conn, &indexes).unwrap();
    assert_eq!(read.len(), 70, "indexes 70 and 71 were never stored");
    for (idx, bytes) in &read {
        assert_eq!(bytes, &hash(*idx), "hash {idx}");
    }
    // Appending continues the third run; a gap is refused.
    let next = [(70u64, [9u8; 32]), (71, [8u8; 32])];
    certrail::db::models::tlog::insert_hashes(&mut conn, &next).unwrap();
    let read = certrail::db::models::tlog::read_hashes(&mut conn, &[69, 70, 71]).unwrap();
    assert_eq!(read[1..], [(70, vec![9u8; 32]), (71, vec![8u8; 32])]);
    assert_eq!(read[0], (69, hash(69)));
    assert!(certrail::db::models::tlog::insert_hashes(&mut conn, &[(80, [1u8; 32])]).is_err());
    revert_runs(&mut conn);
    let mut expected = before;
    expected.push(Row {
        idx: 70,
        hash: vec![9; 32],
    });
    expected.push(Row {
        idx: 71,
        hash: vec![8; 32],
    });
    assert_eq!(rows(&mut conn), expected);
}
