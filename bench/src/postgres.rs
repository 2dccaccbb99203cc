//! Scratch PostgreSQL databases for the harnesses' runs on the shared log: each phase gets a
//! database of its own, dropped and made afresh on the server the operator named.

use anyhow::{bail, Context};
use sqlx::{Connection, PgConnection};

/// `url` with its database named `name` (query string kept).
pub fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let Some(slash) = base.rfind('/').filter(|at| base[..*at].contains("//")) else {
        bail!("the PostgreSQL URL names no database: postgres://user@host:port/database");
    };
    let mut named = format!("{}/{name}", &base[..slash]);
    if let Some(query) = query {
        named.push('?');
        named.push_str(query);
    }
    Ok(named)
}

/// Drops and creates database `<the URL's database>_<suffix>` (the URL's role must be allowed
/// to create databases); returns its URL.
pub async fn fresh_database(url: &str, suffix: &str) -> anyhow::Result<String> {
    let base = url.split('?').next().unwrap_or(url);
    let database = base.rsplit('/').next().unwrap_or("billstream");
    let name = format!("{database}_{suffix}");
    // The server's maintenance database: the one named in the URL need not exist.
    let mut admin = PgConnection::connect(&with_database(url, "postgres")?)
        .await
        .context("cannot connect to the PostgreSQL server given by --database")?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    with_database(url, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_renamed_with_its_query_kept() {
        assert_eq!(
            with_database("postgres://u@h:5/bench?sslmode=require", "bench_crash").unwrap(),
            "postgres://u@h:5/bench_crash?sslmode=require"
        );
        assert!(with_database("postgres://u@h:5", "x").is_err());
    }
}
