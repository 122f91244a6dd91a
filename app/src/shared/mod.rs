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

/// `YYYY-MM-DD HH:MM` (UTC) from epoch milliseconds, without a date library: the same text
/// on the server and in the browser, so hydration matches.
pub fn format_time(epoch_ms: i64) -> String {
    let seconds = epoch_ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let seconds_of_day = seconds.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", seconds_of_day / 3600, (seconds_of_day % 3600) / 60)
}

/// `YYYY-MM-DD` (UTC) from epoch milliseconds.
pub fn format_utc_date(epoch_ms: i64) -> String {
    let mut text = format_time(epoch_ms);
    text.truncate(10);
    text
}

#[cfg(test)]
mod tests {
    use super::{format_time, format_utc_date};

    #[test]
    fn epoch_milliseconds_format_as_utc_dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00");
        assert_eq!(format_time(1_795_825_380_000), "2026-11-28 00:23");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(format_utc_date(20_419 * 86_400_000), "2025-11-27");
    }
}
