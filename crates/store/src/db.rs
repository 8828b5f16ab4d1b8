//! A thin layer that lets one body of SQL run on both backends.
//!
//! The two schemas differ in column types (TEXT uuids and RFC 3339 text in SQLite, `uuid` and
//! `timestamptz` in PostgreSQL), so values travel as [`Arg`] and are encoded per backend when bound,
//! and rows are read through [`Row`], which decodes per backend. SQL text uses `$1, $2, ...`
//! placeholders, which both drivers accept. Where the dialects really differ (full-text search,
//! JSON operators, locks) the caller branches on [`Db::is_pg`]. Everything here is crate-private.

use crate::error::{Result, StoreError};
use patroli_core::audit::format_time;
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{AssertSqlSafe, PgPool, Postgres, Row as _, Sqlite, SqlitePool, Transaction};
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// One bound value. Optional variants bind a typed NULL, which PostgreSQL needs.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(bool),
    Time(Option<OffsetDateTime>),
    /// JSON already serialized: TEXT in SQLite, `jsonb` in PostgreSQL (the SQL casts `$n::jsonb`).
    Json(String),
}

impl Arg {
    pub fn uuid(u: impl Into<Uuid>) -> Arg {
        Arg::Uuid(Some(u.into()))
    }
    pub fn text(s: impl Into<String>) -> Arg {
        Arg::Text(Some(s.into()))
    }
    pub fn time(t: OffsetDateTime) -> Arg {
        Arg::Time(Some(t))
    }
}

type SqliteQuery = sqlx::query::Query<'static, Sqlite, SqliteArguments>;
type PgQuery = sqlx::query::Query<'static, Postgres, PgArguments>;

fn bind_sqlite(mut q: SqliteQuery, args: Vec<Arg>) -> SqliteQuery {
    for a in args {
        q = match a {
            Arg::Uuid(u) => q.bind(u.map(|u| u.hyphenated().to_string())),
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
            Arg::Real(f) => q.bind(f),
            Arg::Bool(b) => q.bind(b),
            Arg::Time(t) => q.bind(t.map(format_time)),
            Arg::Json(j) => q.bind(j),
        };
    }
    q
}

fn bind_pg(mut q: PgQuery, args: Vec<Arg>) -> PgQuery {
    for a in args {
        q = match a {
            Arg::Uuid(u) => q.bind(u),
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
            Arg::Real(f) => q.bind(f),
            Arg::Bool(b) => q.bind(b),
            Arg::Time(t) => q.bind(t.map(patroli_core::audit::truncate_time)),
            Arg::Json(j) => q.bind(j),
        };
    }
    q
}

/// A result row from either backend.
pub(crate) enum Row {
    S(SqliteRow),
    P(PgRow),
}

fn corrupt(column: &'static str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        column,
        detail: detail.to_string(),
    }
}

