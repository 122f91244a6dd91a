//! `mercato backup` and `mercato restore` for a SQLite shop.
//!
//! A backup is one self-contained SQLite file made with `VACUUM INTO` while the server keeps
//! running: it reads inside one transaction, so the copy is a consistent snapshot (every
//! order with its lines, events and points, or none of them) and writers are not blocked.
//! PostgreSQL has its own tools for this (`pg_dump`, continuous archiving), which these
//! commands point to instead of re-implementing.
//!
//! A restore checks the backup (`PRAGMA integrity_check`, a Mercato schema no newer than
//! this binary) before it touches anything, never writes into a database a server has
//! open, and replaces a database that holds data only when told to (`--force`).

use anyhow::{anyhow, bail, Context};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a finished backup or restore holds, for the operator's log line.
#[derive(Debug)]
pub struct Summary {
    pub path: PathBuf,
    pub bytes: u64,
    pub n_tables: i64,
    pub n_orders: i64,
    pub schema_version: i64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} bytes, {} tables, {} orders, schema version {}",
            self.path.display(),
            self.bytes,
            self.n_tables,
            self.n_orders,
            self.schema_version
        )
    }
}

const POSTGRES_HINT: &str = "DATABASE_URL is PostgreSQL: back it up with pg_dump (`pg_dump -Fc -f mercato.dump \"$DATABASE_URL\"`, \
     restored with pg_restore), or with continuous WAL archiving for point-in-time recovery; see README.md, \"Backups\"";

/// The database file of a `sqlite:` URL.
pub fn sqlite_path(database_url: &str) -> anyhow::Result<PathBuf> {
    if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        bail!("{POSTGRES_HINT}");
    }
    let Some(rest) = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:")) else {
        bail!("DATABASE_URL must start with sqlite:// or postgres://");
    };
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        bail!("DATABASE_URL names no database file");
    }
    Ok(PathBuf::from(path))
}

/// Writes a consistent copy of the running shop's SQLite database to `to`, which must not
/// exist yet.
pub async fn backup(database_url: &str, to: &Path) -> anyhow::Result<Summary> {
    let source = sqlite_path(database_url)?;
    if !source.exists() {
        bail!("{}: no such database", source.display());
    }
    if to.exists() {
        bail!("{}: already exists; a backup never overwrites a file", to.display());
    }
    // Written under a temporary name and renamed when checked, so a file with the final
    // name is always a complete backup.
    let partial = with_suffix(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    let mut connection = open(&source, false).await?;
    sqlx::query("VACUUM INTO $1")
        .bind(partial.to_str().ok_or_else(|| anyhow!("{}: not a UTF-8 path", partial.display()))?)
        .execute(&mut connection)
        .await
        .with_context(|| format!("VACUUM INTO {}", partial.display()))?;
    connection.close().await?;
    let checked = check(&partial).await;
    if let Err(error) = checked {
        let _ = std::fs::remove_file(&partial);
        return Err(error.context("the backup failed its check and was removed"));
    }
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, to)?;
    summary(to).await
}

/// Replaces the database of `database_url` by the backup `from`.
pub async fn restore(database_url: &str, from: &Path, force: bool) -> anyhow::Result<Summary> {
    let target = sqlite_path(database_url)?;
    if !from.is_file() {
        bail!("{}: no such backup file", from.display());
    }
    check(from)
        .await
        .with_context(|| format!("{}: not a usable Mercato backup; nothing was changed", from.display()))?;
    if target.exists() {
        let n_tables = {
            let mut connection = open(&target, false).await?;
            let n_tables = table_count(&mut connection).await?;
            connection.close().await?;
            n_tables
        };
        if n_tables > 0 && !force {
            bail!(
                "{}: holds a database ({n_tables} tables); pass --force to replace it by the backup",
                target.display()
            );
        }
        ensure_not_open(&target).await?;
    }
    // Copy next to the target, check the copy, then swap it in with a rename: the target is
    // either the old database or the whole backup, never half of one.
    let incoming = with_suffix(&target, ".restoring");
    let _ = std::fs::remove_file(&incoming);
    std::fs::copy(from, &incoming).with_context(|| format!("copy to {}", incoming.display()))?;
    std::fs::File::open(&incoming)?.sync_all()?;
    if let Err(error) = check(&incoming).await {
        let _ = std::fs::remove_file(&incoming);
        return Err(error.context("the copied backup failed its check; nothing was changed"));
    }
    // The old database's write-ahead log belongs to the old file: left next to the restored
    // one, SQLite would replay it into the backup.
    for stale in [with_suffix(&target, "-wal"), with_suffix(&target, "-shm")] {
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(anyhow!(error).context(format!("remove {}", stale.display()))),
        }
    }
    std::fs::rename(&incoming, &target)?;
    summary(&target).await
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

