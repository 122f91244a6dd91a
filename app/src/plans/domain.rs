//! Plans, entitlements and the subscription lifecycle as pure rules (no I/O): which features
//! a plan sells, what a plan change does, how much of a period is credited, when a period
//! ends. Compiled for the server and the browser.

use serde::{Deserialize, Serialize};

/// A feature a plan can sell. The keys are stored in plan versions and named in API errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    BasicSearch,
    ViewProducts,
    AdvancedFilters,
    Wishlist,
    PersonalizedRecommendations,
    PrioritySupport,
    CommunityPosting,
}

impl Feature {
    pub const ALL: [Feature; 7] = [
        Feature::BasicSearch,
        Feature::ViewProducts,
        Feature::AdvancedFilters,
        Feature::Wishlist,
        Feature::PersonalizedRecommendations,
        Feature::PrioritySupport,
        Feature::CommunityPosting,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Feature::BasicSearch => "basic_search",
            Feature::ViewProducts => "view_products",
            Feature::AdvancedFilters => "advanced_filters",
            Feature::Wishlist => "wishlist",
            Feature::PersonalizedRecommendations => "personalized_recommendations",
            Feature::PrioritySupport => "priority_support",
            Feature::CommunityPosting => "community_posting",
        }
    }

    pub fn parse(key: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|feature| feature.key() == key.trim())
    }

    /// What the pricing page calls it.
    pub fn label(self) -> &'static str {
        match self {
            Feature::BasicSearch => "Product search",
            Feature::ViewProducts => "Product pages",
            Feature::AdvancedFilters => "Filters: price range, rating, in stock, sort",
            Feature::Wishlist => "Wishlist with back-in-stock alerts",
            Feature::PersonalizedRecommendations => "Recommendations picked for you",
            Feature::PrioritySupport => "Priority support",
            Feature::CommunityPosting => "Posting in the members' community",
        }
    }

    /// Stored form: comma-separated keys, in [`Feature::ALL`] order, unknown keys dropped.
    pub fn parse_list(stored: &str) -> Vec<Feature> {
        let mut features: Vec<Feature> = stored.split(',').filter_map(Feature::parse).collect();
        features.sort();
        features.dedup();
        features
    }

    pub fn join(features: &[Feature]) -> String {
        let mut features = features.to_vec();
        features.sort();
        features.dedup();
        features.iter().map(|feature| feature.key()).collect::<Vec<_>>().join(",")
    }
}

/// The plan every account without a subscription is on.
pub const FREE_PLAN: &str = "free";

/// One version of a plan, as sold from its creation on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Plan {
    pub key: String,
    pub name: String,
    /// Higher is more: moving to a higher rank is an upgrade.
    pub rank: i64,
    pub version: i64,
    /// Per monthly period.
    pub price_cents: i64,
    pub features: Vec<Feature>,
}

impl Plan {
    pub fn includes(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }

    pub fn is_free(&self) -> bool {
        self.key == FREE_PLAN
    }
}

/// What an account may use right now (`GET /api/v1/me/entitlements`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Entitlements {
    pub plan: String,
    pub plan_version: i64,
    pub features: Vec<Feature>,
    /// Until when this answer holds without looking again (the end of the paid period, when
    /// a renewal or a scheduled downgrade changes it); `None`: until the plan changes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub valid_until: Option<i64>,
    /// An invoice is unpaid past the grace period: the paid features are paused (these are
    /// the free plan's) until it is paid.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub overdue: bool,
}

impl Entitlements {
    pub fn of(plan: &Plan, valid_until: Option<i64>) -> Entitlements {
        Entitlements {
            plan: plan.key.clone(),
            plan_version: plan.version,
            features: plan.features.clone(),
            valid_until,
            overdue: false,
        }
    }

    pub fn has(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }

    pub fn is_valid_at(&self, now_ms: i64) -> bool {
        self.valid_until.is_none_or(|until| now_ms < until)
    }
}

/// How long an invoice may stay unpaid before the paid features pause. They resume as soon
/// as it is paid; the subscription itself carries on (and keeps renewing and invoicing).
pub const PAYMENT_GRACE_MS: i64 = 14 * DAY_MS;

/// When the paid features of an account whose oldest open invoice dates from
/// `oldest_open` pause (`None`: nothing unpaid).
pub fn pause_at(oldest_open: Option<i64>) -> Option<i64> {
    oldest_open.map(|created_at| created_at + PAYMENT_GRACE_MS)
}

/// Whether a feature is usable here, and if not which plan unlocks it. Pages render
/// [`Gate::Locked`] as the `locked-feature` box with an upgrade link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gate {
    Open,
    /// The visitor must log in first (features tied to an account).
    LogIn,
    Locked {
        plan: String,
        plan_name: String,
    },
}

impl Gate {
    pub fn is_open(&self) -> bool {
        matches!(self, Gate::Open)
    }
}

