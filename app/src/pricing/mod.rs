//! Dynamic pricing: stock changes (from the inventory webhook and from checkout) reach the
//! pricing consumer through the outbox; it recomputes the price from the base price, the
//! current signals and the rules, within guardrails, and publishes `price_changed`.
//!
//! Invariants:
//! - A price is a function of (base price, signals, rules), never of the previous price
//!   (except the per-step limit, which only slows the move towards that target), so
//!   recomputing never compounds.
//! - The price never leaves the guardrails; the floor (unit cost plus minimum margin) wins.
//! - Every change is appended to `price_history`; a reduction records the lowest price of
//!   the prior 30 days, shown next to the price (EU Omnibus Directive, Art. 6a).

pub mod api;
pub mod domain;
pub mod form;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
