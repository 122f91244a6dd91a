//! Loyalty rules without I/O: how many points a purchase earns, how many may be spent on an
//! order and what they are worth, VIP tiers, leaderboard periods, badge and challenge
//! progress. Integer arithmetic only. Compiled for the server and the browser.

use serde::{Deserialize, Serialize};

/// The shop's loyalty settings (from the environment, see the server's config).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoyaltyRules {
    /// Points earned per whole euro actually paid (not the part paid with points).
    pub points_per_euro: i64,
    /// Points that are worth 1.00 at checkout (default 100).
    pub points_per_euro_redeemed: i64,
    /// At most this share of an order may be paid with points, in basis points (5000 = 50%).
    pub max_redeem_bp: i64,
    /// Points expire after this long without earning or spending (default 12 months).
    pub expiry_ms: i64,
    /// Points for an approved review.
    pub review_points: i64,
    /// Points a referrer earns when a friend they referred completes a first paid order.
    pub referrer_points: i64,
    /// Points that friend (the referee) earns for the same order.
    pub referee_points: i64,
    /// Referred registrations one referrer may collect per calendar month (UTC).
    pub referrals_per_month: i64,
}

pub use crate::shared::DAY_MS;

impl Default for LoyaltyRules {
    fn default() -> Self {
        LoyaltyRules {
            points_per_euro: 5,
            points_per_euro_redeemed: 100,
            max_redeem_bp: 5_000,
            expiry_ms: 365 * DAY_MS,
            review_points: 50,
            referrer_points: 500,
            referee_points: 250,
            referrals_per_month: 10,
        }
    }
}

/// VIP tiers, by points earned in the last 12 months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Bronze,
    Silver,
    Gold,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Bronze, Tier::Silver, Tier::Gold];

    /// Points earned in 12 months from which the tier applies.
    pub fn threshold(self) -> i64 {
        match self {
            Tier::Bronze => 0,
            Tier::Silver => 1_000,
            Tier::Gold => 5_000,
        }
    }

    /// Earn multiplier in basis points.
    pub fn multiplier_bp(self) -> i64 {
        match self {
            Tier::Bronze => 10_000,
            Tier::Silver => 11_000,
            Tier::Gold => 12_500,
        }
    }

    /// Stable lowercase key (`bronze`), as in the API.
    pub fn key(self) -> &'static str {
        match self {
            Tier::Bronze => "bronze",
            Tier::Silver => "silver",
            Tier::Gold => "gold",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tier::Bronze => "Bronze",
            Tier::Silver => "Silver",
            Tier::Gold => "Gold",
        }
    }

    pub fn of(earned_12_months: i64) -> Tier {
        Tier::ALL.into_iter().rev().find(|tier| earned_12_months >= tier.threshold()).unwrap_or(Tier::Bronze)
    }

    pub fn next(self) -> Option<Tier> {
        match self {
            Tier::Bronze => Some(Tier::Silver),
            Tier::Silver => Some(Tier::Gold),
            Tier::Gold => None,
        }
    }
}

/// Earn multiplier of a subscription plan, in basis points (paying members earn faster).
pub fn plan_multiplier_bp(plan: &str) -> i64 {
    match plan {
        "basic" => 12_500,
        "premium" => 15_000,
        _ => 10_000,
    }
}

/// Points a purchase earns: whole euros paid × rate × plan multiplier × tier multiplier,
/// rounded down.
pub fn purchase_points(paid_cents: i64, rules: &LoyaltyRules, plan_bp: i64, tier_bp: i64) -> i64 {
    let euros = i128::from(paid_cents.max(0) / 100);
    let points = euros * i128::from(rules.points_per_euro) * i128::from(plan_bp) * i128::from(tier_bp) / 100_000_000;
    i64::try_from(points).unwrap_or(i64::MAX)
}

/// Points spent on an order and the discount they buy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    pub points: i64,
    pub discount_cents: i64,
}

/// Why points cannot be spent as asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedeemError {
    Negative,
    /// More than the balance.
    NotEnough {
        balance: i64,
    },
    /// More than the share of the order points may pay.
    OverLimit {
        max_points: i64,
    },
}

