//! Loyalty server functions: the account's points block, the leaderboard, and the owner's
//! loyalty admin (adjustments, badges, challenges, orders). Admin functions check the role.

// The `#[server]` macro generates code an item-level `allow` does not reach.
#![allow(clippy::too_many_arguments)]

#[cfg(feature = "ssr")]
use super::domain::Goal;
use super::domain::{Badge, Challenge, LeaderboardEntry, LedgerRow, Period, Tier};
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The account page's points block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsPage {
    pub balance: i64,
    pub pending: i64,
    pub tier: Tier,
    pub earned_12_months: i64,
    pub leaderboard_opt_out: bool,
    pub badges: Vec<Badge>,
    pub challenges: Vec<Challenge>,
    pub ledger: Vec<LedgerRow>,
}

#[server(prefix = "/rpc")]
pub async fn get_points_page() -> Result<Option<PointsPage>, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        return Ok(None);
    };
    let summary = super::ssr::summary(&state.db, user.id).await?;
    Ok(Some(PointsPage {
        balance: summary.balance,
        pending: summary.pending,
        tier: summary.tier,
        earned_12_months: summary.earned_12_months,
        leaderboard_opt_out: summary.leaderboard_opt_out,
        badges: super::ssr::badges(&state.db, Some(user.id)).await?,
        challenges: super::ssr::challenges(&state.db, Some(user.id)).await?,
        ledger: super::ssr::ledger(&state.db, user.id, None, 20).await?,
    }))
}

/// The account page's leaderboard setting (a checkbox: present = hide me).
#[server(prefix = "/rpc")]
pub async fn set_leaderboard_visibility(hide: Option<String>) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let user = identity.require_user()?;
    super::ssr::set_leaderboard_opt_out(&state.db, user.id, hide.is_some()).await?;
    crate::state::redirect(&format!("/account?leaderboard={}", if hide.is_some() { "hidden" } else { "shown" }));
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderboardPage {
    pub period: Period,
    pub entries: Vec<LeaderboardEntry>,
}

#[server(prefix = "/rpc")]
pub async fn get_leaderboard(period: Option<String>) -> Result<LeaderboardPage, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let period = period.as_deref().and_then(Period::parse).unwrap_or(Period::Week);
    let entries = super::ssr::leaderboard(&state.db, period, identity.user.as_ref().map(|u| u.id), 20).await?;
    Ok(LeaderboardPage { period, entries })
}

/// The checkout's points control for an order of `total_cents`: (balance, the most points
/// the order takes, points worth 1.00). `None` when logged out or when paying with points is
/// switched off (flag `points_redemption`).
#[server(prefix = "/rpc")]
pub async fn get_checkout_points(total_cents: i64) -> Result<Option<(i64, i64, i64)>, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        return Ok(None);
    };
    if !crate::flags::ssr::for_request(&state).await?.is_on(crate::flags::domain::keys::POINTS_REDEMPTION) {
        return Ok(None);
    }
    let balance = super::ssr::balance(&state.db, user.id).await?;
    let max_points = super::domain::max_redeemable(total_cents, &state.loyalty);
    Ok(Some((balance, max_points, state.loyalty.points_per_euro_redeemed)))
}

/// Everything `/admin/loyalty` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoyaltyAdmin {
    /// (day number since 1970, issued, redeemed, expired, outstanding at the day's end) for
    /// the days of the last 30 with activity.
    pub daily: Vec<(i64, i64, i64, i64, i64)>,
    pub outstanding: i64,
    pub badges: Vec<Badge>,
    pub challenges: Vec<Challenge>,
    /// (order, customer e-mail), newest first.
    pub orders: Vec<(crate::cart::domain::Order, String)>,
    /// Referral link clicks, registrations through a link, first paid orders.
    pub referrals: super::domain::ReferralFunnel,
}

