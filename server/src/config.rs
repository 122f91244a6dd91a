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
    /// `MERCATO_SECURE_COOKIES`: add `Secure` to cookies. Defaults to true unless the server
    /// listens on a loopback address: a shop reachable from other machines is served over
    /// HTTPS (by itself or a proxy in front), and plain-HTTP loopback is for development.
    pub secure_cookies: bool,
    /// `MERCATO_DB_MAX_CONNECTIONS`: pool size (default 16).
    pub max_connections: u32,
    /// `MERCATO_SEED_DEMO`: seed the demo shop when the catalog is empty (default true).
    pub seed_demo: bool,
    /// `MERCATO_EXPERIMENTS`: run A/B experiments (default on); off serves every control.
    pub experiments_enabled: bool,
    /// `MERCATO_HIGH_VALUE_CENTS`: lifetime spend of a high-value customer (default 50000 = 500.00).
    pub high_value_cents: i64,
    /// Loyalty points: `MERCATO_POINTS_PER_EURO` earned per euro paid (default 5),
    /// `MERCATO_POINTS_PER_EURO_REDEEMED` worth 1.00 at checkout (default 100),
    /// `MERCATO_POINTS_MAX_REDEEM_PCT` of an order points may pay (default 50),
    /// `MERCATO_POINTS_EXPIRY_DAYS` without activity before points expire (default 365),
    /// `MERCATO_POINTS_PER_REVIEW` for an approved review (default 50; 0 = none),
    /// `MERCATO_REFERRER_POINTS` and `MERCATO_REFEREE_POINTS` for a referral's first paid
    /// order (defaults 500 and 250; 0 = none), `MERCATO_REFERRALS_PER_MONTH` a referrer may
    /// collect (default 10).
    pub loyalty: app::loyalty::domain::LoyaltyRules,
    /// `MERCATO_POSTS_PER_MINUTE`: reviews, questions and answers one account may post per
    /// minute (default 10).
    pub posts_per_minute: u32,
    /// Recommendations: `MERCATO_UPSELL_BAND_PCT`, an upsell costs at most this percent of the
    /// product (default 200); `MERCATO_REC_MIN_SUPPORT`, orders a pair needs before it is
    /// recommended (default 2).
    pub recommendations: app::recommendations::domain::RecRules,
    /// `MERCATO_PRICE_REVIEW_MINUTES`: how often every price is recomputed from its current
    /// signals, so slow movers and stale competitor offers are noticed without an event
    /// (default 10).
    pub price_review_every: std::time::Duration,
    /// `MERCATO_ADDON_WINDOW_MINUTES`: how long after an order its confirmation page offers a
    /// one-click add-on that joins the same shipment (default 30).
    pub addon_window_minutes: i64,
    /// Abuse limits: `MERCATO_LOGINS_PER_IP_PER_MINUTE` (default 30),
    /// `MERCATO_REGISTRATIONS_PER_IP_PER_HOUR` (30), `MERCATO_POSTS_PER_IP_PER_MINUTE` (30),
    /// `MERCATO_EVENTS_PER_VISITOR_PER_SECOND` (2, burst ten times that),
    /// `MERCATO_EVENTS_PER_IP_PER_SECOND` (20, burst ten times that),
    /// `MERCATO_LOGIN_FAILURES_BEFORE_DELAY` (5: the 5th wrong password in a row locks the
    /// address, and each further one), `MERCATO_LOGIN_DELAY_SECONDS` (the first lock, 30,
    /// doubling up to 15 minutes) and `MERCATO_TRUSTED_PROXY_HOPS` (proxies whose `X-Forwarded-For` entry is
    /// believed, default 0).
    pub limits: app::shared::limits::AbuseLimits,
}

