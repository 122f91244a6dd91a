//! Feature flags with targeting: what is switched on for whom right now (rollouts, kill
//! switches, beta access), beside the plans' entitlements, which say what a customer paid
//! for. A flag can only narrow a paid feature, never open one: gated code asks both.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
