//! Types shared by every playbook: money, identifiers and the error type that crosses the
//! server-function boundary. Compiled for both `ssr` and `hydrate`; no I/O here.

pub mod error;
pub mod ids;
pub mod money;

pub use error::AppError;
pub use ids::{Quantity, Sku};
pub use money::Money;

/// Milliseconds since the Unix epoch. Timestamps are stored as integers so that SQLite and
/// PostgreSQL behave identically and nothing depends on a database's time zone.
#[cfg(feature = "ssr")]
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}
