//! The catalog: categories and products, their current price and stock.
//!
//! Invariants: stock is never negative (a `CHECK` in the schema and conditional updates in
//! checkout); a product's price is integer cents; every price the shop ever charged is in
//! `price_history`.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
