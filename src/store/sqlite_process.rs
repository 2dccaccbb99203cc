//! SQLite's process-wide settings, made once before the first connection opens.
//!
//! SQLite counts every allocation it makes for `sqlite3_memory_used` and friends by default
//! (`SQLITE_DEFAULT_MEMSTATUS`), under one mutex for the whole process. The service runs SQLite
//! on many threads at once (the group-commit writer, the readers on the async workers, sqlx's
//! connection threads), and each of its statements allocates and frees many times: a profile
//! of the inbox's drain (`perf record -e sched:sched_switch`) found 28% of the service's
//! context switches were threads waiting for that mutex, most of them the writer's. Nothing
//! here reads those counters, so they are turned off; SQLite's own documentation recommends it
//! for speed.

use rusqlite::ffi;

/// Turns SQLite's allocation statistics off. Must run before any SQLite connection is opened
/// in this process (SQLite refuses, harmlessly, once it is initialised); returns whether SQLite
/// took the setting.
pub fn configure_before_first_connection() -> bool {
    // SAFETY: `sqlite3_config` must not run concurrently with any other SQLite call. The
    // binary calls this first thing in `main`, before anything opens a connection; a call
    // after SQLite's initialisation returns SQLITE_MISUSE and changes nothing.
    let code = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int) };
    code == ffi::SQLITE_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_call_is_refused_and_leaves_sqlite_working() {
        let db = rusqlite::Connection::open_in_memory().expect("an in-memory database opens");
        assert!(!configure_before_first_connection());
        let answer: i64 = db
            .query_row("SELECT 40 + 2", [], |row| row.get(0))
            .expect("SQLite still answers");
        assert_eq!(answer, 42);
    }
}