/// Whether `MERCATO_ADDR` (as typed) names a loopback address; an unparsable one is left to
/// the parse below to report.
fn addr_is_loopback(addr: &str) -> bool {
    addr.parse::<SocketAddr>().map(|addr| addr.ip().is_loopback()).unwrap_or(true)
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Settings> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        // A whole number from 1 to `max`, or `default` when unset; anything else stops the start.
        let positive = |name: &str, default: i64, max: i64| -> anyhow::Result<i64> {
            match var(name) {
                Some(raw) => raw
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| anyhow::anyhow!("{name} '{raw}': expected a whole number from 1 to {max}")),
                None => Ok(default),
            }
        };
        let flag = |name: &str, default: bool| {
            var(name).map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")).unwrap_or(default)
        };
        let addr = var("MERCATO_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        Ok(Settings {
            database_url: var("DATABASE_URL").unwrap_or_else(|| "sqlite://data/mercato.db?mode=rwc".into()),
            addr: addr.parse().map_err(|e| anyhow::anyhow!("MERCATO_ADDR '{addr}': {e}"))?,
            inventory_token: var("MERCATO_INVENTORY_TOKEN"),
            secure_cookies: flag("MERCATO_SECURE_COOKIES", !addr_is_loopback(&addr)),
            max_connections: var("MERCATO_DB_MAX_CONNECTIONS").and_then(|v| v.parse().ok()).unwrap_or(16),
            seed_demo: flag("MERCATO_SEED_DEMO", true),
            experiments_enabled: flag("MERCATO_EXPERIMENTS", true),
            high_value_cents: positive("MERCATO_HIGH_VALUE_CENTS", 50_000, i64::MAX)?,
            loyalty: {
                let defaults = app::loyalty::domain::LoyaltyRules::default();
                app::loyalty::domain::LoyaltyRules {
                    points_per_euro: positive("MERCATO_POINTS_PER_EURO", defaults.points_per_euro, 10_000)?,
                    points_per_euro_redeemed: positive(
                        "MERCATO_POINTS_PER_EURO_REDEEMED",
                        defaults.points_per_euro_redeemed,
                        1_000_000,
                    )?,
                    max_redeem_bp: positive("MERCATO_POINTS_MAX_REDEEM_PCT", defaults.max_redeem_bp / 100, 100)? * 100,
                    expiry_ms: positive("MERCATO_POINTS_EXPIRY_DAYS", defaults.expiry_ms / 86_400_000, 36_500)?
                        * 86_400_000,
                    review_points: match var("MERCATO_POINTS_PER_REVIEW") {
                        // 0 turns review incentives off (reviews are then not labelled incentivized).
                        Some(raw) if raw.trim() == "0" => 0,
                        Some(_) => positive("MERCATO_POINTS_PER_REVIEW", defaults.review_points, 100_000)?,
                        None => defaults.review_points,
                    },
                    referrer_points: match var("MERCATO_REFERRER_POINTS") {
                        Some(raw) if raw.trim() == "0" => 0,
                        _ => positive("MERCATO_REFERRER_POINTS", defaults.referrer_points, 1_000_000)?,
                    },
                    referee_points: match var("MERCATO_REFEREE_POINTS") {
                        Some(raw) if raw.trim() == "0" => 0,
                        _ => positive("MERCATO_REFEREE_POINTS", defaults.referee_points, 1_000_000)?,
                    },
                    referrals_per_month: positive(
                        "MERCATO_REFERRALS_PER_MONTH",
                        defaults.referrals_per_month,
                        100_000,
                    )?,
                }
            },
            posts_per_minute: positive("MERCATO_POSTS_PER_MINUTE", 10, 10_000)? as u32,
            recommendations: app::recommendations::domain::RecRules {
                upsell_band_pct: positive("MERCATO_UPSELL_BAND_PCT", 200, 10_000)?.max(101),
                min_support: positive("MERCATO_REC_MIN_SUPPORT", 2, 1_000_000)?,
            },
            price_review_every: std::time::Duration::from_secs(
                positive("MERCATO_PRICE_REVIEW_MINUTES", 10, 24 * 60)? as u64 * 60,
            ),
            addon_window_minutes: positive("MERCATO_ADDON_WINDOW_MINUTES", 30, 7 * 24 * 60)?,
            limits: {
                let defaults = app::shared::limits::AbuseLimits::default();
                let rate = |name: &str, default: u32| positive(name, i64::from(default), 1_000_000).map(|n| n as u32);
                app::shared::limits::AbuseLimits {
                    logins_per_ip_per_minute: rate(
                        "MERCATO_LOGINS_PER_IP_PER_MINUTE",
                        defaults.logins_per_ip_per_minute,
                    )?,
                    registrations_per_ip_per_hour: rate(
                        "MERCATO_REGISTRATIONS_PER_IP_PER_HOUR",
                        defaults.registrations_per_ip_per_hour,
                    )?,
                    posts_per_ip_per_minute: rate("MERCATO_POSTS_PER_IP_PER_MINUTE", defaults.posts_per_ip_per_minute)?,
                    events_per_visitor_per_second: rate(
                        "MERCATO_EVENTS_PER_VISITOR_PER_SECOND",
                        defaults.events_per_visitor_per_second,
                    )?,
                    events_per_ip_per_second: rate(
                        "MERCATO_EVENTS_PER_IP_PER_SECOND",
                        defaults.events_per_ip_per_second,
                    )?,
                    login_failures_before_delay: rate(
                        "MERCATO_LOGIN_FAILURES_BEFORE_DELAY",
                        defaults.login_failures_before_delay,
                    )?,
                    login_delay_secs: positive("MERCATO_LOGIN_DELAY_SECONDS", defaults.login_delay_secs as i64, 900)?
                        as u64,
                    trusted_proxy_hops: match var("MERCATO_TRUSTED_PROXY_HOPS") {
                        Some(raw) if raw.trim() == "0" => 0,
                        Some(_) => positive("MERCATO_TRUSTED_PROXY_HOPS", 1, 10)? as u32,
                        None => defaults.trusted_proxy_hops,
                    },
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::addr_is_loopback;

    #[test]
    fn cookies_default_to_secure_unless_the_shop_listens_on_loopback() {
        assert!(addr_is_loopback("127.0.0.1:3000"));
        assert!(addr_is_loopback("[::1]:3000"));
        assert!(!addr_is_loopback("0.0.0.0:3000"));
        assert!(!addr_is_loopback("10.0.0.5:8080"));
    }
}
