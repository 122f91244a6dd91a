//! A/B testing and personalization: the hero experiment (GrowthBook-compatible, sticky across
//! cookie or localStorage loss, identical in SSR and hydration), the segment banner, exposure
//! and conversion tracking through the outbox, and the statistics of the results.

pub mod api;
pub mod domain;
pub mod results;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod stats;
pub mod ui;
