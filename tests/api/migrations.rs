//! The two migration sets stay in step.

use std::collections::BTreeSet;
use std::path::Path;

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

#[test]
fn migrations_create_the_same_tables_and_columns() {
    // Compare the column lists of each CREATE TABLE, ignoring type names.
    fn columns(backend: &str) -> Vec<String> {
        let mut out = Vec::new();
        for name in folders(backend) {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend)
                .join(name)
                .join("up.sql");
            for line in std::fs::read_to_string(path).unwrap().lines() {
                // A step one backend needs and the other does not (SQLite rebuilding a table
                // to change a CHECK constraint) says so on each of its lines.
                if line.ends_with("-- sqlite only") || line.ends_with("-- postgres only") {
                    continue;
                }
                let line = line.trim();
                if line.starts_with("CREATE") || line.starts_with("ALTER") {
                    out.push(line.to_string());
                } else if let Some(first) = line.split_whitespace().next() {
                    if first.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        && !first.is_empty()
                    {
                        out.push(first.to_string());
                    }
                }
            }
        }
        out
    }
    assert_eq!(columns("sqlite"), columns("postgres"));
}
