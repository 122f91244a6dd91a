//! Money is integer minor units (cents) of one shop currency. There is no float anywhere on
//! the way from a price to a total.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The shop's currency (ISO 4217). One currency per shop keeps every total a plain sum.
pub const CURRENCY: &str = "EUR";

/// An amount of money in cents. It may be negative only as a difference (a discount line);
/// prices, totals and stock values are checked to be non-negative where they are parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Money {
        Money(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// The price of `quantity` units; `None` on overflow, which callers turn into a 4xx.
    pub fn checked_times(self, quantity: i64) -> Option<Money> {
        self.0.checked_mul(quantity).map(Money)
    }

    /// Sums an iterator of amounts, `None` on overflow.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Money>) -> Option<Money> {
        amounts.into_iter().try_fold(Money::ZERO, |total, amount| total.checked_add(amount))
    }
}

/// "12.5" → 1250: a decimal with at most two decimals, no sign, no exponent, at most six
/// whole digits. The one parser for amounts typed into forms (euros, percentages).
pub fn parse_hundredths(raw: &str) -> Option<i64> {
    let text = raw.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) || fraction.len() > 2 || whole.len() > 6 {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    Some(whole * 100 + fraction)
}

impl Money {
    /// An amount typed by a person: "12", "12.5" or "12.50" (euros, with an optional "€").
    pub fn parse(raw: &str) -> Option<Money> {
        parse_hundredths(raw.trim().trim_start_matches('€')).map(Money)
    }
}

impl fmt::Display for Money {
    /// Renders as `€12.90`. Only the UI formats money; storage and the API use cents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}€{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cents: i64, expected: &str) {
        assert_eq!(Money::from_cents(cents).to_string(), expected);
    }

    #[test]
    fn typed_amounts_parse_to_cents() {
        assert_eq!(Money::parse("12"), Some(Money::from_cents(1200)));
        assert_eq!(Money::parse(" €12.5 "), Some(Money::from_cents(1250)));
        assert_eq!(Money::parse("0.05"), Some(Money::from_cents(5)));
        for bad in ["", "-1", "1.234", "1e3", "abc", "1234567"] {
            assert_eq!(Money::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn whole_euros_show_two_decimals() {
        check(1200, "€12.00");
    }

    #[test]
    fn single_cents_are_zero_padded() {
        check(1205, "€12.05");
    }

    #[test]
    fn negative_amounts_keep_their_sign() {
        check(-99, "-€0.99");
    }

    #[test]
    fn overflowing_totals_are_refused_not_wrapped() {
        assert_eq!(Money::from_cents(i64::MAX).checked_add(Money::from_cents(1)), None);
        assert_eq!(Money::from_cents(i64::MAX / 2 + 1).checked_times(2), None);
    }

    #[test]
    fn a_sum_of_line_totals_is_exact() {
        let total = Money::checked_sum([Money::from_cents(1999), Money::from_cents(1)]).unwrap();
        assert_eq!(total.cents(), 2000);
    }
}
