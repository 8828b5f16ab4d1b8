//! The store's error kinds. Messages name what went wrong in domain terms; database detail stays in
//! the `source` chain for logs and never reaches a user-facing message.

/// Result alias for store calls.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `open` was given something that is neither a SQLite path/URL nor a PostgreSQL URL.
    #[error(
        "unsupported database location `{0}` (expected a path, sqlite://... or postgres://...)"
    )]
    UnsupportedUrl(String),
    /// The requested row does not exist (unknown id, or a unique key lookup missed).
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// A unique key is already taken (username, platform name, token hash...).
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    /// The caller passed something the store refuses (e.g. empty external id, token with no owner).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A stored value could not be read back (unknown enum string, bad JSON, bad uuid).
    #[error("corrupt stored value in {column}: {detail}")]
    Corrupt {
        column: &'static str,
        detail: String,
    },
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("cannot create data directory")]
    Io(#[source] std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound { what: "row" },
            _ => StoreError::Database(e),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}

impl StoreError {
    /// True when a unique or primary key constraint rejected the write.
    pub fn is_conflict(&self) -> bool {
        match self {
            StoreError::Conflict { .. } => true,
            StoreError::Database(sqlx::Error::Database(d)) => d.is_unique_violation(),
            _ => false,
        }
    }
}
