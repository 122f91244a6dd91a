//! Tiered subscriptions and feature gating: versioned plans (free / basic / premium) and
//! their entitlements, the subscription lifecycle (subscribe, prorated upgrade, downgrade and
//! cancel at period end, renewal) with invoices through a payment provider, and the features
//! plans sell (filters, wishlist, picks for you, priority support), each checked on the server.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod support;
pub mod ui;
pub mod wishlist;
