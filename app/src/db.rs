//! One database handle for SQLite and PostgreSQL. Queries are written once in the SQL both
//! dialects share (`$1` placeholders, `ON CONFLICT`, `RETURNING`, integers for time and money);
//! the few places that differ ask [`Db::backend`].

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// ` FOR UPDATE` on PostgreSQL, empty on SQLite (whose write transaction already
    /// excludes every other writer).
    pub fn for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// Wakes the outbox worker right after a commit that published events, so delivery
    /// latency is not bounded below by the polling interval.
    outbox_wakeup: Arc<Notify>,
    /// Wakes this server's readers of the event log (the live price stream) right after the
    /// worker applied a delivery, instead of at their next poll.
    applied_wakeup: Arc<Notify>,
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The newest migration this binary carries for `backend` (a restored backup may not be
/// newer).
pub fn newest_migration(backend: Backend) -> i64 {
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATOR,
        Backend::Postgres => &POSTGRES_MIGRATOR,
    };
    migrator.iter().map(|migration| migration.version).max().unwrap_or(0)
}

impl Db {
    /// Connects to `database_url` (`sqlite://…` or `postgres://…`).
    pub async fn connect(database_url: &str, max_connections: u32) -> Result<Db, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            Backend::Postgres
        } else if database_url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(sqlx::Error::Configuration("DATABASE_URL must start with sqlite:// or postgres://".into()));
        };
        if backend == Backend::Sqlite {
            ensure_sqlite_parent_dir(database_url);
        }
        let options = AnyConnectOptions::from_str(database_url)?;
        // On SQLite one connection stays open even when the shop is idle: that open
        // connection is how `mercato restore` knows a server is running (server/src/backup.rs).
        let min_connections = if backend == Backend::Sqlite { 1 } else { 0 };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(min_connections.min(max_connections))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; the busy timeout makes a
                        // second process (a `mercato seed` next to a running server) wait
                        // instead of failing.
                        conn.execute(
                            "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=15000; \
                             PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Db { pool, backend, outbox_wakeup: Arc::new(Notify::new()), applied_wakeup: Arc::new(Notify::new()) })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that will write.
    ///
    /// **Rationale:** SQLite's default deferred transaction takes the write lock only at its
    /// first write, and a reader that then tries to write fails with `SQLITE_BUSY` instead of
    /// waiting. `BEGIN IMMEDIATE` takes the lock up front, so concurrent checkouts queue on
    /// the busy timeout and then see each other's committed stock.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// See [`Backend::for_update`].
    pub fn for_update(&self) -> &'static str {
        self.backend.for_update()
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATOR.run(&self.pool).await,
            Backend::Postgres => POSTGRES_MIGRATOR.run(&self.pool).await,
        }
    }

    pub fn wake_outbox(&self) {
        self.outbox_wakeup.notify_one();
    }

    pub fn outbox_wakeup(&self) -> Arc<Notify> {
        self.outbox_wakeup.clone()
    }

    pub fn wake_event_readers(&self) {
        self.applied_wakeup.notify_waiters();
    }

    pub fn applied_wakeup(&self) -> Arc<Notify> {
        self.applied_wakeup.clone()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn ensure_sqlite_parent_dir(database_url: &str) {
    let path = database_url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return;
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            let _ = std::fs::create_dir_all(parent);
        }
    }
}

/// `$from, $from+1, …`: `n` bind parameters, for an `IN (…)` list.
pub fn params(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `($from, …), (…)`: `n_rows` rows of `width` bind parameters, numbered from `from`, for a
/// multi-row `INSERT` or `VALUES` list. Columns of a `VALUES` list are `column1`, `column2`,
/// … on SQLite and on PostgreSQL alike.
pub fn value_rows(from: usize, n_rows: usize, width: usize) -> String {
    (0..n_rows).map(|row| format!("({})", params(from + row * width, width))).collect::<Vec<_>>().join(", ")
}
