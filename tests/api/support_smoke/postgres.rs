//! The private PostgreSQL cluster.

use sqlx::{Connection, PgConnection};

use crate::support::postgres::fresh_database;

#[tokio::test]
async fn the_private_cluster_gives_two_fresh_databases_that_answer_select_1() {
    let first = fresh_database().await;
    let second = fresh_database().await;
    assert_ne!(first, second);
    for url in [&first, &second] {
        let mut connection = PgConnection::connect(url).await.expect("connects");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut connection)
            .await
            .expect("SELECT 1");
        assert_eq!(one, 1, "{url}");
        let name: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&mut connection)
            .await
            .expect("current_database()");
        assert!(url.ends_with(&format!("/{name}")), "{url} is {name}");
    }
}

#[tokio::test]
async fn a_table_made_in_one_fresh_database_is_not_in_another() {
    let mut first = PgConnection::connect(&fresh_database().await)
        .await
        .expect("connects");
    sqlx::query("CREATE TABLE marker (id INT)")
        .execute(&mut first)
        .await
        .expect("CREATE TABLE");
    let mut second = PgConnection::connect(&fresh_database().await)
        .await
        .expect("connects");
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'marker'",
    )
    .fetch_one(&mut second)
    .await
    .expect("count");
    assert_eq!(tables, 0);
}