async fn open(path: &Path, create: bool) -> anyhow::Result<SqliteConnection> {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .busy_timeout(Duration::from_secs(15))
        .connect()
        .await
        .with_context(|| format!("open {}", path.display()))
}

async fn table_count(connection: &mut SqliteConnection) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetch_one(connection).await?)
}

/// The file is an intact SQLite database holding a Mercato schema this binary knows.
async fn check(path: &Path) -> anyhow::Result<()> {
    let mut connection = open(path, false).await?;
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut connection)
        .await
        .context("not a SQLite database")?;
    if verdict != ["ok"] {
        bail!("integrity check failed: {}", verdict.join("; "));
    }
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut connection)
        .await
        .context("no Mercato schema (no _sqlx_migrations table)")?;
    connection.close().await?;
    let known = app::db::newest_migration(app::db::Backend::Sqlite);
    match newest {
        None => bail!("no migration was ever applied"),
        Some(version) if version > known => {
            bail!("made by a newer Mercato (schema version {version}; this binary knows up to {known})")
        }
        Some(_) => Ok(()),
    }
}

/// Refuses when another process (a running server) has the database open.
///
/// **Rationale:** leaving WAL mode needs the only connection to the database, so a server
/// that has it open (its pool always keeps one, see `Db::connect`) makes the switch fail at
/// once (no busy wait). A process that merely read the file a moment ago (a `mercato`
/// command, a checkpoint after a crash) lets go within milliseconds, so the switch is tried
/// for a few seconds before refusing; a server never lets go. The switch is harmless here:
/// the file is about to be replaced, and the server turns WAL back on at start.
async fn ensure_not_open(path: &Path) -> anyhow::Result<()> {
    const PATIENCE: Duration = Duration::from_secs(3);
    let started = std::time::Instant::now();
    // A connection that cannot even open counts as "in use" too: it is retried the same way.
    while !leave_wal(path).await.unwrap_or(false) {
        if started.elapsed() >= PATIENCE {
            bail!(
                "{}: a running server has this database open; stop it first (restoring under a live server would corrupt it)",
                path.display()
            )
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Whether the database could be switched to rollback-journal mode, i.e. nobody else has it open.
async fn leave_wal(path: &Path) -> Result<bool, sqlx::Error> {
    let mut connection = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::ZERO)
        .journal_mode(SqliteJournalMode::Delete)
        .connect()
        .await?;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut connection).await?;
    connection.close().await?;
    Ok(mode.eq_ignore_ascii_case("delete"))
}

async fn summary(path: &Path) -> anyhow::Result<Summary> {
    let mut connection = open(path, false).await?;
    let n_tables = table_count(&mut connection).await?;
    let n_orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders").fetch_one(&mut connection).await?;
    let schema_version: i64 =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&mut connection).await?;
    connection.close().await?;
    Ok(Summary { path: path.to_path_buf(), bytes: std::fs::metadata(path)?.len(), n_tables, n_orders, schema_version })
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn the_database_file_is_read_from_the_url() {
        assert_eq!(sqlite_path("sqlite://data/mercato.db?mode=rwc").unwrap().to_str(), Some("data/mercato.db"));
        assert_eq!(sqlite_path("sqlite:///tmp/x.db").unwrap().to_str(), Some("/tmp/x.db"));
        assert!(sqlite_path("sqlite::memory:").is_err());
    }

    #[test]
    fn postgres_users_are_pointed_to_pg_dump() {
        let error = sqlite_path("postgres://u@h/db").unwrap_err().to_string();
        assert!(error.contains("pg_dump") && error.contains("point-in-time"), "{error}");
    }
}