/// The cheapest plan (lowest rank) whose current version includes `feature`.
pub fn cheapest_plan_with(plans: &[Plan], feature: Feature) -> Option<&Plan> {
    plans.iter().filter(|plan| plan.includes(feature)).min_by_key(|plan| plan.rank)
}

/// What asking for `target` does to a subscription on `current` (with `scheduled`, a plan
/// already set to start at the period end).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// From free to a paid plan: a new period starts now and is invoiced in full.
    Subscribe,
    /// To a higher paid plan: immediate, same period; the unused part of the old plan is
    /// credited and the rest of the period on the new plan charged.
    Upgrade,
    /// To a lower paid plan: takes effect at the period end.
    Downgrade,
    /// To free: the paid plan runs until the period end, then stops.
    Cancel,
    /// Back to the current plan while a downgrade or cancellation was scheduled.
    Resume,
}

/// `None` when nothing would change (already on that plan, nothing scheduled).
pub fn classify(current: &Plan, scheduled: Option<&str>, target: &Plan) -> Option<Change> {
    if target.key == current.key {
        return scheduled.is_some().then_some(Change::Resume);
    }
    if target.rank > current.rank {
        return Some(if current.is_free() { Change::Subscribe } else { Change::Upgrade });
    }
    if scheduled == Some(target.key.as_str()) {
        return None;
    }
    Some(if target.is_free() { Change::Cancel } else { Change::Downgrade })
}

/// The part of `price_cents` for what is left of the period `[start, end)` at `at`, rounded
/// down (in the shopper's favour for a charge, in the shop's for a credit, never a cent
/// more than the price). Integer arithmetic only.
pub fn prorate(price_cents: i64, start: i64, end: i64, at: i64) -> i64 {
    let length = (end - start).max(1) as i128;
    let remaining = (end - at).clamp(0, end - start) as i128;
    ((price_cents.max(0) as i128 * remaining) / length) as i64
}

/// The invoice lines of an upgrade at `at` from `from` to `to` within `[start, end)`:
/// a credit for the unused part of `from`, a charge for the rest of the period on `to`.
pub fn upgrade_lines(from: &Plan, to: &Plan, start: i64, end: i64, at: i64) -> [(String, i64); 2] {
    let credit = prorate(from.price_cents, start, end, at);
    let charge = prorate(to.price_cents, start, end, at);
    [
        (format!("Unused time on {} (until {})", from.name, crate::shared::format_utc_date(end)), -credit),
        (format!("Remaining time on {} (until {})", to.name, crate::shared::format_utc_date(end)), charge),
    ]
}

use crate::shared::{civil_from_days, days_from_civil, DAY_MS};

fn days_in_month(year: i64, month: i64) -> i64 {
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    days_from_civil(next_year, next_month, 1) - days_from_civil(year, month, 1)
}

/// The same moment one calendar month later (UTC), on the last day of the month when the
/// day does not exist there (31 January → 28/29 February), as card processors bill.
pub fn add_month(epoch_ms: i64) -> i64 {
    let days = epoch_ms.div_euclid(DAY_MS);
    let time_of_day = epoch_ms.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    let (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    let day = day.min(days_in_month(year, month));
    days_from_civil(year, month, day) * DAY_MS + time_of_day
}

/// An invoice as the account page and the admin list show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvoiceRow {
    pub id: i64,
    pub email: String,
    pub status: String,
    pub total_cents: i64,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    /// `[label, cents]` pairs.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<serde_json::Value>>))]
    pub lines: Vec<(String, i64)>,
}

/// An account's subscription as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubscriptionView {
    /// The version the account is on (its price and features).
    pub plan: Plan,
    pub period_end: Option<i64>,
    /// The plan scheduled to start at the period end (a downgrade or cancellation).
    pub next_plan: Option<String>,
    /// The oldest unpaid invoice's date, once it is past the grace period (features paused).
    pub overdue_since: Option<i64>,
}

/// Subscribers and monthly recurring revenue of one plan version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VersionStats {
    pub plan: String,
    pub version: i64,
    pub price_cents: i64,
    pub subscribers: i64,
    /// Of which set to leave at the period end.
    pub leaving: i64,
    pub mrr_cents: i64,
}

/// Parsed admin input for a new plan version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanEdit {
    pub name: String,
    pub price_cents: i64,
    pub features: Vec<Feature>,
}