impl Row {
    pub fn opt_text(&self, col: &'static str) -> Result<Option<String>> {
        Ok(match self {
            Row::S(r) => r.try_get(col)?,
            Row::P(r) => r.try_get(col)?,
        })
    }
    pub fn text(&self, col: &'static str) -> Result<String> {
        self.opt_text(col)?
            .ok_or_else(|| corrupt(col, "unexpected NULL"))
    }
    pub fn opt_i64(&self, col: &'static str) -> Result<Option<i64>> {
        Ok(match self {
            Row::S(r) => r.try_get(col)?,
            Row::P(r) => r.try_get(col)?,
        })
    }
    pub fn i64(&self, col: &'static str) -> Result<i64> {
        self.opt_i64(col)?
            .ok_or_else(|| corrupt(col, "unexpected NULL"))
    }
    pub fn opt_f64(&self, col: &'static str) -> Result<Option<f64>> {
        Ok(match self {
            Row::S(r) => r.try_get(col)?,
            Row::P(r) => r.try_get(col)?,
        })
    }
    pub fn f64(&self, col: &'static str) -> Result<f64> {
        self.opt_f64(col)?
            .ok_or_else(|| corrupt(col, "unexpected NULL"))
    }
    pub fn bool(&self, col: &'static str) -> Result<bool> {
        Ok(match self {
            Row::S(r) => r.try_get(col)?,
            Row::P(r) => r.try_get(col)?,
        })
    }
    pub fn opt_uuid(&self, col: &'static str) -> Result<Option<Uuid>> {
        match self {
            Row::S(r) => {
                let s: Option<String> = r.try_get(col)?;
                s.map(|s| Uuid::parse_str(&s).map_err(|e| corrupt(col, e)))
                    .transpose()
            }
            Row::P(r) => Ok(r.try_get(col)?),
        }
    }
    pub fn uuid(&self, col: &'static str) -> Result<Uuid> {
        self.opt_uuid(col)?
            .ok_or_else(|| corrupt(col, "unexpected NULL"))
    }
    pub fn opt_time(&self, col: &'static str) -> Result<Option<OffsetDateTime>> {
        match self {
            Row::S(r) => {
                let s: Option<String> = r.try_get(col)?;
                s.map(|s| OffsetDateTime::parse(&s, &Rfc3339).map_err(|e| corrupt(col, e)))
                    .transpose()
            }
            Row::P(r) => Ok(r.try_get(col)?),
        }
    }
    pub fn time(&self, col: &'static str) -> Result<OffsetDateTime> {
        self.opt_time(col)?
            .ok_or_else(|| corrupt(col, "unexpected NULL"))
    }
    /// A JSON column (TEXT in SQLite, `jsonb` in PostgreSQL).
    pub fn json<T: DeserializeOwned>(&self, col: &'static str) -> Result<T> {
        match self {
            Row::S(r) => {
                let s: String = r.try_get(col)?;
                serde_json::from_str(&s).map_err(|e| corrupt(col, e))
            }
            Row::P(r) => {
                let v: sqlx::types::Json<T> = r.try_get(col)?;
                Ok(v.0)
            }
        }
    }
    /// A string-typed enum column.
    pub fn parse<T: std::str::FromStr>(&self, col: &'static str) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        let s = self.text(col)?;
        s.parse().map_err(|e: T::Err| corrupt(col, e))
    }
}

pub(crate) enum Pool {
    S(SqlitePool),
    P(PgPool),
}

