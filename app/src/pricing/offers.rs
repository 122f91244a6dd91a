//! Competitor offers at the boundary: one row of a JSON batch or of an uploaded CSV, parsed
//! into a [`CompetitorOffer`] or refused with the row and field it belongs to. Pure, so the
//! API and the admin upload refuse the same rows with the same words.

use crate::shared::Sku;
use serde::{Deserialize, Serialize};

/// The most offers one import may carry.
pub const MAX_OFFERS_PER_BATCH: usize = 10_000;

/// An offer observed more than this far in the future is refused: it would never go stale.
const MAX_CLOCK_SKEW_MS: i64 = 3_600_000;

const MAX_PRICE_CENTS: i64 = 100_000_000_000;

/// The header an uploaded CSV must start with.
pub const CSV_HEADER: &str = "sku,source,price_cents,observed_at";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetitorOffer {
    pub sku: Sku,
    /// Who offers it (a shop's name or domain), 1–60 printable characters.
    pub source: String,
    pub price_cents: i64,
    pub observed_at_ms: i64,
}

/// A refused row: `row` is the offer's number in a JSON batch (from 1) or its line in a CSV
/// file (the header is line 1); `field` names the column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferProblem {
    pub row: usize,
    pub field: String,
    pub message: String,
}

/// One offer as it arrives: `observed_at` is RFC 3339 text or epoch milliseconds.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RawOffer {
    pub sku: String,
    pub source: String,
    pub price_cents: i64,
    pub observed_at: serde_json::Value,
}

fn problem(row: usize, field: &str, message: impl Into<String>) -> OfferProblem {
    OfferProblem { row, field: field.to_string(), message: message.into() }
}

/// Parses one offer observed at or before `now_ms` (allowing for clock skew).
pub fn parse_offer(
    row: usize,
    sku: &str,
    source: &str,
    price_cents: i64,
    observed_at_ms: Option<i64>,
    now_ms: i64,
) -> Result<CompetitorOffer, OfferProblem> {
    let sku = Sku::parse(sku).map_err(|message| problem(row, "sku", message))?;
    let source = source.trim();
    if source.is_empty() || source.chars().count() > 60 || source.chars().any(char::is_control) {
        return Err(problem(row, "source", "The source is 1 to 60 printable characters."));
    }
    if !(1..=MAX_PRICE_CENTS).contains(&price_cents) {
        return Err(problem(row, "price_cents", "The price is a whole number of cents above zero."));
    }
    let observed_at_ms = observed_at_ms
        .ok_or_else(|| problem(row, "observed_at", "Give the time as RFC 3339 (2026-12-01T09:30:00Z) or epoch ms."))?;
    if observed_at_ms <= 0 || observed_at_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
        return Err(problem(row, "observed_at", "The time is not a past moment."));
    }
    Ok(CompetitorOffer { sku, source: source.to_string(), price_cents, observed_at_ms })
}

/// `observed_at` from JSON: a number of epoch milliseconds, or RFC 3339 text.
pub fn observed_at_of(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(number) => number.as_i64(),
        serde_json::Value::String(text) => parse_time(text),
        _ => None,
    }
}

