//! Loyalty and gamification: an append-only points ledger (earned on what was paid, pending
//! until the order ships, spent at checkout, reversed on refunds, expired after inactivity),
//! VIP tiers, badges, leaderboards and time-boxed challenges.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
