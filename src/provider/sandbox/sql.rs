//! One statement on the sandbox's connection, whichever database holds it: the node's file,
//! through SQLite called directly on the calling thread (one prepared statement, no hop to
//! another thread), or the shared PostgreSQL, through sqlx.
//!
//! Both take the same SQL, with `$n` placeholders. SQLite reads `$1` as a parameter named
//! "$1", numbered by where it first appears, so each parameter is bound by the number in its
//! name, as sqlx does, and a statement may use `$2` before `$1` or `$1` twice.

use std::borrow::Cow;

use rusqlite::types::{ToSql, ToSqlOutput};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Row as _};

use super::store::SandboxConn;
use crate::provider::StorageError;

/// A value bound to a `$n` placeholder: text or an integer, either possibly NULL.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(Some(Cow::Borrowed(text)))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Arg::Text(Some(Cow::Borrowed(text)))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(text: Option<&'a str>) -> Self {
        Arg::Text(text.map(Cow::Borrowed))
    }
}

impl From<String> for Arg<'_> {
    fn from(text: String) -> Self {
        Arg::Text(Some(Cow::Owned(text)))
    }
}

impl From<i64> for Arg<'_> {
    fn from(number: i64) -> Self {
        Arg::Int(Some(number))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(number: Option<i64>) -> Self {
        Arg::Int(number)
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Arg::Text(Some(text)) => Ok(ToSqlOutput::from(text.as_ref())),
            Arg::Int(Some(number)) => Ok(ToSqlOutput::from(*number)),
            Arg::Text(None) | Arg::Int(None) => Ok(ToSqlOutput::from(rusqlite::types::Null)),
        }
    }
}

/// A column's value as both databases decode it.
pub trait Column:
    Sized
    + Send
    + Unpin
    + rusqlite::types::FromSql
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
{
}
impl Column for String {}
impl Column for i64 {}
impl Column for Option<String> {}
impl Column for Option<i64> {}

/// A row a statement answers, decoded from either database.
pub trait Row: Sized + Send + Unpin {
    fn from_postgres(row: &PgRow) -> Result<Self, sqlx::Error>;
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// Rows of one to four columns, as tuples.
macro_rules! tuple_rows {
    ($($column:ident $index:tt),+) => {
        impl<$($column: Column),+> Row for ($($column,)+) {
            fn from_postgres(row: &PgRow) -> Result<Self, sqlx::Error> {
                Ok(($(row.try_get::<$column, _>($index)?,)+))
            }
            fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $column>($index)?,)+))
            }
        }
    };
}
tuple_rows!(A 0);
tuple_rows!(A 0, B 1);
tuple_rows!(A 0, B 1, C 2);
tuple_rows!(A 0, B 1, C 2, D 3);

impl SandboxConn {
    /// Runs a statement that answers no rows; returns how many rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StorageError> {
        match self.side()? {
            Side::Sqlite(db) => {
                let mut statement = prepare(db, sql, args)?;
                Ok(statement.raw_execute()? as u64)
            }
            Side::Postgres(db) => Ok(postgres(sql, args).execute(db).await?.rows_affected()),
        }
    }

    /// Every row a statement answers, in its order.
    pub async fn all<R: Row>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<R>, StorageError> {
        match self.side()? {
            Side::Sqlite(db) => all_on_sqlite(db, sql, args),
            Side::Postgres(db) => {
                let rows = postgres(sql, args).fetch_all(db).await?;
                Ok(rows
                    .iter()
                    .map(R::from_postgres)
                    .collect::<Result<_, _>>()?)
            }
        }
    }

    /// The first row a statement answers, if any.
    pub async fn optional<R: Row>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<R>, StorageError> {
        match self.side()? {
            Side::Sqlite(db) => {
                let mut statement = prepare(db, sql, args)?;
                let mut rows = statement.raw_query();
                Ok(rows.next()?.map(R::from_sqlite).transpose()?)
            }
            Side::Postgres(db) => Ok(postgres(sql, args)
                .fetch_optional(db)
                .await?
                .as_ref()
                .map(R::from_postgres)
                .transpose()?),
        }
    }

    /// The one value of the first row a statement answers, if any.
    pub async fn value<T: Column>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<T>, StorageError> {
        Ok(self
            .optional::<(T,)>(sql, args)
            .await?
            .map(|(value,)| value))
    }

    /// Every row's one value.
    pub async fn values<T: Column>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<T>, StorageError> {
        let rows = self.all::<(T,)>(sql, args).await?;
        Ok(rows.into_iter().map(|(value,)| value).collect())
    }
}