#[server(prefix = "/rpc")]
pub async fn get_loyalty_admin() -> Result<LoyaltyAdmin, AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let (daily, outstanding) = super::ssr::daily_points(&state.db, 30).await?;
    Ok(LoyaltyAdmin {
        daily: daily.into_iter().map(|d| (d.day, d.issued, d.redeemed, d.expired, d.outstanding)).collect(),
        outstanding,
        badges: super::ssr::badges(&state.db, None).await?,
        challenges: super::ssr::challenges(&state.db, None).await?,
        orders: crate::cart::ssr::recent_orders(&state.db, 30).await?,
        referrals: super::referrals::funnel(&state.db, None).await?,
    })
}

/// The account page's referral block: the shopper's link (its code created on the first
/// visit) and how it did. `None` when logged out.
#[server(prefix = "/rpc")]
pub async fn get_my_referral() -> Result<Option<super::domain::MyReferral>, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        return Ok(None);
    };
    Ok(Some(super::referrals::my_referral(&state.db, user.id).await?))
}

/// Adds or removes points on an account by e-mail, with the reason.
#[server(prefix = "/rpc")]
pub async fn adjust_points(email: String, delta: String, reason: String) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    let result = async {
        let email = crate::accounts::domain::Email::parse(&email)
            .map_err(|_| AppError::invalid("email", "Enter the customer's e-mail."))?;
        let user_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(state.db.pool())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("account {}", email.as_str())))?;
        let delta: i64 = delta
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("delta", "Enter a whole number of points, like 250 or -100."))?;
        super::ssr::adjust(&state.db, user_id, delta, &reason, admin.id).await?;
        Ok(format!("{delta:+} points for {}", email.as_str()))
    }
    .await;
    crate::state::admin_redirect("/admin/loyalty", result)
}

#[server(prefix = "/rpc")]
pub async fn create_badge(
    key: String,
    name: String,
    description: String,
    goal: String,
    threshold: String,
) -> Result<(), AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let result = async {
        let goal = Goal::parse(&goal).ok_or_else(|| AppError::invalid("goal", "Choose what the badge counts."))?;
        let threshold: i64 =
            threshold.trim().parse().map_err(|_| AppError::invalid("threshold", "Enter a whole number."))?;
        super::ssr::create_badge(&state.db, key.trim(), &name, &description, goal, threshold).await?;
        Ok(format!("Badge {} created", name.trim()))
    }
    .await;
    crate::state::admin_redirect("/admin/loyalty", result)
}

#[server(prefix = "/rpc")]
pub async fn create_challenge(
    title: String,
    goal: String,
    target: String,
    reward_points: String,
    starts: String,
    ends: String,
) -> Result<(), AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let result = async {
        let goal = Goal::parse(&goal).ok_or_else(|| AppError::invalid("goal", "Choose what the challenge counts."))?;
        let number = |field: &str, raw: &str| {
            raw.trim().parse::<i64>().map_err(|_| AppError::invalid(field, "Enter a whole number."))
        };
        let starts_at =
            crate::shared::parse_date(&starts).ok_or_else(|| AppError::invalid("starts", "Enter the first day."))?;
        // The last day is included: the challenge runs until the end of it.
        let ends_at = crate::shared::parse_date(&ends)
            .ok_or_else(|| AppError::invalid("ends", "Enter the last day."))?
            + super::domain::DAY_MS;
        super::ssr::create_challenge(
            &state.db,
            &title,
            goal,
            number("target", &target)?,
            number("reward_points", &reward_points)?,
            starts_at,
            ends_at,
        )
        .await?;
        Ok(format!("Challenge {} created", title.trim()))
    }
    .await;
    crate::state::admin_redirect("/admin/loyalty", result)
}

/// Ships, cancels or refunds an order (with its points and, for a cancellation, its stock).
#[server(prefix = "/rpc")]
pub async fn order_action(order_id: i64, action: String) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    let result = async {
        let parsed = crate::cart::ssr::OrderAction::parse(&action)
            .ok_or_else(|| AppError::invalid("action", "Fulfil, cancel or refund."))?;
        crate::cart::ssr::order_action(&state.db, order_id, parsed, admin.id).await?;
        Ok(format!("Order #{order_id}: {action} done"))
    }
    .await;
    crate::state::admin_redirect("/admin/loyalty", result)
}
