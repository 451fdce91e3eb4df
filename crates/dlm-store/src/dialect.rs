//! The SQL that differs between PostgreSQL and SQLite.

/// Which SQL dialect a statement is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    Sqlite,
}

/// SQLite stores times as UTC RFC 3339 text with milliseconds, which sorts
/// in time order and which sqlx decodes into `DateTime<Utc>`.
const SQLITE_TIME_FORMAT: &str = "'%Y-%m-%dT%H:%M:%fZ'";

impl Dialect {
    /// Returns the database clock's current time.
    pub(crate) fn now(self) -> String {
        match self {
            Dialect::Postgres => "now()".to_string(),
            Dialect::Sqlite => format!("strftime({SQLITE_TIME_FORMAT}, 'now')"),
        }
    }

    /// Returns the database clock's time plus the seconds (a float) bound to
    /// the parameter `param`, such as `$2`.
    pub(crate) fn now_plus_seconds(self, param: &str) -> String {
        match self {
            Dialect::Postgres => format!("now() + make_interval(secs => {param})"),
            Dialect::Sqlite => {
                format!("strftime({SQLITE_TIME_FORMAT}, 'now', '+' || {param} || ' seconds')")
            }
        }
    }

    /// Returns the database clock's time a fixed number of seconds ago.
    pub(crate) fn seconds_ago(self, seconds: u32) -> String {
        match self {
            Dialect::Postgres => format!("now() - interval '{seconds} seconds'"),
            Dialect::Sqlite => format!("strftime({SQLITE_TIME_FORMAT}, 'now', '-{seconds} seconds')"),
        }
    }

    /// Returns the statement that starts a transaction which will write.
    ///
    /// SQLite needs `BEGIN IMMEDIATE`: a deferred transaction that reads
    /// first and writes later can fail with SQLITE_BUSY instead of waiting
    /// for the write lock.
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Dialect::Postgres => "BEGIN",
            Dialect::Sqlite => "BEGIN IMMEDIATE",
        }
    }
}
