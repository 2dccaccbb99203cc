//! WAL checkpoints leave the commit path: commits only report to a hook, the service's
//! checkpointer copies the log into the database file in the background, and a commit
//! checkpoints itself only when the log has grown past the hard limit.

use std::path::Path;
use std::time::Duration;

use billstream::store::checkpoints::{self, HARD_LIMIT, SOFT_LIMIT};
use sqlx::SqlitePool;

use crate::helpers::open_pool;

const PAGE: u64 = 4096;

/// Commits `pages` pages of ballast, `per_commit` at a time.
async fn write_pages(pool: &SqlitePool, pages: i64, per_commit: i64) {
    sqlx::query("CREATE TABLE IF NOT EXISTS ballast (b BLOB)")
        .execute(pool)
        .await
        .unwrap();
    for _ in 0..pages / per_commit {
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
             INSERT INTO ballast SELECT randomblob(4000) FROM n",
        )
        .bind(per_commit)
        .execute(pool)
        .await
        .unwrap();
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

#[tokio::test]
async fn commits_leave_the_checkpoint_to_the_background_checkpointer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let wal = dir.path().join("db.sqlite-wal");
    let pool = open_pool(&path).await;
    let signal = checkpoints::signal_for(pool.connect_options().get_filename());

    // Given no checkpointer: twice SQLite's automatic mark is committed, and no commit copied
    // the log back (the log holds every frame; with the default it would have been reused).
    write_pages(&pool, 2 * i64::from(SOFT_LIMIT), 100).await;
    assert!(
        size(&wal) >= 2 * SOFT_LIMIT as u64 * PAGE,
        "the log was checkpointed by a commit: {} bytes",
        size(&wal)
    );
    assert_eq!(signal.inline_checkpoints(), 0);
    let before = size(&path);

    // When the checkpointer runs and one more commit reports the log's length,
    let checkpointer = checkpoints::spawn_checkpointer(pool.clone(), signal);
    write_pages(&pool, 100, 100).await;
    for _ in 0..100 {
        if signal.background_checkpoints() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // then the pages reach the database file in the background, and still no commit paid.
    assert!(
        signal.background_checkpoints() > 0,
        "no background checkpoint"
    );
    assert!(
        size(&path) >= before + 2 * SOFT_LIMIT as u64 * PAGE,
        "database file {} bytes, {before} before",
        size(&path)
    );
    assert_eq!(signal.inline_checkpoints(), 0);
    checkpointer.abort();
}

#[tokio::test]
async fn without_a_checkpointer_a_commit_past_the_hard_limit_checkpoints_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let pool = open_pool(&path).await;
    let signal = checkpoints::signal_for(pool.connect_options().get_filename());

    write_pages(&pool, i64::from(HARD_LIMIT) + 1_000, 250).await;

    assert!(signal.inline_checkpoints() >= 1, "the log grew unbounded");
    assert_eq!(signal.background_checkpoints(), 0);
    // The log was reused after the checkpoint instead of growing on.
    assert!(
        size(&dir.path().join("db.sqlite-wal")) < (u64::try_from(HARD_LIMIT).unwrap() + 500) * PAGE,
        "WAL of {} bytes",
        size(&dir.path().join("db.sqlite-wal"))
    );
}
