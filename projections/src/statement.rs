//! A statement a view runs for an event: its SQL and arguments, decided from the event alone.
//!
//! Views describe their writes instead of running them, so one description serves two ways of
//! running it: through sqlx (`execute`), one round trip to SQLite's thread per statement, or
//! on the connection's SQLite handle from the calling thread (`execute_direct`, see
//! `in_thread`), where a whole batch of events costs one round trip. The SQL is SQLite's; the
//! arguments are the types SQLite stores (money is an integer of minor units).

use std::borrow::Cow;

use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use sqlx::SqliteConnection;

/// One argument of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Integer(i64),
    Text(String),
}

/// SQL and its arguments, bound in order (`?1`, `?2`, … name them by position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

impl Statement {
    /// A statement with no arguments yet.
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Self {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    /// Adds the next argument.
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Runs it through sqlx on `conn`.
    pub async fn execute(&self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        let mut query = sqlx::query(&self.sql);
        for arg in &self.args {
            query = match arg {
                Value::Null => query.bind(None::<i64>),
                Value::Integer(number) => query.bind(*number),
                Value::Text(text) => query.bind(text.as_str()),
            };
        }
        query.execute(conn).await?;
        Ok(())
    }

    /// Runs it on `db` from this thread, through the connection's cache of prepared statements.
    pub fn execute_direct(&self, db: &rusqlite::Connection) -> rusqlite::Result<()> {
        db.prepare_cached(&self.sql)?
            .execute(rusqlite::params_from_iter(&self.args))?;
        Ok(())
    }
}

/// What a view's `statements` gives: the statements `write` appends, or its error.
pub(crate) fn collect(
    write: impl FnOnce(&mut Vec<Statement>) -> Result<(), crate::ProjectionError>,
) -> Option<Result<Vec<Statement>, crate::ProjectionError>> {
    let mut out = Vec::new();
    Some(write(&mut out).map(|()| out))
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(number) => ValueRef::Integer(*number),
            Value::Text(text) => ValueRef::Text(text.as_bytes()),
        }))
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Value::Integer(number)
    }
}

impl From<i32> for Value {
    fn from(number: i32) -> Self {
        Value::Integer(number.into())
    }
}

impl From<u32> for Value {
    fn from(number: u32) -> Self {
        Value::Integer(number.into())
    }
}

impl From<bool> for Value {
    /// As sqlx stores a boolean in SQLite: 1 or 0.
    fn from(flag: bool) -> Self {
        Value::Integer(flag.into())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<&String> for Value {
    fn from(text: &String) -> Self {
        Value::Text(text.clone())
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl<'a, T> From<&'a Option<T>> for Value
where
    &'a T: Into<Value>,
{
    fn from(value: &'a Option<T>) -> Self {
        value.as_ref().map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_keep_their_order_and_an_absent_one_is_null() {
        let statement = Statement::new("UPDATE t SET a = ?2, b = ?3 WHERE id = ?1")
            .bind("id-1")
            .bind(None::<i64>)
            .bind(Some(true));
        assert_eq!(
            statement.args,
            [Value::Text("id-1".into()), Value::Null, Value::Integer(1)]
        );
    }

    #[test]
    fn a_statement_runs_directly_with_its_arguments() {
        let db = rusqlite::Connection::open_in_memory().expect("an in-memory database");
        db.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, note TEXT)")
            .expect("created");
        Statement::new("INSERT INTO t (id, n, note) VALUES (?1, ?2, ?3)")
            .bind("a")
            .bind(7_i64)
            .bind(None::<String>)
            .execute_direct(&db)
            .expect("inserted");
        let row: (i64, Option<String>) = db
            .query_row("SELECT n, note FROM t WHERE id = 'a'", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .expect("the row");
        assert_eq!(row, (7, None));
    }
}
