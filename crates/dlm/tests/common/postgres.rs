//! A private PostgreSQL cluster that one test may stop and start, because
//! stopping the shared server would break every other test using it.
//!
//! The cluster lives in a temporary directory and listens on a free
//! loopback port. `initdb` and `postgres` refuse to run as root, so under
//! root the cluster runs as the `postgres` system user through `runuser`.
//! Dropping the cluster stops it and removes its directory, also when the
//! test panics.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The system user that runs the cluster when the test runs as root.
const SERVER_USER: &str = "postgres";

pub struct PostgresCluster {
    bin: PathBuf,
    directory: tempfile::TempDir,
    port: u16,
    as_server_user: bool,
    running: bool,
}

impl PostgresCluster {
    /// Creates a cluster with `initdb` and starts it.
    ///
    /// # Panics
    /// When no PostgreSQL binaries are installed under
    /// `/usr/lib/postgresql/VERSION/bin`, or a command fails.
    pub fn start() -> PostgresCluster {
        let bin = find_bin_directory();
        let directory = tempfile::tempdir().expect("cannot create a temporary directory");
        let as_server_user = running_as_root();
        if as_server_user {
            run(Command::new("chown").args([
                "-R",
                SERVER_USER,
                &directory.path().display().to_string(),
            ]));
        }
        let port = super::free_loopback_address()
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .expect("a loopback address ends in its port");
        let mut cluster = PostgresCluster {
            bin,
            directory,
            port,
            as_server_user,
            running: false,
        };

        let data = cluster.data_directory().display().to_string();
        let mut initdb = cluster.command("initdb");
        initdb.args([
            "--pgdata",
            &data,
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-sync",
        ]);
        run(&mut initdb);
        cluster.start_again();
        cluster
    }

    /// Returns the URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server in fast mode: open sessions are ended and the
    /// server exits without waiting for clients. Waits until it has exited.
    pub fn stop(&mut self) {
        self.pg_ctl_stop("fast");
    }

    /// Starts the server on the same port and data directory, and waits
    /// until it accepts connections.
    pub fn start_again(&mut self) {
        let data = self.data_directory().display().to_string();
        let log = self.directory.path().join("server.log").display().to_string();
        // The socket directory is the cluster's own, so the server needs no
        // access to the system's /var/run/postgresql.
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.directory.path().display()
        );
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl.args(["start", "--wait", "--pgdata", &data, "--log", &log, "-o", &options]);
        run(&mut pg_ctl);
        self.running = true;
    }

    fn pg_ctl_stop(&mut self, mode: &str) {
        let data = self.data_directory().display().to_string();
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl.args(["stop", "--wait", "--pgdata", &data, "--mode", mode]);
        run(&mut pg_ctl);
        self.running = false;
    }

    fn data_directory(&self) -> PathBuf {
        self.directory.path().join("data")
    }

    /// Returns a command for one of the server's programs, run as the
    /// server user when the test runs as root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if !self.as_server_user {
            return Command::new(path);
        }
        let mut command = Command::new("runuser");
        command.args(["-u", SERVER_USER, "--"]).arg(path);
        command
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        if self.running {
            // Immediate mode, because a test that failed may have left
            // clients connected; the temporary directory goes next.
            let data = self.data_directory().display().to_string();
            let _ = self
                .command("pg_ctl")
                .args(["stop", "--wait", "--pgdata", &data, "--mode", "immediate"])
                .output();
        }
    }
}

/// Returns the `bin` directory of the newest PostgreSQL version installed
/// under `/usr/lib/postgresql`.
fn find_bin_directory() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let entries = std::fs::read_dir(root).unwrap_or_else(|error| {
        panic!("cannot list {}: {error}; install the PostgreSQL server", root.display())
    });
    let mut versions: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .unwrap_or_else(|| panic!("no VERSION/bin/pg_ctl under {}", root.display()))
}

/// Returns whether this process runs as root: `/proc/self` belongs to the
/// process's effective user.
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|metadata| metadata.uid() == 0)
        .unwrap_or(false)
}

/// Runs a command to completion and panics with its output when it fails.
fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed with {}:\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
