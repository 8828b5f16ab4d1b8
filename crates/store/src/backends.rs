//! Opening each backend: connection settings, pool size and migrations. Everything after opening is
//! shared (`sql.rs`).

use crate::db::{Db, Pool};
use crate::error::{Result, StoreError};
use crate::sql::{PgBackend, SqlStore, SqliteBackend};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The embedded backend: one database file, WAL journal.
pub type SqliteStore = SqlStore<SqliteBackend>;
/// The server backend.
pub type PgStore = SqlStore<PgBackend>;

/// File name of the database inside a data directory.
pub const SQLITE_FILE: &str = "patroli.db";

impl SqlStore<SqliteBackend> {
    /// Opens (creating if needed) the SQLite database at `path`: a data directory (holding
    /// `patroli.db`) or a file path ending in `.db`/`.sqlite`/`.sqlite3`. Runs migrations.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let file = sqlite_file(path.as_ref())?;
        let options = SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true)
            // WAL + synchronous=FULL: a commit returns only after its WAL frames are fsynced, so an
            // acknowledged write survives kill -9 and power loss alike.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-65536");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqlStore {
            db: Db::new(Pool::S(pool)),
            _backend: PhantomData,
        })
    }

    /// The underlying pool, for maintenance and tests that must reach past the trait.
    pub fn sqlite_pool(&self) -> &sqlx::SqlitePool {
        match &self.db.pool {
            Pool::S(p) => p,
            Pool::P(_) => unreachable!("a SqliteStore always holds a SQLite pool"),
        }
    }
}

impl SqlStore<PgBackend> {
    /// Connects to PostgreSQL at `url` and runs migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        // Prepared statements are cached per connection. With PostgreSQL's default plan cache
        // mode a statement first planned against an empty table keeps its generic plan (sequential
        // scans) as the table grows: ingest fell from 9k to 700 posts/s over 100k posts. Custom
        // plans are re-made from the current table size on every execution.
        let options =
            PgConnectOptions::from_str(url)?.options([("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(SqlStore {
            db: Db::new(Pool::P(pool)),
            _backend: PhantomData,
        })
    }

    /// The underlying pool, for maintenance and tests that must reach past the trait.
    pub fn pg_pool(&self) -> &sqlx::PgPool {
        match &self.db.pool {
            Pool::P(p) => p,
            Pool::S(_) => unreachable!("a PgStore always holds a PostgreSQL pool"),
        }
    }
}

/// A data directory (existing directory, or a path without a database extension) holds
/// `patroli.db`; anything else is the database file itself.
fn sqlite_file(path: &Path) -> Result<PathBuf> {
    let is_file_name = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("db" | "sqlite" | "sqlite3")
    );
    if path.is_dir() || !is_file_name {
        std::fs::create_dir_all(path).map_err(StoreError::Io)?;
        Ok(path.join(SQLITE_FILE))
    } else {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(StoreError::Io)?;
        }
        Ok(path.to_path_buf())
    }
}