/// A JSON batch, every row checked; the first problem (by row) wins, so the answer names it.
pub fn parse_batch(raw: &[RawOffer], now_ms: i64) -> Result<Vec<CompetitorOffer>, OfferProblem> {
    if raw.is_empty() {
        return Err(problem(0, "offers", "The batch has no offers."));
    }
    if raw.len() > MAX_OFFERS_PER_BATCH {
        return Err(problem(
            MAX_OFFERS_PER_BATCH + 1,
            "offers",
            format!("A batch holds at most {MAX_OFFERS_PER_BATCH} offers; send the rest in another."),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(index, offer)| {
            parse_offer(
                index + 1,
                &offer.sku,
                &offer.source,
                offer.price_cents,
                observed_at_of(&offer.observed_at),
                now_ms,
            )
        })
        .collect()
}

/// An uploaded CSV (`sku,source,price_cents,observed_at`, header first): the offers, or
/// every problem with its line, so the admin can fix the whole file in one go.
pub fn parse_csv(text: &str, now_ms: i64) -> Result<Vec<CompetitorOffer>, Vec<OfferProblem>> {
    let mut lines = text.lines().map(|line| line.trim_end_matches('\r')).enumerate();
    let header = lines.by_ref().find(|(_, line)| !line.trim().is_empty());
    match header {
        Some((_, line)) if line.trim().eq_ignore_ascii_case(CSV_HEADER) => {}
        _ => return Err(vec![problem(1, "header", format!("The first line must be: {CSV_HEADER}"))]),
    }
    let mut offers = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let row = index + 1;
        let cells: Vec<&str> = line.split(',').map(|cell| cell.trim().trim_matches('"')).collect();
        let [sku, source, price, observed_at] = cells[..] else {
            problems.push(problem(row, "line", "A line has four cells: sku,source,price_cents,observed_at."));
            continue;
        };
        let Ok(price_cents) = price.parse::<i64>() else {
            problems.push(problem(row, "price_cents", "The price is a whole number of cents above zero."));
            continue;
        };
        let observed = observed_at.parse::<i64>().ok().or_else(|| parse_time(observed_at));
        match parse_offer(row, sku, source, price_cents, observed, now_ms) {
            Ok(offer) => offers.push(offer),
            Err(refused) => problems.push(refused),
        }
    }
    if offers.len() > MAX_OFFERS_PER_BATCH {
        problems.push(problem(0, "offers", format!("A file holds at most {MAX_OFFERS_PER_BATCH} offers.")));
    }
    if offers.is_empty() && problems.is_empty() {
        problems.push(problem(0, "offers", "The file has no offers."));
    }
    if problems.is_empty() {
        Ok(offers)
    } else {
        Err(problems)
    }
}

/// RFC 3339 (`2026-12-01T09:30:00Z`, `…T09:30:00.250+01:00`) to epoch milliseconds.
pub fn parse_time(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let (date, rest) = raw.split_once(['T', 't', ' '])?;
    let day_ms = crate::shared::parse_date(date)?;
    let bytes = rest.as_bytes();
    let number = |from: usize, len: usize| -> Option<i64> {
        let text = rest.get(from..from + len)?;
        text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse().ok())?
    };
    let (hour, minute, second) = (number(0, 2)?, number(3, 2)?, number(6, 2)?);
    if bytes.get(2) != Some(&b':') || bytes.get(5) != Some(&b':') || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut at = 8;
    let mut millis = 0;
    if bytes.get(at) == Some(&b'.') {
        let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let fraction = &rest[at + 1..at + 1 + digits];
        millis = format!("{fraction:0<3}")[..3].parse::<i64>().ok()?;
        at += 1 + digits;
    }
    let offset_minutes = match &rest[at..] {
        "Z" | "z" => 0,
        zone if zone.len() == 6
            && zone.is_ascii()
            && (zone.starts_with('+') || zone.starts_with('-'))
            && &zone[3..4] == ":" =>
        {
            let hours: i64 = zone[1..3].parse().ok()?;
            let minutes: i64 = zone[4..6].parse().ok()?;
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (hours * 60 + minutes)
        }
        _ => return None,
    };
    Some(day_ms + ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_100_000_000;

    #[test]
    fn rfc_3339_times_become_epoch_milliseconds() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), None, "before 2000 is refused by parse_date");
        assert_eq!(parse_time("2026-12-01T00:00:00Z"), Some(1_796_083_200_000));
        assert_eq!(parse_time("2026-12-01T01:30:00+01:30"), Some(1_796_083_200_000));
        assert_eq!(parse_time("2026-12-01T00:00:00.25Z"), Some(1_796_083_200_250));
        assert_eq!(parse_time("2026-11-30T23:00:00-01:00"), Some(1_796_083_200_000));
        for bad in ["2026-12-01", "2026-12-01T25:00:00Z", "2026-12-01T00:00:00", "2026-12-01T00:00Z", "yesterday"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_bad_field_is_refused_with_its_row() {
        let check = |sku: &str, source: &str, price: i64, at: Option<i64>, field: &str| {
            let refused = parse_offer(7, sku, source, price, at, NOW).unwrap_err();
            assert_eq!((refused.row, refused.field.as_str()), (7, field), "{refused:?}");
        };
        check("no spaces", "shop", 100, Some(NOW), "sku");
        check("COF-001", "  ", 100, Some(NOW), "source");
        check("COF-001", "shop", 0, Some(NOW), "price_cents");
        check("COF-001", "shop", -5, Some(NOW), "price_cents");
        check("COF-001", "shop", 100, None, "observed_at");
        check("COF-001", "shop", 100, Some(NOW + 2 * 3_600_000), "observed_at");
        assert!(parse_offer(7, "cof-001", "shop", 100, Some(NOW), NOW).is_ok());
    }

    fn raw(n: usize) -> Vec<RawOffer> {
        (0..n)
            .map(|_| RawOffer {
                sku: "COF-001".into(),
                source: "shop".into(),
                price_cents: 100,
                observed_at: serde_json::json!("2026-12-01T00:00:00Z"),
            })
            .collect()
    }

    #[test]
    fn a_batch_is_refused_when_empty_too_big_or_any_row_is_bad() {
        assert_eq!(parse_batch(&raw(0), NOW).unwrap_err().field, "offers");
        assert_eq!(parse_batch(&raw(MAX_OFFERS_PER_BATCH + 1), NOW).unwrap_err().row, MAX_OFFERS_PER_BATCH + 1);
        let mut rows = raw(3);
        rows[1].observed_at = serde_json::json!(true);
        assert_eq!(parse_batch(&rows, NOW).unwrap_err().row, 2);
        rows[1].observed_at = serde_json::json!(NOW - 1);
        assert_eq!(parse_batch(&rows, NOW).unwrap().len(), 3);
    }

    #[test]
    fn a_csv_reports_every_bad_line() {
        let text =
            "sku,source,price_cents,observed_at\nCOF-001,a,950,2026-11-30T10:00:00Z\n\nCOF-002,b,abc,1\nTEA-001,c,10\n";
        let problems = parse_csv(text, NOW).unwrap_err();
        let at: Vec<(usize, &str)> = problems.iter().map(|p| (p.row, p.field.as_str())).collect();
        assert_eq!(at, [(4, "price_cents"), (5, "line")]);
        let good = "SKU,source,price_cents,observed_at\r\nCOF-001,a,950,1795000000000\r\n";
        assert_eq!(parse_csv(good, NOW).unwrap()[0].price_cents, 950);
        assert_eq!(parse_csv("sku,price\nCOF-001,1", NOW).unwrap_err()[0].field, "header");
        assert_eq!(parse_csv(CSV_HEADER, NOW).unwrap_err()[0].field, "offers");
    }
}