/// Validates a plan edit. The free plan costs nothing; a paid plan costs at least 0.50
/// (less is below what any processor can charge) and at most 10,000.00 a month.
pub fn validate_plan_edit(
    key: &str,
    name: &str,
    price_cents: i64,
    features: &[Feature],
) -> Result<PlanEdit, crate::shared::AppError> {
    use crate::shared::AppError;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(AppError::invalid("name", "Give the plan a name of 1 to 40 characters."));
    }
    if key == FREE_PLAN && price_cents != 0 {
        return Err(AppError::invalid("price", "The free plan costs nothing."));
    }
    if key != FREE_PLAN && !(50..=1_000_000).contains(&price_cents) {
        return Err(AppError::invalid("price", "A paid plan costs between €0.50 and €10,000.00 a month."));
    }
    let mut features = features.to_vec();
    features.sort();
    features.dedup();
    Ok(PlanEdit { name: name.to_string(), price_cents, features })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plan(key: &str, rank: i64, price_cents: i64) -> Plan {
        Plan { key: key.into(), name: key.into(), rank, version: 1, price_cents, features: vec![] }
    }

    #[test]
    fn feature_lists_round_trip_and_drop_unknown_keys() {
        let features = Feature::parse_list("wishlist,nonsense,basic_search,wishlist");
        assert_eq!(features, vec![Feature::BasicSearch, Feature::Wishlist]);
        assert_eq!(Feature::join(&features), "basic_search,wishlist");
        for feature in Feature::ALL {
            assert_eq!(Feature::parse(feature.key()), Some(feature));
        }
    }

    #[test]
    fn changes_are_classified_by_rank_and_schedule() {
        let (free, basic, premium) = (plan("free", 0, 0), plan("basic", 1, 499), plan("premium", 2, 999));
        assert_eq!(classify(&free, None, &basic), Some(Change::Subscribe));
        assert_eq!(classify(&basic, None, &premium), Some(Change::Upgrade));
        assert_eq!(classify(&premium, None, &basic), Some(Change::Downgrade));
        assert_eq!(classify(&premium, None, &free), Some(Change::Cancel));
        assert_eq!(classify(&premium, Some("free"), &premium), Some(Change::Resume));
        assert_eq!(classify(&premium, None, &premium), None);
        assert_eq!(classify(&premium, Some("basic"), &basic), None);
        assert_eq!(classify(&premium, Some("basic"), &free), Some(Change::Cancel));
        assert_eq!(classify(&basic, Some("free"), &premium), Some(Change::Upgrade));
    }

    #[test]
    fn an_upgrade_halfway_credits_half_the_old_plan_and_charges_half_the_new() {
        let (basic, premium) = (plan("basic", 1, 500), plan("premium", 2, 1000));
        let lines = upgrade_lines(&basic, &premium, 0, 30 * DAY_MS, 15 * DAY_MS);
        assert_eq!(lines[0].1, -250);
        assert_eq!(lines[1].1, 500);
    }

    #[test]
    fn months_are_calendar_months_clamped_to_their_last_day() {
        let jan_31 = days_from_civil(2027, 1, 31) * DAY_MS + 3_600_000;
        assert_eq!(civil_from_days(add_month(jan_31).div_euclid(DAY_MS)), (2027, 2, 28));
        assert_eq!(add_month(jan_31).rem_euclid(DAY_MS), 3_600_000);
        let jan_31_leap = days_from_civil(2028, 1, 31) * DAY_MS;
        assert_eq!(civil_from_days(add_month(jan_31_leap) / DAY_MS), (2028, 2, 29));
        let dec_15 = days_from_civil(2026, 12, 15) * DAY_MS;
        assert_eq!(civil_from_days(add_month(dec_15) / DAY_MS), (2027, 1, 15));
    }

    #[test]
    fn the_free_plan_stays_free_and_paid_plans_cost_something() {
        assert!(validate_plan_edit("free", "Free", 100, &[]).is_err());
        assert!(validate_plan_edit("basic", "Basic", 10, &[]).is_err());
        assert!(validate_plan_edit("basic", " ", 499, &[]).is_err());
        let edit = validate_plan_edit("basic", " Basic ", 499, &[Feature::Wishlist, Feature::BasicSearch]).unwrap();
        assert_eq!(edit.name, "Basic");
        assert_eq!(edit.features, vec![Feature::BasicSearch, Feature::Wishlist]);
    }

    proptest! {
        /// A credit or charge is never negative, never more than the price, and shrinks as
        /// the period goes by.
        #[test]
        fn proration_is_bounded_and_monotonic(
            price in 0i64..10_000_000,
            start in 0i64..4_000_000_000_000,
            length in 1i64..100 * DAY_MS,
            a in 0i64..200 * DAY_MS,
            b in 0i64..200 * DAY_MS,
        ) {
            let end = start + length;
            let (early, late) = (start + a.min(b) - DAY_MS, start + a.max(b) - DAY_MS);
            let early_amount = prorate(price, start, end, early);
            let late_amount = prorate(price, start, end, late);
            prop_assert!((0..=price).contains(&early_amount));
            prop_assert!(late_amount <= early_amount);
            prop_assert_eq!(prorate(price, start, end, start), price);
            prop_assert_eq!(prorate(price, start, end, end), 0);
        }

        /// Every month is 28–31 days later, at the same time of day, and months never
        /// drift: twelve steps from the 15th land on the 15th.
        #[test]
        fn a_month_is_28_to_31_days(at in 0i64..8_000_000_000_000) {
            let next = add_month(at);
            prop_assert!((28 * DAY_MS..=31 * DAY_MS).contains(&(next - at)));
            prop_assert_eq!(next.rem_euclid(DAY_MS), at.rem_euclid(DAY_MS));
        }
    }
}
