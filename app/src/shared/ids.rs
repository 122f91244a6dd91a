//! Identifiers and small quantities, parsed once at the boundary so the rest of the code can
//! trust them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stock-keeping unit: 1–32 characters of `A–Z`, `0–9` and `-`, stored upper-case.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub fn parse(raw: &str) -> Result<Sku, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.len() > 32 {
            return Err("A SKU has 1 to 32 characters.".into());
        }
        if !trimmed.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err("A SKU may only contain letters, digits and '-'.".into());
        }
        Ok(Sku(trimmed.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Sku::parse(&raw)
    }
}

impl From<Sku> for String {
    fn from(sku: Sku) -> String {
        sku.0
    }
}

impl AsRef<str> for Sku {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How many units of one product a cart line holds: 1 to [`Quantity::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Quantity(u32);

impl Quantity {
    /// **Rationale:** a micro-shop never sells a thousand of one item in one order; a cap
    /// keeps totals far from overflow and catches typos.
    pub const MAX: u32 = 999;

    pub fn parse(raw: i64) -> Result<Quantity, String> {
        if raw < 1 {
            return Err("Quantity must be at least 1.".into());
        }
        if raw > Quantity::MAX as i64 {
            return Err(format!("Quantity must be at most {}.", Quantity::MAX));
        }
        Ok(Quantity(raw as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = String;
    fn try_from(raw: i64) -> Result<Self, Self::Error> {
        Quantity::parse(raw)
    }
}

impl From<Quantity> for i64 {
    fn from(q: Quantity) -> i64 {
        q.0 as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sku_is_normalised_to_upper_case() {
        assert_eq!(Sku::parse(" cof-001 ").unwrap().as_str(), "COF-001");
    }

    #[test]
    fn a_sku_with_markup_is_rejected() {
        assert!(Sku::parse("<script>").is_err());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse(&"A".repeat(33)).is_err());
    }

    #[test]
    fn quantity_zero_negative_and_huge_are_rejected() {
        assert!(Quantity::parse(0).is_err());
        assert!(Quantity::parse(-3).is_err());
        assert!(Quantity::parse(1_000_000_000_000).is_err());
        assert_eq!(Quantity::parse(3).unwrap().get(), 3);
    }

    #[test]
    fn quantity_deserialises_through_parse() {
        assert!(serde_json::from_str::<Quantity>("0").is_err());
        assert_eq!(serde_json::from_str::<Quantity>("2").unwrap().get(), 2);
    }
}
