//! Fresh databases for tests: a uniquely named PostgreSQL database dropped
//! when the handle is dropped, or a SQLite file in a temporary directory.
//!
//! PostgreSQL is reached through `DATABASE_URL` when set, otherwise at
//! `postgres://postgres@127.0.0.1:5432/postgres`. The URL must name a
//! database the user may connect to, and the user must be allowed to
//! create databases.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, PgConnection};

use crate::{ConnectOptions, Store};

/// The server tests use when `DATABASE_URL` is unset.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);

/// A database that exists for one test.
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    DropPostgres { admin_url: String, name: String },
    RemoveDirectory(#[allow(dead_code)] tempfile::TempDir),
}

impl TestDatabase {
    /// Creates an empty PostgreSQL database with a unique name.
    ///
    /// # Panics
    /// When the server cannot be reached or refuses to create the database,
    /// since the test cannot run without it.
    pub async fn postgres() -> TestDatabase {
        let admin_url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string());
        let name = format!(
            "dlm_test_{}_{}_{:08x}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );

        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|error| {
            panic!("cannot connect to PostgreSQL at {admin_url} (set DATABASE_URL): {error}")
        });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
        admin.close().await.ok();

        TestDatabase {
            url: replace_database_name(&admin_url, &name),
            cleanup: Cleanup::DropPostgres { admin_url, name },
        }
    }

    /// Creates a SQLite database file in a fresh temporary directory.
    pub fn sqlite() -> TestDatabase {
        let directory = tempfile::tempdir().expect("cannot create a temporary directory");
        let url = format!("sqlite:{}", directory.path().join("dlm.sqlite").display());
        TestDatabase {
            url,
            cleanup: Cleanup::RemoveDirectory(directory),
        }
    }

    /// Returns the URL of the test database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects to the test database and migrates it.
    pub async fn store(&self) -> Store {
        Store::open(&self.url, &ConnectOptions::default())
            .await
            .unwrap_or_else(|error| panic!("cannot open the store at {}: {error}", self.url))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::DropPostgres { admin_url, name } = &self.cleanup else {
            return;
        };
        let admin_url = admin_url.clone();
        let name = name.clone();

        // Drop may run inside a Tokio runtime, which cannot block on another
        // one, so the database is dropped from a thread with its own runtime.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cannot start a runtime to drop the test database");
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await?;
                admin.close().await
            })
        });
        if let Ok(Err(error)) = dropper.join() {
            eprintln!("warning: cannot drop a test database: {error}");
        }
    }
}

/// Defines two tests per listed function, `postgres::NAME` and
/// `sqlite::NAME`, which call `async fn NAME(store: &Store)` in the calling
/// module on a fresh, migrated database of that backend. The calling crate
/// needs Tokio with its `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let database = $crate::testing::TestDatabase::postgres().await;
                    let store = database.store().await;
                    super::$name(&store).await;
                    store.close().await;
                }
            )*
        }

        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let database = $crate::testing::TestDatabase::sqlite();
                    let store = database.store().await;
                    super::$name(&store).await;
                    store.close().await;
                }
            )*
        }
    };
}

/// Leases every queued run of `model_version` as worker `worker_id` and
/// completes each with the result `result_for` builds for its lease,
/// through the store calls the coordinator makes, without simulating.
/// Returns the number of runs completed.
pub async fn complete_queued_runs(
    store: &Store,
    worker_id: &str,
    model_version: &str,
    mut result_for: impl FnMut(&crate::Lease) -> crate::RunResult,
) -> usize {
    let request = crate::LeaseRequest {
        worker_id: worker_id.to_string(),
        max_runs: 500,
        model_version: model_version.to_string(),
        duration: std::time::Duration::from_secs(600),
    };
    let mut completed = 0;
    loop {
        let leases = store.lease(&request).await.expect("cannot lease runs");
        if leases.is_empty() {
            return completed;
        }
        for lease in &leases {
            let result = result_for(lease);
            store
                .complete(worker_id, lease.reference(), &result)
                .await
                .expect("cannot complete a run");
            completed += 1;
        }
    }
}

/// Returns `url` with its database name (the path after the host) replaced.
fn replace_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database_name;

    #[test]
    fn database_name_replacement() {
        let cases = [
            ("postgres://u@h:5432/postgres", "postgres://u@h:5432/t"),
            ("postgres://u@h:5432", "postgres://u@h:5432/t"),
            ("postgres://u@h/db?sslmode=disable", "postgres://u@h/t?sslmode=disable"),
        ];
        for (url, expected) in cases {
            assert_eq!(replace_database_name(url, "t"), expected, "url {url}");
        }
    }
}
