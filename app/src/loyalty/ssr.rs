//! The points ledger and everything that writes to it (server only).
//!
//! Invariants:
//! - The ledger is append-only. `points_accounts.balance` and `.pending` are the sums of the
//!   account's `available` and `pending` rows, moved in the same transaction as each append
//!   by [`append`], which refuses (and the caller rolls back) anything that would take either
//!   below zero: a balance never goes negative, and an overdraft writes nothing.
//! - Each cause (`source`) counts once per bucket (a unique key): replays are no-ops.

use super::domain::{
    period_keys, plan_multiplier_bp, purchase_points, redemption, Activity, Badge, Challenge, Goal, LeaderboardEntry,
    LedgerRow, LoyaltyRules, Period, Tier,
};
use crate::db::Db;
use crate::events::{self, Event};
use crate::shared::{now_ms, AppError};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

/// The consumer that awards badges and completed challenges.
pub const LOYALTY_CONSUMER: &str = "loyalty";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    /// Spendable points.
    Available,
    /// Earned on an order that is not fulfilled yet.
    Pending,
}

impl Bucket {
    fn key(self) -> &'static str {
        match self {
            Bucket::Available => "available",
            Bucket::Pending => "pending",
        }
    }
}

/// Ledger kinds that are points earned (badges, tiers, leaderboards count them).
const EARNED_KINDS: [&str; 5] = ["fulfil", "review", "challenge", "referral", "reverse"];
/// Kinds that count as activity (expiry is measured from the last one).
const ACTIVE_KINDS: [&str; 6] = ["earn", "fulfil", "redeem", "review", "challenge", "referral"];

/// One ledger row to append.
pub struct Entry<'a> {
    pub user_id: i64,
    pub bucket: Bucket,
    pub delta: i64,
    pub kind: &'a str,
    pub source: String,
    pub reason: String,
    pub actor_id: Option<i64>,
}

/// The refusal of an append that would overdraw a bucket.
fn overdraft(available: i64) -> AppError {
    AppError::invalid("points", format!("Not enough points: {available} available."))
}