impl RedeemError {
    pub fn message(self) -> String {
        match self {
            RedeemError::Negative => "Points to use cannot be negative.".into(),
            RedeemError::NotEnough { balance } => format!("You have {balance} points to use."),
            RedeemError::OverLimit { max_points } => {
                format!("Points can pay at most half of the order: up to {max_points} points here.")
            }
        }
    }
}

/// The most points an order of `total_cents` may take.
pub fn max_redeemable(total_cents: i64, rules: &LoyaltyRules) -> i64 {
    let max_discount = i128::from(total_cents.max(0)) * i128::from(rules.max_redeem_bp) / 10_000;
    i64::try_from(max_discount * i128::from(rules.points_per_euro_redeemed) / 100).unwrap_or(0)
}

/// Checks `points` against the balance and the order's limit. The discount is rounded down
/// to whole cents, and only the points that buy it are spent (never a point for nothing).
pub fn redemption(
    points: i64,
    total_cents: i64,
    balance: i64,
    rules: &LoyaltyRules,
) -> Result<Redemption, RedeemError> {
    if points < 0 {
        return Err(RedeemError::Negative);
    }
    let max_points = max_redeemable(total_cents, rules);
    if points > max_points {
        return Err(RedeemError::OverLimit { max_points });
    }
    if points > balance {
        return Err(RedeemError::NotEnough { balance });
    }
    let rate = i128::from(rules.points_per_euro_redeemed.max(1));
    let discount_cents = (i128::from(points) * 100 / rate) as i64;
    let spent = ((i128::from(discount_cents) * rate + 99) / 100) as i64;
    Ok(Redemption { points: spent.min(points), discount_cents })
}

/// Leaderboard periods a moment counts in: all time, its month (`m2026-11`) and its ISO week
/// (`w2026-48`), UTC.
pub fn period_keys(epoch_ms: i64) -> [String; 3] {
    let days = epoch_ms.div_euclid(DAY_MS);
    let (year, month, _) = crate::shared::civil_from_days(days);
    let (week_year, week) = iso_week(days);
    ["all".to_string(), format!("m{year:04}-{month:02}"), format!("w{week_year:04}-{week:02}")]
}

/// ISO 8601 week (year, week) of the day `days` after 1970-01-01 (a Thursday).
pub fn iso_week(days: i64) -> (i64, i64) {
    let weekday = (days + 3).rem_euclid(7); // Monday = 0
    let thursday = days - weekday + 3;
    let (year, _, _) = crate::shared::civil_from_days(thursday);
    let first_day = crate::shared::days_from_civil(year, 1, 1);
    (year, (thursday - first_day) / 7 + 1)
}

/// Which leaderboard to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Week,
    Month,
    All,
}

impl Period {
    pub fn parse(raw: &str) -> Option<Period> {
        match raw {
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            "all" => Some(Period::All),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
            Period::All => "all",
        }
    }

    /// The stored period key at `now`.
    pub fn at(self, now_ms: i64) -> String {
        let [all, month, week] = period_keys(now_ms);
        match self {
            Period::Week => week,
            Period::Month => month,
            Period::All => all,
        }
    }
}

/// What a badge or a challenge counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    Orders,
    Categories,
    PointsEarned,
    SpendCents,
    ReviewsApproved,
    /// Friends referred who completed a first paid order (and kept it).
    ReferralConverted,
}

impl Goal {
    pub const ALL: [Goal; 6] = [
        Goal::Orders,
        Goal::Categories,
        Goal::PointsEarned,
        Goal::SpendCents,
        Goal::ReviewsApproved,
        Goal::ReferralConverted,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Goal::Orders => "orders",
            Goal::Categories => "categories",
            Goal::PointsEarned => "points_earned",
            Goal::SpendCents => "spend_cents",
            Goal::ReviewsApproved => "reviews_approved",
            Goal::ReferralConverted => "referral_converted",
        }
    }

    pub fn parse(raw: &str) -> Option<Goal> {
        Goal::ALL.into_iter().find(|goal| goal.key() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            Goal::Orders => "orders placed",
            Goal::Categories => "categories bought from",
            Goal::PointsEarned => "points earned",
            Goal::SpendCents => "cents spent",
            Goal::ReviewsApproved => "reviews approved",
            Goal::ReferralConverted => "friends referred who ordered",
        }
    }
}

