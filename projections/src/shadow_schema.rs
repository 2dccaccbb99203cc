//! The schema of a view's shadow copies, taken from the live table's own `CREATE` statements so
//! a shadow always has the columns, constraints and indexes the migrations gave the view.
//!
//! Two shadows exist during a rebuild: `temp.<table>` (private to the rebuilding connection;
//! SQLite resolves an unqualified name to TEMP first, so the unchanged projection code writes
//! there) and `main.<table>__rebuild` (the rows copied in, renamed over the live table by the
//! swap). A snapshot file (`as_of`) holds the same tables under their own names. An index cannot be renamed in SQLite and its name must be unique in a schema, so the
//! indexes of `<table>__rebuild` alternate between `<index>` and `<index>__rebuild`: after a
//! swap a view's indexes carry one of those two names. A migration that drops an index of a
//! view therefore drops both (`DROP INDEX IF EXISTS`).

use sqlx::SqliteConnection;

/// The suffix of a view's shadow in the main database (and of alternate index names).
pub const SUFFIX: &str = "__rebuild";

/// A table's `CREATE TABLE` and `CREATE INDEX` statements, as stored by SQLite.
#[derive(Debug, Clone)]
pub struct TableSchema {
    pub table: &'static str,
    create_table: String,
    /// (index name, its `CREATE INDEX` statement); automatic indexes are left out: the
    /// constraints in `create_table` make them again.
    indexes: Vec<(String, String)>,
    /// The table's primary key when it is one `NOT NULL` text column (its ids), the order rows
    /// are copied in: the key's own index then grows at its end instead of at random places.
    pub text_key: Option<String>,
}

impl TableSchema {
    /// Reads the live schema of `table` in the main database.
    pub async fn read(
        conn: &mut SqliteConnection,
        table: &'static str,
    ) -> Result<Self, sqlx::Error> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT type, name, sql FROM main.sqlite_master
              WHERE tbl_name = ? AND sql IS NOT NULL AND type IN ('table', 'index')
              ORDER BY type DESC, name",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await?;
        let mut create_table = None;
        let mut indexes = Vec::new();
        for (kind, name, sql) in rows {
            if kind == "table" {
                create_table = Some(sql);
            } else {
                indexes.push((name, sql));
            }
        }
        let create_table = create_table.ok_or_else(|| {
            sqlx::Error::Protocol(format!("the view table {table} does not exist"))
        })?;
        let key: Vec<(String, String, bool)> = sqlx::query_as(
            "SELECT name, type, \"notnull\" FROM pragma_table_info(?1, 'main') WHERE pk > 0",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await?;
        let text_key = match key.as_slice() {
            [(name, kind, true)] if kind.eq_ignore_ascii_case("text") => Some(name.clone()),
            _ => None,
        };
        Ok(Self {
            table,
            create_table,
            indexes,
            text_key,
        })
    }

    /// Statements creating an empty copy of the table and all its indexes, same names, in
    /// `schema` (`main` for a snapshot file, which is queried once filled).
    pub fn create_in(&self, schema: &str) -> Vec<String> {
        let mut statements = vec![retarget_table(
            &self.create_table,
            &format!("{schema}.\"{}\"", self.table),
        )];
        for (name, sql) in &self.indexes {
            statements.push(retarget_index(
                sql,
                &format!("{schema}.\"{name}\""),
                self.table,
            ));
        }
        statements
    }

    /// Statements creating the empty TEMP shadow a rebuild fills: the table, the indexes its
    /// constraints imply (a primary key or `UNIQUE`) and its unique indexes, which decide what
    /// an `INSERT … ON CONFLICT` does, but not the others. Every view's statement finds its row
    /// by the table's key, so the others only slowed the fill: each event's row landed at a
    /// random place in each of them (a customer, a status), a page read and rewritten per
    /// index. `main.<table>__rebuild` gets them all once its rows are copied in.
    pub fn create_for_fill(&self) -> Vec<String> {
        let mut statements = vec![retarget_table(
            &self.create_table,
            &format!("temp.\"{}\"", self.table),
        )];
        for (name, sql) in &self.indexes {
            if is_unique(sql) {
                statements.push(retarget_index(sql, &format!("temp.\"{name}\""), self.table));
            }
        }
        statements
    }

