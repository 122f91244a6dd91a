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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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

/// How a product list is ordered. Anything but [`Sort::Name`] is an advanced filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Name,
    PriceAsc,
    PriceDesc,
    Rating,
    Popular,
    Newest,
}

impl Sort {
    pub const ALL: [Sort; 6] = [Sort::Name, Sort::PriceAsc, Sort::PriceDesc, Sort::Rating, Sort::Popular, Sort::Newest];

    pub fn key(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::PriceAsc => "price_asc",
            Sort::PriceDesc => "price_desc",
            Sort::Rating => "rating",
            Sort::Popular => "popular",
            Sort::Newest => "newest",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Name => "Name",
            Sort::PriceAsc => "Price: low to high",
            Sort::PriceDesc => "Price: high to low",
            Sort::Rating => "Best rated",
            Sort::Popular => "Best selling",
            Sort::Newest => "Newest",
        }
    }
}

/// Advanced filters of a product list (the `advanced_filters` feature).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    pub min_price_cents: Option<i64>,
    pub max_price_cents: Option<i64>,
    /// Average rating of approved reviews at least this many stars (1–5).
    pub min_rating: Option<i64>,
    pub in_stock_only: bool,
    pub sort: Sort,
}

/// Filter fields as they arrive in a query string, before parsing. Prices are in euros
/// from the page's form (`min_price`) or in cents from the API (`min_price_cents`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterQuery {
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub min_price_cents: Option<String>,
    pub max_price_cents: Option<String>,
    pub min_rating: Option<String>,
    pub in_stock: Option<String>,
    pub sort: Option<String>,
}

fn blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl FilterQuery {
    /// Parses every field; the first bad one is reported with its field name.
    pub fn parse(&self) -> Result<Filters, crate::shared::AppError> {
        use crate::shared::{AppError, Money};
        let euros = |field: &str, raw: &Option<String>| -> Result<Option<i64>, AppError> {
            blank(raw)
                .map(|text| {
                    Money::parse(text)
                        .map(Money::cents)
                        .ok_or_else(|| AppError::invalid(field, "Enter an amount like 12 or 12.50."))
                })
                .transpose()
        };
        let cents = |field: &str, raw: &Option<String>| -> Result<Option<i64>, AppError> {
            blank(raw)
                .map(|text| {
                    text.parse::<i64>()
                        .ok()
                        .filter(|n| (0..=100_000_000).contains(n))
                        .ok_or_else(|| AppError::invalid(field, "Enter a whole number of cents."))
                })
                .transpose()
        };
        let min_price_cents = euros("min_price", &self.min_price)?.or(cents("min_price_cents", &self.min_price_cents)?);
        let max_price_cents = euros("max_price", &self.max_price)?.or(cents("max_price_cents", &self.max_price_cents)?);
        if let (Some(min), Some(max)) = (min_price_cents, max_price_cents) {
            if min > max {
                return Err(AppError::invalid("max_price", "The highest price must not be below the lowest."));
            }
        }
        let min_rating = blank(&self.min_rating)
            .map(|text| {
                text.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=5).contains(n))
                    .ok_or_else(|| AppError::invalid("min_rating", "Choose a rating from 1 to 5 stars."))
            })
            .transpose()?;
        let in_stock_only = match blank(&self.in_stock) {
            None | Some("false") | Some("0") | Some("off") => false,
            Some("true") | Some("1") | Some("on") => true,
            Some(_) => return Err(AppError::invalid("in_stock", "Use true or false.")),
        };
        let sort = match blank(&self.sort) {
            None => Sort::Name,
            Some(key) => Sort::ALL.into_iter().find(|sort| sort.key() == key).ok_or_else(|| {
                AppError::invalid("sort", "Sort by name, price_asc, price_desc, rating, popular or newest.")
            })?,
        };
        Ok(Filters { min_price_cents, max_price_cents, min_rating, in_stock_only, sort })
    }
}

impl Filters {
    /// No filter and the default order: nothing the `advanced_filters` feature is needed for.
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_from_the_form_and_the_api() {
        let form = FilterQuery {
            min_price: Some("5".into()),
            max_price: Some("12.50".into()),
            min_rating: Some("4".into()),
            in_stock: Some("on".into()),
            sort: Some("price_desc".into()),
            ..Default::default()
        };
        let filters = form.parse().unwrap();
        assert_eq!(filters.min_price_cents, Some(500));
        assert_eq!(filters.max_price_cents, Some(1250));
        assert_eq!(filters.min_rating, Some(4));
        assert!(filters.in_stock_only);
        assert_eq!(filters.sort, Sort::PriceDesc);
        let api = FilterQuery { min_price_cents: Some("250".into()), ..Default::default() };
        assert_eq!(api.parse().unwrap().min_price_cents, Some(250));
        assert!(FilterQuery { min_price: Some(" ".into()), ..Default::default() }.parse().unwrap().is_empty());
    }

    #[test]
    fn bad_filters_name_their_field() {
        let field = |query: FilterQuery| match query.parse() {
            Err(crate::shared::AppError::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        };
        assert_eq!(field(FilterQuery { min_price: Some("cheap".into()), ..Default::default() }), "min_price");
        assert_eq!(field(FilterQuery { min_rating: Some("6".into()), ..Default::default() }), "min_rating");
        assert_eq!(field(FilterQuery { sort: Some("random".into()), ..Default::default() }), "sort");
        let inverted = FilterQuery { min_price: Some("9".into()), max_price: Some("3".into()), ..Default::default() };
        assert_eq!(field(inverted), "max_price");
    }

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
