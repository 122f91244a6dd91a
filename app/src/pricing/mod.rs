//! Dynamic pricing: stock changes (from the inventory webhook and from checkout), sales
//! (the `velocity` consumer of `order_placed` and a periodic review) and competitor price
//! imports reach the pricing engine; it recomputes the price from the base price, the
//! current signals and the rules, within guardrails, and publishes `price_changed`.
//!
//! Invariants:
//! - A price is a function of (base price, signals, rules), never of the previous price
//!   (except the per-step limit and the cooldown, which only slow the move towards that
//!   target), so recomputing never compounds.
//! - The price never leaves the guardrails; the floor (unit cost plus minimum margin) wins.
//! - Every change is appended to `price_history` with its reason and its cause; a reduction
//!   records the lowest price of the prior 30 days, shown next to the price (EU Omnibus
//!   Directive, Art. 6a).
//! - A competitor import is all or nothing: one bad row and nothing is written.

pub mod api;
pub mod domain;
pub mod form;
pub mod offers;
#[cfg(feature = "ssr")]
pub mod signals;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