/// Progress towards a target, for an accessible progress bar: (value, max, percent).
pub fn progress(value: i64, target: i64) -> (i64, i64, i64) {
    let target = target.max(1);
    let value = value.clamp(0, target);
    (value, target, value * 100 / target)
}

/// Counts of a shopper's activity that badges and challenges are judged on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub orders: i64,
    pub categories: i64,
    pub points_earned: i64,
    pub spend_cents: i64,
    pub reviews_approved: i64,
    pub referrals_converted: i64,
}

impl Activity {
    pub fn count(&self, goal: Goal) -> i64 {
        match goal {
            Goal::Orders => self.orders,
            Goal::Categories => self.categories,
            Goal::PointsEarned => self.points_earned,
            Goal::SpendCents => self.spend_cents,
            Goal::ReviewsApproved => self.reviews_approved,
            Goal::ReferralConverted => self.referrals_converted,
        }
    }
}

/// One ledger row as the shopper sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LedgerRow {
    pub id: i64,
    pub bucket: String,
    pub delta: i64,
    pub kind: String,
    pub reason: String,
    pub created_at: i64,
}

/// One leaderboard line: display names only, never e-mails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LeaderboardEntry {
    pub rank: i64,
    pub display_name: String,
    pub points: i64,
    /// The caller's own line.
    pub you: bool,
}

/// A badge definition, and whether (when) the shopper has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Badge {
    pub key: String,
    pub name: String,
    pub description: String,
    pub goal: Goal,
    pub threshold: i64,
    pub awarded_at: Option<i64>,
}

/// A challenge and one shopper's progress in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Challenge {
    pub id: i64,
    pub title: String,
    pub goal: Goal,
    pub target: i64,
    pub reward_points: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub progress: i64,
    pub completed: bool,
}

/// Why a registration through a referral link records no referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralRefusal {
    /// The link's owner registering again (the same account).
    SameAccount,
    /// An alias of the referrer's own e-mail address.
    EmailAlias,
    /// A device the referrer registered or logged in from.
    SameDevice,
    /// The referrer collected this month's allowance.
    MonthlyCap,
}

impl ReferralRefusal {
    pub fn key(self) -> &'static str {
        match self {
            ReferralRefusal::SameAccount => "same_account",
            ReferralRefusal::EmailAlias => "email_alias",
            ReferralRefusal::SameDevice => "same_device",
            ReferralRefusal::MonthlyCap => "monthly_cap",
        }
    }
}

/// What the guards look at when a referred visitor registers.
pub struct ReferralAttempt<'a> {
    pub referrer_id: i64,
    pub referee_id: i64,
    pub referrer_email: &'a str,
    pub referee_email: &'a str,
    /// The registering visitor's `mercato_vid` is one of the referrer's devices.
    pub shared_device: bool,
    /// Referrals the referrer collected since the start of this month.
    pub referrals_this_month: i64,
}

/// The guards against self-referral and farming, in order: same account, e-mail alias,
/// shared device, monthly cap.
pub fn check_referral(attempt: &ReferralAttempt<'_>, rules: &LoyaltyRules) -> Result<(), ReferralRefusal> {
    if attempt.referrer_id == attempt.referee_id {
        return Err(ReferralRefusal::SameAccount);
    }
    if email_alias_key(attempt.referrer_email) == email_alias_key(attempt.referee_email) {
        return Err(ReferralRefusal::EmailAlias);
    }
    if attempt.shared_device {
        return Err(ReferralRefusal::SameDevice);
    }
    if attempt.referrals_this_month >= rules.referrals_per_month {
        return Err(ReferralRefusal::MonthlyCap);
    }
    Ok(())
}

/// The mailbox an address delivers to, as far as the common providers tell: lowercase,
/// without a `+tag`, and for Gmail without dots in the local part (`googlemail.com` is
/// `gmail.com`). Two addresses with the same key are one person's.
pub fn email_alias_key(email: &str) -> String {
    let email = email.trim().to_lowercase();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email;
    };
    let local = local.split('+').next().unwrap_or(local);
    let (local, domain) = match domain {
        "gmail.com" | "googlemail.com" => (local.replace('.', ""), "gmail.com"),
        _ => (local.to_string(), domain),
    };
    format!("{local}@{domain}")
}