    /// The statement creating `main.<table>__rebuild`, with the indexes its constraints imply
    /// (a primary key or `UNIQUE`) but not the others: those are created after the rows are
    /// copied in (`create_shadow_indexes_in_main`).
    pub fn create_shadow_table_in_main(&self) -> String {
        retarget_table(
            &self.create_table,
            &format!("main.\"{}\"", shadow_name(self.table)),
        )
    }

    /// Statements creating the indexes of `main.<table>__rebuild` under their alternate names.
    pub fn create_shadow_indexes_in_main(&self) -> Vec<String> {
        let shadow = shadow_name(self.table);
        self.indexes
            .iter()
            .map(|(name, sql)| {
                retarget_index(
                    sql,
                    &format!("main.\"{}\"", alternate_index_name(name)),
                    &shadow,
                )
            })
            .collect()
    }
}

/// The name of `table`'s shadow in the main database.
pub fn shadow_name(table: &str) -> String {
    format!("{table}{SUFFIX}")
}

/// `name` with the suffix added, or removed when it has it.
fn alternate_index_name(name: &str) -> String {
    match name.strip_suffix(SUFFIX) {
        Some(original) => original.to_owned(),
        None => format!("{name}{SUFFIX}"),
    }
}

/// `CREATE TABLE <anything> (<definition>)` for table `target` (a qualified, quoted name). The
/// stored name may be quoted (SQLite quotes it after a rename); a name never holds `(`.
fn retarget_table(sql: &str, target: &str) -> String {
    let definition = sql.find('(').map_or("", |at| &sql[at..]);
    format!("CREATE TABLE {target} {definition}")
}

/// `CREATE [UNIQUE] INDEX <name> ON <table> (<columns>) [WHERE …]` for index `target` (qualified,
/// quoted) on `table` (unqualified: an index lives in its table's schema).
fn retarget_index(sql: &str, target: &str, table: &str) -> String {
    let at = sql.find('(').unwrap_or(sql.len());
    let unique = if is_unique(sql) { "UNIQUE " } else { "" };
    format!(
        "CREATE {unique}INDEX {target} ON \"{table}\" {}",
        &sql[at..]
    )
}

/// Whether a `CREATE … INDEX` statement makes a unique index (the word before its columns).
fn is_unique(sql: &str) -> bool {
    let at = sql.find('(').unwrap_or(sql.len());
    sql[..at].to_ascii_uppercase().contains("UNIQUE")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_recreated_under_another_name_with_its_definition() {
        let sql = "CREATE TABLE \"payments\" (id text NOT NULL PRIMARY KEY) STRICT";
        assert_eq!(
            retarget_table(sql, "temp.\"payments\""),
            "CREATE TABLE temp.\"payments\" (id text NOT NULL PRIMARY KEY) STRICT"
        );
    }

    #[test]
    fn an_index_keeps_its_columns_and_uniqueness_on_the_new_table() {
        let sql = "CREATE UNIQUE INDEX by_x ON payments (customer_id, created DESC) WHERE x > 0";
        assert_eq!(
            retarget_index(sql, "main.\"by_x__rebuild\"", "payments__rebuild"),
            "CREATE UNIQUE INDEX main.\"by_x__rebuild\" ON \"payments__rebuild\" (customer_id, created DESC) WHERE x > 0"
        );
    }

    #[test]
    fn the_fill_keeps_the_unique_indexes_and_leaves_the_others_to_the_main_shadow() {
        let schema = TableSchema {
            table: "payments",
            create_table: "CREATE TABLE payments (id text NOT NULL PRIMARY KEY, c text)".into(),
            indexes: vec![
                ("by_c".into(), "CREATE INDEX by_c ON payments (c)".into()),
                (
                    "one_c".into(),
                    "CREATE UNIQUE INDEX one_c ON payments (c)".into(),
                ),
            ],
            text_key: Some("id".into()),
        };
        assert_eq!(
            schema.create_for_fill(),
            [
                "CREATE TABLE temp.\"payments\" (id text NOT NULL PRIMARY KEY, c text)",
                "CREATE UNIQUE INDEX temp.\"one_c\" ON \"payments\" (c)",
            ]
        );
        assert_eq!(schema.create_shadow_indexes_in_main().len(), 2);
    }

    #[test]
    fn index_names_alternate_between_two_names() {
        assert_eq!(alternate_index_name("by_x"), "by_x__rebuild");
        assert_eq!(alternate_index_name("by_x__rebuild"), "by_x");
    }
}
