//! Catalog types that cross the wire, and the pure rules the UI and the server share.

use crate::shared::money::CURRENCY;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub slug: String,
    pub name: String,
    pub description: String,
}

/// The price block of a product, as the JSON API and the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceView {
    pub amount_cents: i64,
    pub base_cents: i64,
    pub currency: String,
    /// The lowest price of the 30 days before the current reduction (EU Omnibus Art. 6a);
    /// `None` when the current price is not a reduction.
    pub lowest_30d_cents: Option<i64>,
    /// Why the price is what it is: `base` or the name of the rule that set it.
    pub reason: String,
}

impl PriceView {
    pub fn new(amount_cents: i64, base_cents: i64, lowest_30d_cents: Option<i64>, reason: String) -> PriceView {
        PriceView { amount_cents, base_cents, currency: CURRENCY.to_string(), lowest_30d_cents, reason }
    }
}

/// One `price` event of the live price stream (`/api/v1/prices/stream`): the product's new
/// price block and its SKU. The server writes it, the browser reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePrice {
    pub sku: String,
    pub amount_cents: i64,
    pub base_cents: i64,
    pub currency: String,
    pub lowest_30d_cents: Option<i64>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub image: String,
    pub tags: Vec<String>,
    pub stock: i64,
    pub price: PriceView,
}

/// What a shopper is told about availability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    OutOfStock,
    /// Few left: shown as "Only N left" to be honest about scarcity, never invented.
    Low(i64),
    InStock,
}

/// At or below this many units a product shows "Only N left".
pub const LOW_STOCK_THRESHOLD: i64 = 5;

pub fn availability(stock: i64) -> Availability {
    if stock <= 0 {
        Availability::OutOfStock
    } else if stock <= LOW_STOCK_THRESHOLD {
        Availability::Low(stock)
    } else {
        Availability::InStock
    }
}

impl Availability {
    pub fn label(self) -> String {
        match self {
            Availability::OutOfStock => "Out of stock".into(),
            Availability::Low(n) => format!("Only {n} left"),
            Availability::InStock => "In stock".into(),
        }
    }

    pub fn can_buy(self) -> bool {
        !matches!(self, Availability::OutOfStock)
    }
}

/// A text search, trimmed and length-capped; `None` when blank.
pub fn parse_search(raw: Option<&str>) -> Option<String> {
    let trimmed = raw?.trim();
    if trimmed.is_empty() {
        None
    } else {
        Some(trimmed.chars().take(80).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_stock_cannot_be_bought() {
        assert_eq!(availability(0), Availability::OutOfStock);
        assert!(!availability(0).can_buy());
    }

    #[test]
    fn low_stock_says_how_many_are_left() {
        assert_eq!(availability(3).label(), "Only 3 left");
        assert_eq!(availability(6), Availability::InStock);
    }

    #[test]
    fn blank_search_is_no_search() {
        assert_eq!(parse_search(Some("   ")), None);
        assert_eq!(parse_search(Some(" mug ")), Some("mug".into()));
        assert_eq!(parse_search(Some(&"x".repeat(500))).unwrap().len(), 80);
    }
}
