//! Recommendations. So far "for you" (the `personalized_recommendations` feature): best
//! sellers of the categories a shopper buys from, which they do not own yet.

#[cfg(feature = "ssr")]
pub mod ssr;
