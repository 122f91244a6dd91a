//! Types shared by every playbook: money, identifiers and the error type that crosses the
//! server-function boundary. Compiled for both `ssr` and `hydrate`; no I/O here.

pub mod error;
pub mod ids;
#[cfg(feature = "ssr")]
pub mod limits;
pub mod money;

pub use error::AppError;
pub use ids::{Quantity, Sku};
pub use money::Money;

/// Milliseconds in a day (UTC days: no leap seconds in epoch time).
pub const DAY_MS: i64 = 86_400_000;

/// Milliseconds since the Unix epoch. Timestamps are stored as integers so that SQLite and
/// PostgreSQL behave identically and nothing depends on a database's time zone.
#[cfg(feature = "ssr")]
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// (year, month, day) of the civil (proleptic Gregorian) date `days` after 1970-01-01
/// (Howard Hinnant's algorithm): dates without a date library, the same on server and browser.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Parses `YYYY-MM-DD` (a date input) into epoch milliseconds at 00:00 UTC.
pub fn parse_date(raw: &str) -> Option<i64> {
    let mut parts = raw.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(2000..=2200).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Reject 2027-02-31 and the like: the date must come back the same.
    (civil_from_days(days) == (year, month, day)).then_some(days * DAY_MS)
}

/// `YYYY-MM-DD HH:MM` (UTC) from epoch milliseconds, without a date library: the same text
/// on the server and in the browser, so hydration matches.
pub fn format_time(epoch_ms: i64) -> String {
    let seconds = epoch_ms.div_euclid(1000);
    let seconds_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
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
    use super::{civil_from_days, days_from_civil, format_time, format_utc_date};

    #[test]
    fn epoch_milliseconds_format_as_utc_dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00");
        assert_eq!(format_time(1_795_825_380_000), "2026-11-28 00:23");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(format_utc_date(20_419 * 86_400_000), "2025-11-27");
    }

    #[test]
    fn dates_from_date_inputs() {
        use super::parse_date;
        assert_eq!(parse_date("1970-01-02"), None, "before 2000 is refused");
        assert_eq!(parse_date("2026-11-27"), Some(days_from_civil(2026, 11, 27) * 86_400_000));
        assert_eq!(parse_date("2027-02-31"), None);
        assert_eq!(parse_date("tomorrow"), None);
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
    }
}
