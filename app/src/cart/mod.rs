//! Cart, checkout and orders.
//!
//! Invariants:
//! - Totals are computed on the server in integer cents; the client's number is only an
//!   expectation: checkout refuses (409) when it differs from the current total.
//! - Stock is decremented in the same transaction as the order is written, with a
//!   conditional update, so concurrent checkouts never oversell.
//! - An anonymous cart belongs to the visitor cookie and is merged into the account on login.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
