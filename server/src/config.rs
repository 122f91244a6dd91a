//! Settings from the environment; every field has a default except secrets, which are
//! generated when missing.

use std::net::SocketAddr;

#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://…` (default `sqlite://data/mercato.db?mode=rwc`) or `postgres://…`.
    pub database_url: String,
    /// `MERCATO_ADDR`: where to listen (default `127.0.0.1:3000`; port 0 picks a free port).
    pub addr: SocketAddr,
    /// `MERCATO_INVENTORY_TOKEN`: bearer token of the inventory webhook. Generated and
    /// printed at start when unset, so the webhook is never open.
    pub inventory_token: Option<String>,
    /// `MERCATO_SECURE_COOKIES`: add `Secure` to cookies (default false, for plain-HTTP loopback).
    pub secure_cookies: bool,
    /// `MERCATO_DB_MAX_CONNECTIONS`: pool size (default 16).
    pub max_connections: u32,
    /// `MERCATO_SEED_DEMO`: seed the demo shop when the catalog is empty (default true).
    pub seed_demo: bool,
    /// `MERCATO_EXPERIMENTS`: run A/B experiments (default on); off serves every control.
    pub experiments_enabled: bool,
    /// `MERCATO_HIGH_VALUE_CENTS`: lifetime spend of a high-value customer (default 50000 = 500.00).
    pub high_value_cents: i64,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Settings> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let flag = |name: &str, default: bool| {
            var(name).map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")).unwrap_or(default)
        };
        let addr = var("MERCATO_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        Ok(Settings {
            database_url: var("DATABASE_URL").unwrap_or_else(|| "sqlite://data/mercato.db?mode=rwc".into()),
            addr: addr.parse().map_err(|e| anyhow::anyhow!("MERCATO_ADDR '{addr}': {e}"))?,
            inventory_token: var("MERCATO_INVENTORY_TOKEN"),
            secure_cookies: flag("MERCATO_SECURE_COOKIES", false),
            max_connections: var("MERCATO_DB_MAX_CONNECTIONS").and_then(|v| v.parse().ok()).unwrap_or(16),
            seed_demo: flag("MERCATO_SEED_DEMO", true),
            experiments_enabled: flag("MERCATO_EXPERIMENTS", true),
            high_value_cents: match var("MERCATO_HIGH_VALUE_CENTS") {
                Some(raw) => raw.parse::<i64>().ok().filter(|cents| *cents > 0).ok_or_else(|| {
                    anyhow::anyhow!("MERCATO_HIGH_VALUE_CENTS '{raw}': expected a positive number of cents")
                })?,
                None => 50_000,
            },
        })
    }
}
