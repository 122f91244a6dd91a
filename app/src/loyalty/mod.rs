//! Loyalty and gamification: an append-only points ledger (earned on what was paid, pending
//! until the order ships, spent at checkout, reversed on refunds, expired after inactivity),
//! VIP tiers, badges, leaderboards, time-boxed challenges, and referrals (both sides paid
//! once on the friend's first fulfilled paid order).

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod referrals;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