/// The pool plus what it takes to write safely to it.
pub(crate) struct Db {
    pub pool: Pool,
    /// SQLite allows one writer at a time. Queueing writers here (rather than in SQLite's busy
    /// handler, which polls) keeps latency even under many concurrent requests; `BEGIN IMMEDIATE`
    /// plus the busy timeout still covers other processes (the CLI) writing to the same file.
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

macro_rules! run_query {
    ($target:expr, $sql:expr, $args:expr, $method:ident, sqlite) => {
        bind_sqlite(sqlx::query(AssertSqlSafe($sql.to_owned())), $args)
            .$method($target)
            .await
    };
    ($target:expr, $sql:expr, $args:expr, $method:ident, pg) => {
        bind_pg(sqlx::query(AssertSqlSafe($sql.to_owned())), $args)
            .$method($target)
            .await
    };
}

impl Db {
    pub fn new(pool: Pool) -> Self {
        Db {
            pool,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    pub fn is_pg(&self) -> bool {
        matches!(self.pool, Pool::P(_))
    }

    pub async fn exec(&self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        Ok(match &self.pool {
            Pool::S(p) => run_query!(p, sql, args, execute, sqlite)?.rows_affected(),
            Pool::P(p) => run_query!(p, sql, args, execute, pg)?.rows_affected(),
        })
    }

    pub async fn all(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<Row>> {
        Ok(match &self.pool {
            Pool::S(p) => run_query!(p, sql, args, fetch_all, sqlite)?
                .into_iter()
                .map(Row::S)
                .collect(),
            Pool::P(p) => run_query!(p, sql, args, fetch_all, pg)?
                .into_iter()
                .map(Row::P)
                .collect(),
        })
    }

    pub async fn opt(&self, sql: &str, args: Vec<Arg>) -> Result<Option<Row>> {
        Ok(match &self.pool {
            Pool::S(p) => run_query!(p, sql, args, fetch_optional, sqlite)?.map(Row::S),
            Pool::P(p) => run_query!(p, sql, args, fetch_optional, pg)?.map(Row::P),
        })
    }

    /// Starts a write transaction. In SQLite it holds the write lock from the start (`BEGIN
    /// IMMEDIATE`), so a read-then-write inside it can never fail with a stale snapshot.
    pub async fn begin(&self) -> Result<Tx> {
        match &self.pool {
            Pool::S(p) => {
                let guard = self.write_lock.clone().lock_owned().await;
                let tx = p.begin_with("BEGIN IMMEDIATE").await?;
                Ok(Tx::S(tx, guard))
            }
            Pool::P(p) => Ok(Tx::P(p.begin().await?)),
        }
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::S(p) => p.close().await,
            Pool::P(p) => p.close().await,
        }
    }
}

pub(crate) enum Tx {
    S(
        Transaction<'static, Sqlite>,
        tokio::sync::OwnedMutexGuard<()>,
    ),
    P(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn is_pg(&self) -> bool {
        matches!(self, Tx::P(_))
    }

    pub async fn exec(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        Ok(match self {
            Tx::S(t, _) => run_query!(&mut **t, sql, args, execute, sqlite)?.rows_affected(),
            Tx::P(t) => run_query!(&mut **t, sql, args, execute, pg)?.rows_affected(),
        })
    }

    pub async fn all(&mut self, sql: &str, args: Vec<Arg>) -> Result<Vec<Row>> {
        Ok(match self {
            Tx::S(t, _) => run_query!(&mut **t, sql, args, fetch_all, sqlite)?
                .into_iter()
                .map(Row::S)
                .collect(),
            Tx::P(t) => run_query!(&mut **t, sql, args, fetch_all, pg)?
                .into_iter()
                .map(Row::P)
                .collect(),
        })
    }

    pub async fn opt(&mut self, sql: &str, args: Vec<Arg>) -> Result<Option<Row>> {
        Ok(match self {
            Tx::S(t, _) => run_query!(&mut **t, sql, args, fetch_optional, sqlite)?.map(Row::S),
            Tx::P(t) => run_query!(&mut **t, sql, args, fetch_optional, pg)?.map(Row::P),
        })
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::S(t, guard) => {
                t.commit().await?;
                drop(guard);
            }
            Tx::P(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Builds SQL with numbered placeholders and its arguments side by side.
pub(crate) struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
    pg: bool,
}

impl Sql {
    pub fn new(pg: bool, start: &str) -> Self {
        Sql {
            text: start.to_string(),
            args: Vec::new(),
            pg,
        }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder for `a`. SQLite gets anonymous `?`: it resolves each named or numbered
    /// parameter with a linear scan, which made a 3,000-parameter multi-row INSERT quadratic.
    pub fn arg(&mut self, a: Arg) -> &mut Self {
        let is_json = matches!(a, Arg::Json(_));
        self.args.push(a);
        if self.pg {
            self.text.push('$');
            self.text.push_str(&self.args.len().to_string());
            if is_json {
                self.text.push_str("::jsonb");
            }
        } else {
            self.text.push('?');
        }
        self
    }

    /// ` AND (col = X OR col starts with "X.")`: a region code and everything inside it.
    pub fn region_within(&mut self, col: &str, code: &str) -> &mut Self {
        self.push(" AND (").push(col).push(" = ");
        self.arg(Arg::text(code));
        self.push(" OR substr(").push(col).push(", 1, ");
        self.push(&(code.chars().count() + 1).to_string())
            .push(") = ");
        self.arg(Arg::text(format!("{code}.")));
        self.push(")")
    }
}

/// Most rows one multi-row INSERT carries; keeps the parameter count far under both backends'
/// limits (SQLite 32,766, PostgreSQL 65,535) and the statement text reusable across batches.
pub(crate) const ROWS_PER_INSERT: usize = 250;

/// Inserts many rows: `head` is `INSERT INTO table (cols)`, `suffix` follows (e.g. `ON CONFLICT`).
/// SQLite gets multi-row `VALUES` in chunks. PostgreSQL gets one `INSERT ... SELECT FROM UNNEST`
/// with one array per column: a handful of parameters however many rows, so parsing and planning
/// stay trivial (multi-row VALUES with thousands of parameters made it plan for milliseconds).
pub(crate) async fn insert_rows(
    tx: &mut Tx,
    head: &str,
    rows: Vec<Vec<Arg>>,
    suffix: &str,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    if tx.is_pg() {
        return insert_rows_unnest(tx, head, rows, suffix).await;
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut q = Sql::new(false, head);
        q.push(" VALUES ");
        for (i, row) in rows.by_ref().take(ROWS_PER_INSERT).enumerate() {
            if i > 0 {
                q.push(",");
            }
            q.push("(");
            for (j, a) in row.into_iter().enumerate() {
                if j > 0 {
                    q.push(",");
                }
                q.arg(a);
            }
            q.push(")");
        }
        q.push(suffix);
        tx.exec(&q.text, q.args).await?;
    }
    Ok(())
}

/// One column of an UNNEST insert.
enum Column {
    Uuid(Vec<Option<Uuid>>),
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Bool(Vec<bool>),
    Time(Vec<Option<OffsetDateTime>>),
    Json(Vec<String>),
}

impl Column {
    fn for_arg(a: &Arg, n: usize) -> Column {
        match a {
            Arg::Uuid(_) => Column::Uuid(Vec::with_capacity(n)),
            Arg::Text(_) => Column::Text(Vec::with_capacity(n)),
            Arg::Int(_) => Column::Int(Vec::with_capacity(n)),
            Arg::Real(_) => Column::Real(Vec::with_capacity(n)),
            Arg::Bool(_) => Column::Bool(Vec::with_capacity(n)),
            Arg::Time(_) => Column::Time(Vec::with_capacity(n)),
            Arg::Json(_) => Column::Json(Vec::with_capacity(n)),
        }
    }

    fn push(&mut self, a: Arg) -> Result<()> {
        match (self, a) {
            (Column::Uuid(v), Arg::Uuid(x)) => v.push(x),
            (Column::Text(v), Arg::Text(x)) => v.push(x),
            (Column::Int(v), Arg::Int(x)) => v.push(x),
            (Column::Real(v), Arg::Real(x)) => v.push(x),
            (Column::Bool(v), Arg::Bool(x)) => v.push(x),
            (Column::Time(v), Arg::Time(x)) => v.push(x.map(patroli_core::audit::truncate_time)),
            (Column::Json(v), Arg::Json(x)) => v.push(x),
            _ => {
                return Err(StoreError::Invalid(
                    "rows of one insert disagree on a column's type".into(),
                ));
            }
        }
        Ok(())
    }

    /// The array type to cast the parameter to, and the element cast in the select list.
    fn sql_types(&self) -> (&'static str, &'static str) {
        match self {
            Column::Uuid(_) => ("uuid[]", ""),
            Column::Text(_) => ("text[]", ""),
            Column::Int(_) => ("int8[]", ""),
            Column::Real(_) => ("float8[]", ""),
            Column::Bool(_) => ("bool[]", ""),
            Column::Time(_) => ("timestamptz[]", ""),
            Column::Json(_) => ("text[]", "::jsonb"),
        }
    }

    fn bind(self, q: PgQuery) -> PgQuery {
        match self {
            Column::Uuid(v) => q.bind(v),
            Column::Text(v) => q.bind(v),
            Column::Int(v) => q.bind(v),
            Column::Real(v) => q.bind(v),
            Column::Bool(v) => q.bind(v),
            Column::Time(v) => q.bind(v),
            Column::Json(v) => q.bind(v),
        }
    }
}

async fn insert_rows_unnest(
    tx: &mut Tx,
    head: &str,
    rows: Vec<Vec<Arg>>,
    suffix: &str,
) -> Result<()> {
    let Tx::P(t) = tx else {
        return Err(StoreError::Invalid("UNNEST insert needs PostgreSQL".into()));
    };
    let n = rows.len();
    let mut columns: Vec<Column> = rows[0].iter().map(|a| Column::for_arg(a, n)).collect();
    for row in rows {
        if row.len() != columns.len() {
            return Err(StoreError::Invalid(
                "rows of one insert differ in length".into(),
            ));
        }
        for (c, a) in columns.iter_mut().zip(row) {
            c.push(a)?;
        }
    }
    let mut select = Vec::with_capacity(columns.len());
    let mut arrays = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let (array, cast) = c.sql_types();
        select.push(format!("c{i}{cast}"));
        arrays.push(format!("${}::{array}", i + 1));
    }
    let names: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
    let sql = format!(
        "{head} SELECT {} FROM UNNEST({}) AS u({}){suffix}",
        select.join(", "),
        arrays.join(", "),
        names.join(", ")
    );
    let mut q: PgQuery = sqlx::query(AssertSqlSafe(sql));
    for c in columns {
        q = c.bind(q);
    }
    q.execute(&mut **t).await?;
    Ok(())
}
