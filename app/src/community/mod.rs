//! The members' community and the search of user content. Topics and replies per catalog
//! category, readable by everyone; posting needs the `community_posting` entitlement (premium
//! by default) and every post from a shopper waits for a moderator, like reviews; the owner
//! can mark a post sponsored, and the label then shows wherever the post does. Post text is
//! plain text with a small formatting subset, parsed into tokens that components render as
//! text. The search (`search`) ranks and highlights approved reviews, questions, answers and
//! posts with SQLite FTS5 or PostgreSQL text search.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod search;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
