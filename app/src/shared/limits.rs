//! Abuse limits (server only): how often one network address or one account may log in,
//! register, post and send browser events, and how a run of wrong passwords slows an
//! account down.
//!
//! **Rationale:** the rate limits are per server and in memory (`governor`'s GCRA, a few
//! bytes per key): they cap what one client can do per second, and with N servers behind a
//! load balancer a client gets at most N times the rate, which is still bounded. The
//! wrong-password delay is different: it must hold across restarts and servers, or an
//! attacker could spread guesses over them, so it lives in the database
//! (`accounts::ssr::login`, table `login_attempts`).

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// The configured limits (`MERCATO_*` variables, see `server::config`). Every rate is a
/// steady rate with a burst of the same size, so a client may use a whole period's
/// allowance at once and then waits for it to refill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbuseLimits {
    /// Login attempts per network address per minute.
    pub logins_per_ip_per_minute: u32,
    /// Registrations per network address per hour.
    pub registrations_per_ip_per_hour: u32,
    /// Reviews, questions, answers and community posts per network address per minute (the
    /// per-account limit is `posts_per_minute`).
    pub posts_per_ip_per_minute: u32,
    /// Browser event batches per visitor per second (burst 10 times that).
    pub events_per_visitor_per_second: u32,
    /// Browser event batches per network address per second (burst 10 times that).
    pub events_per_ip_per_second: u32,
    /// The wrong password in a row that first locks the address (and each further one does).
    pub login_failures_before_delay: u32,
    /// The first lock; each further wrong password doubles it, up to 15 minutes.
    pub login_delay_secs: u64,
    /// Proxies in front of the app whose `X-Forwarded-For` entries are trusted (0: none,
    /// the peer address is the client).
    pub trusted_proxy_hops: u32,
}

impl Default for AbuseLimits {
    fn default() -> AbuseLimits {
        AbuseLimits {
            logins_per_ip_per_minute: 30,
            registrations_per_ip_per_hour: 30,
            posts_per_ip_per_minute: 30,
            events_per_visitor_per_second: 2,
            events_per_ip_per_second: 20,
            login_failures_before_delay: 5,
            login_delay_secs: 30,
            trusted_proxy_hops: 0,
        }
    }
}

/// The longest a run of wrong passwords locks an account.
pub const MAX_LOGIN_DELAY_SECS: u64 = 15 * 60;

/// How long an account is locked after its `failures`-th wrong password in a row: nothing
/// before the `free`-th, `base` seconds at the `free`-th, doubling with each further one, at
/// most [`MAX_LOGIN_DELAY_SECS`].
pub fn login_delay_secs(failures: u32, free: u32, base: u64) -> u64 {
    if failures < free.max(1) {
        return 0;
    }
    let doublings = (failures - free.max(1)).min(20);
    base.saturating_mul(1u64 << doublings).min(MAX_LOGIN_DELAY_SECS)
}

/// A keyed rate limiter that answers how long to wait.
#[derive(Clone)]
pub struct Limiter<K: std::hash::Hash + Eq + Clone>(Arc<DefaultKeyedRateLimiter<K>>);

impl<K: std::hash::Hash + Eq + Clone> Limiter<K> {
    /// `n` per `period`, all of them at once if the client likes.
    pub fn new(n: u32, period: std::time::Duration) -> Limiter<K> {
        let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period / n.get()).unwrap_or_else(|| Quota::per_second(n)).allow_burst(n);
        Limiter(Arc::new(RateLimiter::keyed(quota)))
    }

    /// `n` per second with a burst of `burst`.
    pub fn per_second(n: u32, burst: u32) -> Limiter<K> {
        let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Limiter(Arc::new(RateLimiter::keyed(Quota::per_second(n).allow_burst(burst))))
    }

    /// Ok, or the whole seconds (at least 1) until `key` may try again.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        let result = self
            .0
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()).as_secs().saturating_add(1));
        // Keys that are back to a full allowance carry no information; dropping them keeps
        // the map as small as the set of recently active clients.
        if self.0.len() > 100_000 {
            self.0.retain_recent();
        }
        result
    }
}