impl SandboxConn {
    /// Every row's one value, for a statement that may read many rows: on the node's file it
    /// runs on a blocking thread, so that no async worker waits for the scan (on PostgreSQL
    /// the wait is an await already).
    pub async fn values_of_a_scan<T: Column + 'static>(
        self,
        sql: &'static str,
        args: Vec<Arg<'static>>,
    ) -> Result<Vec<T>, StorageError> {
        match self {
            SandboxConn::NodeRead(db) => tokio::task::spawn_blocking(move || {
                let rows = all_on_sqlite::<(T,)>(&db, sql, &args)?;
                Ok(rows.into_iter().map(|(value,)| value).collect())
            })
            .await
            .map_err(|error| {
                StorageError::Unavailable(format!("the sandbox's scan stopped: {error}"))
            })?,
            mut conn => conn.values(sql, &args).await,
        }
    }
}

fn all_on_sqlite<R: Row>(
    db: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<Vec<R>, StorageError> {
    let mut statement = prepare(db, sql, args)?;
    let mut rows = statement.raw_query();
    let mut all = Vec::new();
    while let Some(row) = rows.next()? {
        all.push(R::from_sqlite(row)?);
    }
    Ok(all)
}

/// The connection under a [`SandboxConn`], for one statement.
pub(super) enum Side<'c> {
    /// Mutable only so that the future holding it stays `Send` (a `&Connection` is not).
    Sqlite(&'c mut rusqlite::Connection),
    Postgres(&'c mut PgConnection),
}

/// `sql` prepared (once per connection) on SQLite, with each `$n` bound to `args[n - 1]`.
fn prepare<'c>(
    db: &'c rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut statement = db.prepare_cached(sql)?;
    for index in 1..=statement.parameter_count() {
        let name = statement.parameter_name(index).unwrap_or_default();
        let arg = name
            .strip_prefix('$')
            .and_then(|number| number.parse::<usize>().ok())
            .and_then(|number| args.get(number.checked_sub(1)?))
            .ok_or_else(|| rusqlite::Error::InvalidParameterName(name.to_owned()))?;
        statement.raw_bind_parameter(index, arg)?;
    }
    Ok(statement)
}

/// `sql` with `args` bound in order, for PostgreSQL.
fn postgres<'q>(
    sql: &'q str,
    args: &'q [Arg<'_>],
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    args.iter().fold(sqlx::query(sql), |query, arg| match arg {
        Arg::Text(text) => query.bind(text.as_deref()),
        Arg::Int(number) => query.bind(*number),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::Mutex;

    use super::*;

    async fn in_memory() -> SandboxConn {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (a TEXT, b INTEGER)")
            .unwrap();
        SandboxConn::NodeRead(Arc::new(Mutex::new(db)).lock_owned().await)
    }

    #[tokio::test]
    async fn each_placeholder_takes_the_argument_its_number_names_wherever_it_stands() {
        let mut conn = in_memory().await;
        let changed = conn
            .execute(
                "INSERT INTO t (b, a) VALUES ($2, $1), ($2 + 1, $1 || '!')",
                &["x".into(), 41.into()],
            )
            .await
            .unwrap();
        assert_eq!(changed, 2);
        let rows: Vec<(String, i64)> = conn
            .all("SELECT a, b FROM t ORDER BY b", &[])
            .await
            .unwrap();
        assert_eq!(rows, [("x".to_owned(), 41), ("x!".to_owned(), 42)]);
    }

    #[tokio::test]
    async fn nulls_are_bound_and_read_back_as_none() {
        let mut conn = in_memory().await;
        conn.execute(
            "INSERT INTO t (a, b) VALUES ($1, $2)",
            &[None::<&str>.into(), None::<i64>.into()],
        )
        .await
        .unwrap();
        let row: Option<(Option<String>, Option<i64>)> =
            conn.optional("SELECT a, b FROM t", &[]).await.unwrap();
        assert_eq!(row, Some((None, None)));
        let missing: Option<String> = conn
            .value("SELECT a FROM t WHERE b = $1", &[7.into()])
            .await
            .unwrap();
        assert_eq!(missing, None);
    }

    #[tokio::test]
    async fn a_placeholder_without_its_argument_is_refused_not_bound_to_null() {
        let mut conn = in_memory().await;
        let refused = conn
            .execute(
                "INSERT INTO t (a, b) VALUES ($1, $3)",
                &["x".into(), 1.into()],
            )
            .await;
        assert!(
            matches!(refused, Err(StorageError::Sqlite(rusqlite::Error::InvalidParameterName(ref name))) if name == "$3"),
            "{refused:?}"
        );
        let rows: Vec<i64> = conn.values("SELECT count(*) FROM t", &[]).await.unwrap();
        assert_eq!(rows, [0]);
    }
}
