//! Patroli's persistence: one object-safe [`Store`] trait with two real backends, SQLite (default,
//! embedded, one file in a data directory) and PostgreSQL. [`open`] picks the backend from the
//! location it is given. Migrations live under `migrations/{sqlite,postgres}` and run on open; a
//! migration is never edited once committed, later work adds new ones.
//!
//! This crate knows SQL, never HTTP, and never decides who may do what: callers pass region scopes
//! in filters and check roles themselves.

mod backends;
mod db;
mod error;
mod intel;
mod sql;
mod store;
mod types;
mod workflow;

pub use backends::{PgStore, SQLITE_FILE, SqliteStore};
pub use error::{Result, StoreError};
pub use intel::*;
pub use sql::{PgBackend, SqlStore, SqliteBackend, content_hash};
pub use store::{Backend, Store};
pub use types::*;
pub use workflow::*;

pub use patroli_core::audit::{AuditBreak, AuditEntry, NewAuditEntry};

use std::sync::Arc;

/// Opens (creating and migrating if needed) the store at `location`:
/// `postgres://...` / `postgresql://...` for PostgreSQL, `sqlite://PATH` or a plain path for SQLite.
/// A plain path that is a directory (or has no extension) is a data directory holding `patroli.db`.
pub async fn open(location: &str) -> Result<Arc<dyn Store>> {
    let loc = location.trim();
    if loc.starts_with("postgres://") || loc.starts_with("postgresql://") {
        return Ok(Arc::new(PgStore::connect(loc).await?));
    }
    let path = loc
        .strip_prefix("sqlite://")
        .or_else(|| loc.strip_prefix("sqlite:"))
        .unwrap_or(loc);
    if path.is_empty() || path.contains("://") || path.starts_with(':') {
        return Err(StoreError::UnsupportedUrl(location.to_string()));
    }
    Ok(Arc::new(SqliteStore::open(path).await?))
}
