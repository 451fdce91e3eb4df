//! Opening a store from a database URL and bringing its schema up to date.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::StoreError;

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Connection pool settings.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Maximum connections in the pool.
    pub max_connections: u32,
    /// How long a request waits for a free connection, and how long SQLite
    /// waits for the write lock, before failing.
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// A connection pool to the database holding sweeps, runs and results.
/// Cloning is cheap and shares the pool.
#[derive(Debug, Clone)]
pub enum Store {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl Store {
    /// Connects to `postgres://…` / `postgresql://…` or `sqlite:PATH`
    /// (the SQLite file is created when missing). Does not migrate.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect(url)
                .await?;
            return Ok(Store::Postgres(pool));
        }

        if url.starts_with("sqlite:") {
            let connect_options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(options.acquire_timeout)
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect_options)
                .await?;
            return Ok(Store::Sqlite(pool));
        }

        Err(StoreError::UnsupportedUrl {
            url: url.to_string(),
        })
    }

    /// Applies the migrations the database lacks. On PostgreSQL sqlx holds
    /// an advisory lock meanwhile, so coordinators starting together apply
    /// each migration once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
            Store::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Connects and migrates.
    pub async fn open(url: &str, options: &ConnectOptions) -> Result<Store, StoreError> {
        let store = Store::connect(url, options).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Returns the backend's name, `postgres` or `sqlite`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Postgres(_) => "postgres",
            Store::Sqlite(_) => "sqlite",
        }
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        match self {
            Store::Postgres(pool) => pool.close().await,
            Store::Sqlite(pool) => pool.close().await,
        }
    }
}
