//! The HTTP API over real loopback HTTP: each test starts the router on a
//! free port over a fresh PostgreSQL database and talks to it with reqwest.

mod server;

mod hostile;
mod limits;
mod ops;
mod runs;
mod sweeps;
