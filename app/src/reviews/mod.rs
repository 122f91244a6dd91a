//! Reviews and Q&A: one review per shopper and product, moderated before it is shown or
//! counted; verified-buyer, sponsored and incentivized disclosures stored on the row;
//! helpful votes, merchant replies, schema.org JSON-LD; questions answered by staff and by
//! buyers, with featured and sponsored answers. Every post passes the automated
//! [`prescreen`] first; brands read anonymized [`insights`].

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod fragment;
pub mod insights;
#[cfg(feature = "ssr")]
pub mod insights_store;
pub mod insights_ui;
pub mod prescreen;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