/// The key of a network address: an IPv4 address, or the /64 network of an IPv6 one (one
/// host usually holds a whole /64, so single addresses would be free to rotate).
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(segments[0], segments[1], segments[2], segments[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The client's address: the peer, or with `hops` trusted proxies in front, the entry of
/// `X-Forwarded-For` that the outermost trusted proxy saw (entries further left can be
/// forged by the client, so they are never used).
pub fn client_ip(peer: Option<IpAddr>, forwarded_for: Option<&str>, hops: u32) -> Option<IpAddr> {
    if hops == 0 {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for.unwrap_or_default().split(',').map(str::trim).collect();
    // The last proxy appended its peer; with `hops` proxies, the client is `hops` from the end.
    let index = entries.len().checked_sub(hops as usize)?;
    entries.get(index).and_then(|entry| entry.parse().ok()).or(peer)
}

/// The per-address and per-account limiters of one server.
#[derive(Clone)]
pub struct RateLimits {
    pub limits: AbuseLimits,
    pub logins_per_ip: Limiter<IpAddr>,
    pub registrations_per_ip: Limiter<IpAddr>,
    pub posts_per_ip: Limiter<IpAddr>,
}

impl RateLimits {
    pub fn new(limits: AbuseLimits) -> RateLimits {
        use std::time::Duration;
        RateLimits {
            limits,
            logins_per_ip: Limiter::new(limits.logins_per_ip_per_minute, Duration::from_secs(60)),
            registrations_per_ip: Limiter::new(limits.registrations_per_ip_per_hour, Duration::from_secs(3600)),
            posts_per_ip: Limiter::new(limits.posts_per_ip_per_minute, Duration::from_secs(60)),
        }
    }

    /// A login from `ip` (unknown addresses share one key, so they are limited too).
    pub fn check_login(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        self.logins_per_ip.check(&key_of(ip))
    }

    pub fn check_registration(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        self.registrations_per_ip.check(&key_of(ip))
    }

    pub fn check_post(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        self.posts_per_ip.check(&key_of(ip))
    }
}

fn key_of(ip: Option<IpAddr>) -> IpAddr {
    ip.map(ip_key).unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_starts_after_the_free_attempts_doubles_and_stops_at_fifteen_minutes() {
        let check = |failures, expected| assert_eq!(login_delay_secs(failures, 5, 30), expected, "{failures}");
        check(0, 0);
        check(4, 0);
        check(5, 30);
        check(6, 60);
        check(7, 120);
        check(9, 480);
        check(10, 900);
        check(64, 900);
        check(u32::MAX, 900);
    }

    #[test]
    fn forwarded_for_is_read_only_as_far_as_the_trusted_proxies_go() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let check = |forwarded: Option<&str>, hops, expected: &str| {
            assert_eq!(client_ip(Some(peer), forwarded, hops), Some(expected.parse().unwrap()), "{forwarded:?}");
        };
        check(Some("1.2.3.4"), 0, "10.0.0.1");
        check(Some("1.2.3.4"), 1, "1.2.3.4");
        // The client forged the left entry; the proxy appended the real one.
        check(Some("6.6.6.6, 1.2.3.4"), 1, "1.2.3.4");
        check(Some("6.6.6.6, 1.2.3.4, 10.0.0.9"), 2, "1.2.3.4");
        check(None, 1, "10.0.0.1");
        check(Some("garbage"), 1, "10.0.0.1");
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(other));
        assert_eq!(ip_key("::ffff:1.2.3.4".parse().unwrap()), "1.2.3.4".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_limiter_allows_its_burst_then_says_how_long_to_wait() {
        let limiter = Limiter::<u8>::new(3, std::time::Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(limiter.check(&1), Ok(()));
        }
        let wait = limiter.check(&1).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert_eq!(limiter.check(&2), Ok(()), "other keys are not affected");
    }
}