/// Referral codes are 16 characters of lowercase base32: 80 random bits, not guessable.
pub const REFERRAL_CODE_LEN: usize = 16;

pub fn is_referral_code(raw: &str) -> bool {
    raw.len() == REFERRAL_CODE_LEN && raw.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// Lowercase base32 (RFC 4648 alphabet) of 10 bytes: a referral code.
pub fn referral_code_from(bytes: [u8; 10]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bits: u128 = 0;
    for byte in bytes {
        bits = (bits << 8) | u128::from(byte);
    }
    (0..REFERRAL_CODE_LEN).rev().map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char).collect()
}

/// Midnight UTC on the first day of the month of `epoch_ms`.
pub fn month_start_ms(epoch_ms: i64) -> i64 {
    let (year, month, _) = crate::shared::civil_from_days(epoch_ms.div_euclid(DAY_MS));
    crate::shared::days_from_civil(year, month, 1) * DAY_MS
}

/// The referral funnel: link clicks, registrations through a link, first paid orders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReferralFunnel {
    pub clicks: i64,
    pub registrations: i64,
    pub first_orders: i64,
}

/// A shopper's referral link and how it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MyReferral {
    pub code: String,
    /// The path to share (`/r/{code}`), relative to the shop's address.
    pub link: String,
    pub clicks: i64,
    pub registrations: i64,
    pub first_orders: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_purchase_earns_on_whole_euros_with_plan_and_tier_multipliers() {
        let rules = LoyaltyRules::default();
        assert_eq!(purchase_points(4_999, &rules, 10_000, 10_000), 245);
        assert_eq!(purchase_points(10_000, &rules, plan_multiplier_bp("premium"), Tier::Gold.multiplier_bp()), 937);
        assert_eq!(purchase_points(99, &rules, 15_000, 12_500), 0);
        assert_eq!(purchase_points(-500, &rules, 10_000, 10_000), 0);
    }

    #[test]
    fn redemption_is_capped_by_balance_and_half_the_order() {
        let rules = LoyaltyRules::default();
        assert_eq!(max_redeemable(3_000, &rules), 1_500);
        assert_eq!(redemption(1_500, 3_000, 2_000, &rules), Ok(Redemption { points: 1_500, discount_cents: 1_500 }));
        assert_eq!(redemption(1_501, 3_000, 5_000, &rules), Err(RedeemError::OverLimit { max_points: 1_500 }));
        assert_eq!(redemption(800, 3_000, 700, &rules), Err(RedeemError::NotEnough { balance: 700 }));
        assert_eq!(redemption(-1, 3_000, 700, &rules), Err(RedeemError::Negative));
        // 200 points = 1.00: 301 points buy 1.50 and only 300 are spent.
        let dear = LoyaltyRules { points_per_euro_redeemed: 200, ..rules };
        assert_eq!(redemption(301, 3_000, 1_000, &dear), Ok(Redemption { points: 300, discount_cents: 150 }));
    }

    #[test]
    fn tiers_follow_points_earned_in_a_year() {
        assert_eq!(Tier::of(0), Tier::Bronze);
        assert_eq!(Tier::of(999), Tier::Bronze);
        assert_eq!(Tier::of(1_000), Tier::Silver);
        assert_eq!(Tier::of(50_000), Tier::Gold);
        assert_eq!(Tier::Gold.next(), None);
    }

    #[test]
    fn periods_are_calendar_months_and_iso_weeks() {
        // 2026-11-27 is a Friday in ISO week 48.
        let day = crate::shared::days_from_civil(2026, 11, 27);
        assert_eq!(period_keys(day * DAY_MS + 5), ["all".to_string(), "m2026-11".into(), "w2026-48".into()]);
        // 2027-01-01 (a Friday) belongs to the last ISO week of 2026 (week 53).
        assert_eq!(iso_week(crate::shared::days_from_civil(2027, 1, 1)), (2026, 53));
        // 2024-12-30 (a Monday) starts week 1 of 2025.
        assert_eq!(iso_week(crate::shared::days_from_civil(2024, 12, 30)), (2025, 1));
    }

    proptest! {
        /// Whatever is asked, a redemption never spends more than asked, than the balance or
        /// than half the order buys, and never gives more than a cent per point's worth.
        #[test]
        fn redemptions_stay_within_every_limit(
            points in 0i64..1_000_000,
            total in 0i64..10_000_000,
            balance in 0i64..1_000_000,
            rate in 1i64..1_000,
        ) {
            let rules = LoyaltyRules { points_per_euro_redeemed: rate, ..LoyaltyRules::default() };
            if let Ok(r) = redemption(points, total, balance, &rules) {
                prop_assert!(r.points <= points && r.points <= balance);
                prop_assert!(r.discount_cents * 2 <= total);
                prop_assert!(i128::from(r.discount_cents) * i128::from(rate) <= i128::from(r.points) * 100);
                prop_assert!(r.discount_cents >= 0 && r.points >= 0);
            }
        }

        /// Earning is monotonic in what was paid and never negative.
        #[test]
        fn more_paid_never_earns_fewer_points(a in 0i64..100_000_000, b in 0i64..100_000_000) {
            let rules = LoyaltyRules::default();
            let (low, high) = (a.min(b), a.max(b));
            prop_assert!(purchase_points(low, &rules, 12_500, 11_000) <= purchase_points(high, &rules, 12_500, 11_000));
        }
    }

    #[test]
    fn email_aliases_normalise_case_tags_and_gmail_dots() {
        let check =
            |a: &str, b: &str, same: bool| assert_eq!(email_alias_key(a) == email_alias_key(b), same, "{a} {b}");
        check("Ann@Example.com", "ann@example.com", true);
        check("ann+shop@example.com", "ann@example.com", true);
        check("a.n.n@gmail.com", "ann@gmail.com", true);
        check("A.nn+x@googlemail.com", "ann@gmail.com", true);
        check("a.nn@example.com", "ann@example.com", false);
        check("ann@example.com", "ann@example.org", false);
        check("bob@gmail.com", "ann@gmail.com", false);
    }

    #[test]
    fn the_referral_guards_refuse_self_alias_device_and_the_monthly_cap() {
        let rules = LoyaltyRules { referrals_per_month: 2, ..LoyaltyRules::default() };
        let ok = ReferralAttempt {
            referrer_id: 1,
            referee_id: 2,
            referrer_email: "ann@gmail.com",
            referee_email: "bob@example.com",
            shared_device: false,
            referrals_this_month: 1,
        };
        assert_eq!(check_referral(&ok, &rules), Ok(()));
        let refused = |attempt: ReferralAttempt<'_>| check_referral(&attempt, &rules).unwrap_err();
        assert_eq!(refused(ReferralAttempt { referee_id: 1, ..ok }), ReferralRefusal::SameAccount);
        assert_eq!(refused(ReferralAttempt { referee_email: "A.N.N+2@gmail.com", ..ok }), ReferralRefusal::EmailAlias);
        assert_eq!(refused(ReferralAttempt { shared_device: true, ..ok }), ReferralRefusal::SameDevice);
        assert_eq!(refused(ReferralAttempt { referrals_this_month: 2, ..ok }), ReferralRefusal::MonthlyCap);
    }

    #[test]
    fn referral_codes_are_sixteen_base32_characters_and_months_start_at_midnight_utc() {
        let code = referral_code_from([0xff; 10]);
        assert_eq!(code, "7777777777777777");
        assert!(is_referral_code(&code));
        assert_eq!(referral_code_from([0; 10]), "aaaaaaaaaaaaaaaa");
        assert!(!is_referral_code("short"));
        assert!(!is_referral_code("AAAAAAAAAAAAAAAA"));
        assert!(!is_referral_code("aaaaaaaaaaaaaaa1"));
        // 2026-12-02T07:00Z → 2026-12-01T00:00Z; 2024-02-29 → 2024-02-01.
        assert_eq!(month_start_ms(1_796_194_800_000), 1_796_083_200_000);
        assert_eq!(month_start_ms(1_709_164_800_000), 1_706_745_600_000);
    }
}
