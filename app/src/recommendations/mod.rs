//! Recommendations: upsell (same category, dearer within a band, best margin), cross-sell and
//! "frequently bought together" (co-purchase counts kept incrementally by an outbox consumer,
//! ranked by lift or by count with a minimum support), and "for you" (recent views, purchases
//! and preferred categories; best sellers for a new visitor). Every kind leaves out the
//! product itself, what is out of stock or in the cart, and (but frequently bought together)
//! what the shopper already bought.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod fragment;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