async fn ensure_account(conn: &mut AnyConnection, user_id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO points_accounts (user_id, balance, pending, earned_total, last_activity_at) \
         VALUES ($1, 0, 0, 0, $2) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends `entry` and moves the account with it, inside the caller's transaction. Returns
/// false when this source was already applied to this bucket (nothing written).
pub async fn append(conn: &mut AnyConnection, entry: &Entry<'_>, now: i64) -> Result<bool, AppError> {
    if entry.delta == 0 {
        return Ok(false);
    }
    ensure_account(conn, entry.user_id, now).await?;
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO points_ledger (user_id, bucket, delta, kind, source, reason, actor_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (source, bucket) DO NOTHING RETURNING id",
    )
    .bind(entry.user_id)
    .bind(entry.bucket.key())
    .bind(entry.delta)
    .bind(entry.kind)
    .bind(&entry.source)
    .bind(&entry.reason)
    .bind(entry.actor_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_none() {
        return Ok(false);
    }
    let earned = if entry.bucket == Bucket::Available && EARNED_KINDS.contains(&entry.kind) { entry.delta } else { 0 };
    let active = ACTIVE_KINDS.contains(&entry.kind);
    let column = match entry.bucket {
        Bucket::Available => "balance",
        Bucket::Pending => "pending",
    };
    let moved = sqlx::query(&format!(
        "UPDATE points_accounts SET {column} = {column} + $1, earned_total = earned_total + $2, \
         last_activity_at = CASE WHEN $3 = 1 AND $4 > last_activity_at THEN $4 ELSE last_activity_at END \
         WHERE user_id = $5 AND {column} + $1 >= 0"
    ))
    .bind(entry.delta)
    .bind(earned)
    .bind(i64::from(active))
    .bind(now)
    .bind(entry.user_id)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() != 1 {
        let available: i64 = sqlx::query_scalar(&format!("SELECT {column} FROM points_accounts WHERE user_id = $1"))
            .bind(entry.user_id)
            .fetch_one(&mut *conn)
            .await?;
        return Err(overdraft(available));
    }
    if earned != 0 {
        for period in period_keys(now) {
            sqlx::query(
                "INSERT INTO points_period_totals (period, user_id, points) VALUES ($1, $2, $3) \
                 ON CONFLICT (period, user_id) DO UPDATE SET points = points_period_totals.points + $3",
            )
            .bind(period)
            .bind(entry.user_id)
            .bind(earned)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(true)
}

/// Points earned and posted in the 12 months before `now` (the VIP tier's measure).
pub async fn earned_in_year(conn: &mut AnyConnection, user_id: i64, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM points_ledger WHERE user_id = $1 AND bucket = 'available' \
         AND kind IN ('fulfil', 'review', 'challenge', 'referral', 'reverse') AND created_at > $2",
    )
    .bind(user_id)
    .bind(now - 365 * super::domain::DAY_MS)
    .fetch_one(&mut *conn)
    .await
}

/// What checkout needs from loyalty: the redemption (checked against the locked balance)
/// and, once the order exists, the ledger rows. Call inside checkout's transaction.
pub async fn redeem_for_order(
    conn: &mut AnyConnection,
    for_update: &str,
    rules: &LoyaltyRules,
    user_id: i64,
    points: i64,
    total_cents: i64,
) -> Result<super::domain::Redemption, AppError> {
    let balance: Option<i64> =
        sqlx::query_scalar(&format!("SELECT balance FROM points_accounts WHERE user_id = $1{for_update}"))
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    redemption(points, total_cents, balance.unwrap_or(0), rules)
        .map_err(|error| AppError::invalid("redeem_points", error.message()))
}

/// Writes an order's points: the redemption (spent now) and the purchase's earn (pending
/// until the order is fulfilled), at the plan's and tier's multipliers.
pub async fn record_order_points(
    conn: &mut AnyConnection,
    rules: &LoyaltyRules,
    user_id: i64,
    order_id: i64,
    redeemed: i64,
    paid_cents: i64,
    now: i64,
) -> Result<i64, AppError> {
    if redeemed > 0 {
        let entry = Entry {
            user_id,
            bucket: Bucket::Available,
            delta: -redeemed,
            kind: "redeem",
            source: format!("order:{order_id}:redeem"),
            reason: format!("Paid part of order #{order_id}"),
            actor_id: None,
        };
        append(conn, &entry, now).await?;
    }
    let source = format!("order:{order_id}:earn");
    earn_pending(conn, rules, user_id, paid_cents, source, format!("Order #{order_id} (yours when it ships)"), now)
        .await
}

/// The pending earn of a post-purchase add-on of `sku` to an order: its paid price at the
/// account's current multipliers, pending until the order ships, like the order's.
pub async fn record_addon_points(
    conn: &mut AnyConnection,
    rules: &LoyaltyRules,
    user_id: i64,
    order_id: i64,
    sku: &str,
    paid_cents: i64,
    now: i64,
) -> Result<i64, AppError> {
    let source = format!("{}{sku}", addon_source_prefix(order_id));
    let reason = format!("{sku} added to order #{order_id} (yours when it ships)");
    earn_pending(conn, rules, user_id, paid_cents, source, reason, now).await
}

/// Writes a purchase's earn as pending points, at the plan's and tier's multipliers.
async fn earn_pending(
    conn: &mut AnyConnection,
    rules: &LoyaltyRules,
    user_id: i64,
    paid_cents: i64,
    source: String,
    reason: String,
    now: i64,
) -> Result<i64, AppError> {
    // The plan the account may use now (a paused or ended plan earns like free).
    let plan = crate::plans::ssr::compute_entitlements(conn, user_id, now).await?.plan;
    let tier = Tier::of(earned_in_year(conn, user_id, now).await?);
    let points = purchase_points(paid_cents, rules, plan_multiplier_bp(&plan), tier.multiplier_bp());
    let entry = Entry { user_id, bucket: Bucket::Pending, delta: points, kind: "earn", source, reason, actor_id: None };
    append(conn, &entry, now).await?;
    Ok(points)
}

/// Ledger sources of an order's add-on earns start with this (one per added SKU).
pub fn addon_source_prefix(order_id: i64) -> String {
    format!("order:{order_id}:addon:")
}

/// The points an order (with its add-ons) earned and has not yet posted or reversed.
async fn pending_of_order(conn: &mut AnyConnection, user_id: i64, order_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM points_ledger WHERE bucket = 'pending' \
         AND user_id = $1 AND (source IN ($2, $3, $4) OR source LIKE $5)",
    )
    .bind(user_id)
    .bind(format!("order:{order_id}:earn"))
    .bind(format!("order:{order_id}:fulfil"))
    .bind(format!("order:{order_id}:reverse"))
    .bind(format!("{}%", addon_source_prefix(order_id)))
    .fetch_one(&mut *conn)
    .await
}

/// Fulfilment: the order's pending points become spendable.
pub async fn post_order_points(
    conn: &mut AnyConnection,
    user_id: i64,
    order_id: i64,
    now: i64,
) -> Result<(), AppError> {
    let points = pending_of_order(conn, user_id, order_id).await?;
    if points <= 0 {
        return Ok(());
    }
    let source = format!("order:{order_id}:fulfil");
    let reason = format!("Order #{order_id} shipped");
    for (bucket, delta) in [(Bucket::Pending, -points), (Bucket::Available, points)] {
        let entry = Entry {
            user_id,
            bucket,
            delta,
            kind: "fulfil",
            source: source.clone(),
            reason: reason.clone(),
            actor_id: None,
        };
        append(conn, &entry, now).await?;
    }
    Ok(())
}

/// Cancellation or refund: the order's earn is taken back (from pending, or from the balance
/// once posted, never below zero) and the points it was paid with are returned.
pub async fn reverse_order_points(
    conn: &mut AnyConnection,
    user_id: i64,
    order_id: i64,
    redeemed: i64,
    now: i64,
) -> Result<(), AppError> {
    let source = format!("order:{order_id}:reverse");
    let pending = pending_of_order(conn, user_id, order_id).await?;
    if pending > 0 {
        let entry = Entry {
            user_id,
            bucket: Bucket::Pending,
            delta: -pending,
            kind: "reverse",
            source: source.clone(),
            reason: format!("Order #{order_id} cancelled"),
            actor_id: None,
        };
        append(conn, &entry, now).await?;
    }
    let posted: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM points_ledger WHERE bucket = 'available' AND source = $1",
    )
    .bind(format!("order:{order_id}:fulfil"))
    .fetch_one(&mut *conn)
    .await?;
    if redeemed > 0 {
        let entry = Entry {
            user_id,
            bucket: Bucket::Available,
            delta: redeemed,
            kind: "return",
            source: format!("order:{order_id}:return"),
            reason: format!("Points paid on order #{order_id} returned"),
            actor_id: None,
        };
        append(conn, &entry, now).await?;
    }
    if posted > 0 {
        // Points already spent elsewhere cannot be taken back: take what is there.
        let balance: i64 = sqlx::query_scalar("SELECT balance FROM points_accounts WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?;
        let taken = posted.min(balance);
        let reason = if taken < posted {
            format!("Order #{order_id} refunded ({} points already spent)", posted - taken)
        } else {
            format!("Order #{order_id} refunded")
        };
        let entry = Entry {
            user_id,
            bucket: Bucket::Available,
            delta: -taken,
            kind: "reverse",
            source,
            reason,
            actor_id: None,
        };
        append(conn, &entry, now).await?;
    }
    Ok(())
}

/// An admin's correction of a balance, with the reason (the ledger row is the audit).
pub async fn adjust(db: &Db, user_id: i64, delta: i64, reason: &str, admin_id: i64) -> Result<(), AppError> {
    let reason = reason.trim();
    if reason.chars().count() < 3 || reason.chars().count() > 200 {
        return Err(AppError::invalid("reason", "Say why, in 3 to 200 characters."));
    }
    if delta == 0 || delta.abs() > 1_000_000 {
        return Err(AppError::invalid("delta", "Adjust by a non-zero number of points up to 1,000,000."));
    }
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE id = $1").bind(user_id).fetch_optional(&mut *tx).await?;
    exists.ok_or_else(|| AppError::NotFound(format!("account {user_id}")))?;
    let entry = Entry {
        user_id,
        bucket: Bucket::Available,
        delta,
        kind: "adjust",
        source: format!("adjust:{}", crate::accounts::ssr::random_token()),
        reason: reason.to_string(),
        actor_id: Some(admin_id),
    };
    append(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Spends points outside an order (a reward redemption), in its own transaction.
pub async fn spend(db: &Db, user_id: i64, points: i64, source: &str, reason: &str) -> Result<(), AppError> {
    if points <= 0 {
        return Err(AppError::invalid("points", "Spend a positive number of points."));
    }
    let mut tx = db.begin_write().await?;
    let entry = Entry {
        user_id,
        bucket: Bucket::Available,
        delta: -points,
        kind: "redeem",
        source: source.to_string(),
        reason: reason.to_string(),
        actor_id: None,
    };
    if !append(&mut tx, &entry, now_ms()).await? {
        return Err(AppError::Conflict("Already spent.".into()));
    }
    tx.commit().await?;
    Ok(())
}

/// Awards points for a cause once (an approved review, a referral): the second call for the
/// same source is a no-op. Call inside the transaction of the cause.
pub async fn award(
    conn: &mut AnyConnection,
    user_id: i64,
    points: i64,
    kind: &str,
    source: String,
    reason: String,
) -> Result<bool, AppError> {
    let entry = Entry { user_id, bucket: Bucket::Available, delta: points, kind, source, reason, actor_id: None };
    append(conn, &entry, now_ms()).await
}

/// Expires the balance of accounts inactive for `rules.expiry_ms` (a ledger row each).
pub async fn expire_inactive(db: &Db, rules: &LoyaltyRules, now: i64) -> Result<usize, AppError> {
    let due = sqlx::query(
        "SELECT user_id, last_activity_at FROM points_accounts WHERE balance > 0 AND last_activity_at < $1 \
         ORDER BY last_activity_at LIMIT 500",
    )
    .bind(now - rules.expiry_ms)
    .fetch_all(db.pool())
    .await?;
    let mut expired = 0;
    for row in &due {
        let (user_id, since): (i64, i64) = (row.try_get("user_id")?, row.try_get("last_activity_at")?);
        let mut tx = db.begin_write().await?;
        let balance: i64 = sqlx::query_scalar(&format!(
            "SELECT balance FROM points_accounts WHERE user_id = $1 AND last_activity_at = $2{}",
            db.for_update()
        ))
        .bind(user_id)
        .bind(since)
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or(0);
        if balance > 0 {
            let entry = Entry {
                user_id,
                bucket: Bucket::Available,
                delta: -balance,
                kind: "expire",
                source: format!("expire:{user_id}:{since}"),
                reason: format!("Expired after no activity since {}", crate::shared::format_utc_date(since)),
                actor_id: None,
            };
            if append(&mut tx, &entry, now).await? {
                expired += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(expired)
}

/// Runs the hourly loyalty job (expiry) until `stop` turns true.
pub async fn run_expiry(db: Db, rules: LoyaltyRules, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(error) = expire_inactive(&db, &rules, now_ms()).await {
            tracing::warn!(%error, "points expiry failed; retrying");
        }
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => break,
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {},
        }
    }
}

/// The spendable balance (0 for an account that never had points).
pub async fn balance(db: &Db, user_id: i64) -> Result<i64, AppError> {
    let balance: Option<i64> = sqlx::query_scalar("SELECT balance FROM points_accounts WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(balance.unwrap_or(0))
}

/// `GET /me/points`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PointsSummary {
    pub balance: i64,
    pub pending: i64,
    pub tier: Tier,
    /// Points earned in the last 12 months (what the tier is judged on).
    pub earned_12_months: i64,
    pub leaderboard_opt_out: bool,
}

pub async fn summary(db: &Db, user_id: i64) -> Result<PointsSummary, AppError> {
    let mut conn = db.pool().acquire().await?;
    let row = sqlx::query("SELECT balance, pending, leaderboard_opt_out FROM points_accounts WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    let (balance, pending, opt_out) = match row {
        Some(row) => {
            (row.try_get("balance")?, row.try_get("pending")?, row.try_get::<i64, _>("leaderboard_opt_out")? != 0)
        }
        None => (0, 0, false),
    };
    let earned = earned_in_year(&mut conn, user_id, now_ms()).await?;
    Ok(PointsSummary {
        balance,
        pending,
        tier: Tier::of(earned),
        earned_12_months: earned,
        leaderboard_opt_out: opt_out,
    })
}

pub async fn ledger(db: &Db, user_id: i64, before_id: Option<i64>, limit: i64) -> Result<Vec<LedgerRow>, AppError> {
    let rows = sqlx::query(
        "SELECT id, bucket, delta, kind, reason, created_at FROM points_ledger WHERE user_id = $1 AND id < $2 \
         ORDER BY id DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(before_id.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LedgerRow {
                id: row.try_get("id")?,
                bucket: row.try_get("bucket")?,
                delta: row.try_get("delta")?,
                kind: row.try_get("kind")?,
                reason: row.try_get("reason")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

pub async fn set_leaderboard_opt_out(db: &Db, user_id: i64, opt_out: bool) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    ensure_account(&mut tx, user_id, now_ms()).await?;
    sqlx::query("UPDATE points_accounts SET leaderboard_opt_out = $1 WHERE user_id = $2")
        .bind(i64::from(opt_out))
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The top `limit` of a period (shoppers who opted out are left out).
#[tracing::instrument(name = "loyalty.leaderboard", skip(db))]
pub async fn leaderboard(
    db: &Db,
    period: Period,
    viewer: Option<i64>,
    limit: i64,
) -> Result<Vec<LeaderboardEntry>, AppError> {
    let rows = sqlx::query(
        "SELECT t.user_id, u.display_name, t.points FROM points_period_totals t \
         JOIN users u ON u.id = t.user_id JOIN points_accounts a ON a.user_id = t.user_id \
         WHERE t.period = $1 AND t.points > 0 AND a.leaderboard_opt_out = 0 \
         ORDER BY t.points DESC, t.user_id LIMIT $2",
    )
    .bind(period.at(now_ms()))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let user_id: i64 = row.try_get("user_id")?;
            Ok(LeaderboardEntry {
                rank: i as i64 + 1,
                display_name: row.try_get("display_name")?,
                points: row.try_get("points")?,
                you: viewer == Some(user_id),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// A shopper's activity in `[from, to)`: what badges and challenges count.
pub async fn activity(conn: &mut AnyConnection, user_id: i64, from: i64, to: i64) -> Result<Activity, sqlx::Error> {
    let orders = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(total_cents - discount_cents), 0) AS BIGINT) AS spent FROM orders \
         WHERE user_id = $1 AND status NOT IN ('cancelled', 'refunded') AND created_at >= $2 AND created_at < $3",
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?;
    let categories: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT p.category_slug) FROM orders o JOIN order_lines l ON l.order_id = o.id \
         JOIN products p ON p.sku = l.sku WHERE o.user_id = $1 AND o.status NOT IN ('cancelled', 'refunded') \
         AND o.created_at >= $2 AND o.created_at < $3",
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?;
    let points_earned: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM points_ledger WHERE user_id = $1 AND bucket = 'available' \
         AND kind IN ('fulfil', 'review', 'challenge', 'referral', 'reverse') AND created_at >= $2 AND created_at < $3",
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?;
    let reviews_approved: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM domain_events WHERE kind = $1 AND aggregate = $2 AND created_at >= $3 AND created_at < $4",
    )
    .bind(events::kind::REVIEW_APPROVED)
    .bind(format!("user:{user_id}"))
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?;
    let referrals_converted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM referrals WHERE referrer_id = $1 AND order_id IS NOT NULL AND reversed_at IS NULL \
         AND converted_at >= $2 AND converted_at < $3",
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Activity {
        referrals_converted,
        orders: orders.try_get("n")?,
        spend_cents: orders.try_get("spent")?,
        categories,
        points_earned,
        reviews_approved,
    })
}

pub async fn badges(db: &Db, user_id: Option<i64>) -> Result<Vec<Badge>, AppError> {
    let rows = sqlx::query(
        "SELECT b.key, b.name, b.description, b.rule, b.threshold, ub.awarded_at FROM badges b \
         LEFT JOIN user_badges ub ON ub.badge_key = b.key AND ub.user_id = $1 ORDER BY b.created_at, b.key",
    )
    .bind(user_id.unwrap_or(-1))
    .fetch_all(db.pool())
    .await?;
    let mut badges = Vec::with_capacity(rows.len());
    for row in rows {
        let rule: String = row.try_get("rule")?;
        if let Some(goal) = Goal::parse(&rule) {
            badges.push(Badge {
                key: row.try_get("key")?,
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                goal,
                threshold: row.try_get("threshold")?,
                awarded_at: row.try_get("awarded_at")?,
            });
        }
    }
    Ok(badges)
}

async fn challenge_rows(conn: &mut AnyConnection, at: Option<i64>) -> Result<Vec<Challenge>, sqlx::Error> {
    let rows = match at {
        Some(at) => {
            sqlx::query(
                "SELECT id, title, goal, target, reward_points, starts_at, ends_at FROM challenges \
                 WHERE starts_at <= $1 AND ends_at > $1 ORDER BY ends_at, id",
            )
            .bind(at)
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT id, title, goal, target, reward_points, starts_at, ends_at FROM challenges ORDER BY ends_at DESC, id",
            )
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut challenges = Vec::with_capacity(rows.len());
    for row in rows {
        let goal: String = row.try_get("goal")?;
        if let Some(goal) = Goal::parse(&goal) {
            challenges.push(Challenge {
                id: row.try_get("id")?,
                title: row.try_get("title")?,
                goal,
                target: row.try_get("target")?,
                reward_points: row.try_get("reward_points")?,
                starts_at: row.try_get("starts_at")?,
                ends_at: row.try_get("ends_at")?,
                progress: 0,
                completed: false,
            });
        }
    }
    Ok(challenges)
}

/// The running challenges with the shopper's progress (all of them for the admin: `None`).
pub async fn challenges(db: &Db, user_id: Option<i64>) -> Result<Vec<Challenge>, AppError> {
    let mut conn = db.pool().acquire().await?;
    let now = now_ms();
    let Some(user_id) = user_id else {
        return Ok(challenge_rows(&mut conn, None).await?);
    };
    let mut challenges = challenge_rows(&mut conn, Some(now)).await?;
    for challenge in &mut challenges {
        let activity = activity(&mut conn, user_id, challenge.starts_at, challenge.ends_at).await?;
        challenge.progress = activity.count(challenge.goal).min(challenge.target);
        let source = format!("challenge:{}:user:{user_id}", challenge.id);
        let rewarded: Option<i64> = sqlx::query_scalar("SELECT id FROM points_ledger WHERE source = $1")
            .bind(&source)
            .fetch_optional(&mut *conn)
            .await?;
        challenge.completed = rewarded.is_some();
    }
    Ok(challenges)
}

/// Outbox consumer: after an order, a fulfilment or an approved review, award the badges
/// and running challenges the shopper now qualifies for, each exactly once.
pub async fn apply_loyalty(conn: &mut AnyConnection, event: &Event) -> Result<(), sqlx::Error> {
    let Some(user_id) = event.payload.get("user_id").and_then(serde_json::Value::as_i64) else {
        return Ok(());
    };
    let all_time = activity(conn, user_id, 0, i64::MAX).await?;
    let badge_rows = sqlx::query("SELECT key, rule, threshold FROM badges").fetch_all(&mut *conn).await?;
    for row in badge_rows {
        let (key, rule, threshold): (String, String, i64) =
            (row.try_get("key")?, row.try_get("rule")?, row.try_get("threshold")?);
        let Some(goal) = Goal::parse(&rule) else { continue };
        if all_time.count(goal) >= threshold {
            sqlx::query(
                "INSERT INTO user_badges (user_id, badge_key, awarded_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, badge_key) DO NOTHING",
            )
            .bind(user_id)
            .bind(&key)
            .bind(event.created_at)
            .execute(&mut *conn)
            .await?;
        }
    }
    for challenge in challenge_rows(conn, Some(event.created_at)).await? {
        let progress = activity(conn, user_id, challenge.starts_at, challenge.ends_at).await?;
        if progress.count(challenge.goal) >= challenge.target {
            let entry = Entry {
                user_id,
                bucket: Bucket::Available,
                delta: challenge.reward_points,
                kind: "challenge",
                source: format!("challenge:{}:user:{user_id}", challenge.id),
                reason: format!("Challenge completed: {}", challenge.title),
                actor_id: None,
            };
            append(conn, &entry, event.created_at)
                .await
                .map_err(|error| sqlx::Error::Protocol(format!("challenge reward for user {user_id}: {error}")))?;
        }
    }
    Ok(())
}

/// A new badge rule (admin).
pub async fn create_badge(
    db: &Db,
    key: &str,
    name: &str,
    description: &str,
    goal: Goal,
    threshold: i64,
) -> Result<(), AppError> {
    let valid_key =
        (2..=40).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_key {
        return Err(AppError::invalid("key", "Use 2 to 40 lowercase letters, digits or underscores."));
    }
    let (name, description) = (name.trim(), description.trim());
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::invalid("name", "Give the badge a name of 1 to 60 characters."));
    }
    if description.chars().count() > 200 {
        return Err(AppError::invalid("description", "Describe it in at most 200 characters."));
    }
    if !(1..=100_000_000).contains(&threshold) {
        return Err(AppError::invalid("threshold", "The threshold is a positive whole number."));
    }
    let inserted = sqlx::query(
        "INSERT INTO badges (key, name, description, rule, threshold, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(name)
    .bind(description)
    .bind(goal.key())
    .bind(threshold)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::invalid("key", "A badge with this key exists."));
    }
    Ok(())
}

/// A new challenge (admin). Awarded from the next qualifying event on.
#[allow(clippy::too_many_arguments)]
pub async fn create_challenge(
    db: &Db,
    title: &str,
    goal: Goal,
    target: i64,
    reward_points: i64,
    starts_at: i64,
    ends_at: i64,
) -> Result<i64, AppError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 80 {
        return Err(AppError::invalid("title", "Give the challenge a title of 1 to 80 characters."));
    }
    if !(1..=100_000_000).contains(&target) {
        return Err(AppError::invalid("target", "The target is a positive whole number."));
    }
    if !(1..=1_000_000).contains(&reward_points) {
        return Err(AppError::invalid("reward_points", "The reward is 1 to 1,000,000 points."));
    }
    if ends_at <= starts_at {
        return Err(AppError::invalid("ends_at", "The challenge must end after it starts."));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO challenges (title, goal, target, reward_points, starts_at, ends_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(title)
    .bind(goal.key())
    .bind(target)
    .bind(reward_points)
    .bind(starts_at)
    .bind(ends_at)
    .bind(now_ms())
    .fetch_one(db.pool())
    .await?;
    Ok(id)
}

/// Points issued, redeemed and expired per day, and what is outstanding (admin chart).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DailyPoints {
    pub day: i64,
    pub issued: i64,
    pub redeemed: i64,
    pub expired: i64,
    /// Points outstanding (all balances) at the end of the day.
    pub outstanding: i64,
}

/// Points that moved on each day of `[from_ms, to_ms)` (days with no movement are left out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointsFlow {
    pub day: i64,
    pub issued: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub net: i64,
}

pub async fn points_flow(db: &Db, from_ms: i64, to_ms: i64) -> Result<Vec<PointsFlow>, AppError> {
    let rows = sqlx::query(
        "SELECT created_at / 86400000 AS day, \
         CAST(SUM(CASE WHEN delta > 0 AND kind IN ('fulfil', 'review', 'challenge', 'adjust', 'return') THEN delta ELSE 0 END) AS BIGINT) AS issued, \
         CAST(SUM(CASE WHEN kind = 'redeem' THEN -delta ELSE 0 END) AS BIGINT) AS redeemed, \
         CAST(SUM(CASE WHEN kind = 'expire' THEN -delta ELSE 0 END) AS BIGINT) AS expired, \
         CAST(SUM(delta) AS BIGINT) AS net \
         FROM points_ledger WHERE bucket = 'available' AND created_at >= $1 AND created_at < $2 \
         GROUP BY created_at / 86400000 ORDER BY day",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PointsFlow {
                day: row.try_get("day")?,
                issued: row.try_get("issued")?,
                redeemed: row.try_get("redeemed")?,
                expired: row.try_get("expired")?,
                net: row.try_get("net")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

pub async fn daily_points(db: &Db, days: i64) -> Result<(Vec<DailyPoints>, i64), AppError> {
    let since = (now_ms() / super::domain::DAY_MS - days + 1) * super::domain::DAY_MS;
    let flows = points_flow(db, since, i64::MAX).await?;
    let outstanding: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM points_accounts")
        .fetch_one(db.pool())
        .await?;
    // Walking back from today's total: each day ends at the next day's total less its net.
    let mut days = Vec::with_capacity(flows.len());
    let mut end_of_day = outstanding;
    for flow in flows.iter().rev() {
        days.push(DailyPoints {
            day: flow.day,
            issued: flow.issued,
            redeemed: flow.redeemed,
            expired: flow.expired,
            outstanding: end_of_day,
        });
        end_of_day -= flow.net;
    }
    days.reverse();
    Ok((days, outstanding))
}
