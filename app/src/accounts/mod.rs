//! Accounts: registration, login, sessions and roles.
//!
//! Invariants: passwords are stored only as argon2id hashes; sessions live in the database
//! (the cookie carries a random token, the table its SHA-256), so logout and expiry are
//! immediate on every app server; the session cookie is `HttpOnly; SameSite=Lax`.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
