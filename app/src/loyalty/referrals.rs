//! Referrals (server only): each account's code, the clicks on its link, the referral
//! recorded in the registration's transaction (unless a guard of
//! [`super::domain::check_referral`] trips), and the `referrals` outbox consumer that pays
//! both sides once, on the referee's first fulfilled paid order, and takes it back on that
//! order's refund.
//!
//! Invariants:
//! - One referral per referee (`UNIQUE (referee_id)`), converted by one order at most
//!   (`order_id` set only while NULL): the reward is paid once, however often the event is
//!   delivered.
//! - The points go through [`super::ssr::append`] with sources `referral:{id}:referrer` and
//!   `referral:{id}:referee`, unique in the ledger; the reversal takes back at most the
//!   balance, as the order points' clawback does, so no balance goes negative.

use super::domain::{
    check_referral, is_referral_code, month_start_ms, referral_code_from, LoyaltyRules, MyReferral, ReferralAttempt,
    ReferralFunnel, ReferralRefusal,
};
use super::ssr::{append, Bucket, Entry};
use crate::db::Db;
use crate::events::{self, Event};
use crate::shared::{now_ms, AppError};
use rand_core::{OsRng, RngCore};
use sqlx::{AnyConnection, Row};

/// The cookie `/r/{code}` sets: the code, for the registration that may follow.
pub const REFERRAL_COOKIE: &str = "mercato_ref";
/// How long a click can lead to a referred registration.
pub const REFERRAL_COOKIE_DAYS: i64 = 30;
/// The consumer that pays and reverses referral rewards.
pub const REFERRALS_CONSUMER: &str = "referrals";

pub fn referral_cookie(code: &str, secure: bool) -> String {
    format!(
        "{REFERRAL_COOKIE}={code}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        REFERRAL_COOKIE_DAYS * 86_400,
        if secure { "; Secure" } else { "" }
    )
}

/// Sent with a registration: the cookie has done its work.
pub fn clear_referral_cookie(secure: bool) -> String {
    format!("{REFERRAL_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

/// The account's code, created the first time it is asked for.
pub async fn code_of(db: &Db, user_id: i64) -> Result<String, AppError> {
    let existing: Option<String> = sqlx::query_scalar("SELECT code FROM referral_codes WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(db.pool())
        .await?;
    if let Some(code) = existing {
        return Ok(code);
    }
    let mut bytes = [0u8; 10];
    OsRng.fill_bytes(&mut bytes);
    // Two first requests at once: one insert wins and both read its code.
    sqlx::query(
        "INSERT INTO referral_codes (user_id, code, created_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(referral_code_from(bytes))
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(sqlx::query_scalar("SELECT code FROM referral_codes WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(db.pool())
        .await?)
}

async fn referrer_of(conn: &mut AnyConnection, code: &str) -> Result<Option<i64>, sqlx::Error> {
    if !is_referral_code(code) {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT user_id FROM referral_codes WHERE code = $1").bind(code).fetch_optional(&mut *conn).await
}

/// Counts a click on `/r/{code}`; false for an unknown code (nothing counted).
#[tracing::instrument(name = "referrals.click", skip(db, visitor_id))]
pub async fn record_click(db: &Db, code: &str, visitor_id: &str) -> Result<bool, AppError> {
    let mut conn = db.pool().acquire().await?;
    let Some(referrer_id) = referrer_of(&mut conn, code).await? else {
        return Ok(false);
    };
    sqlx::query("INSERT INTO referral_clicks (referrer_id, visitor_id, created_at) VALUES ($1, $2, $3)")
        .bind(referrer_id)
        .bind(visitor_id)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Remembers a device (`mercato_vid`) the account registered or logged in from.
pub async fn remember_device(
    conn: &mut AnyConnection,
    user_id: i64,
    visitor_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    if visitor_id.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO account_devices (user_id, visitor_id, first_seen_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, visitor_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(visitor_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The new account `referee_id` registered with `code` in its cookie: records the
/// referral, inside the registration's transaction, unless a guard trips (answered as
/// `Ok(Err(_))`, and nothing is written). An unknown code records nothing either.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(name = "referrals.record", skip(conn, rules, referee_email, visitor_id))]
pub async fn record_referral(
    conn: &mut AnyConnection,
    for_update: &str,
    rules: &LoyaltyRules,
    code: &str,
    referee_id: i64,
    referee_email: &str,
    visitor_id: &str,
    now: i64,
) -> Result<Option<Result<i64, ReferralRefusal>>, sqlx::Error> {
    let Some(referrer_id) = referrer_of(conn, code).await? else {
        return Ok(None);
    };
    // The referrer's row is locked (PostgreSQL) so two registrations at once cannot both
    // take the last place under the monthly cap; SQLite has one writer anyway.
    let referrer_email: String = sqlx::query_scalar(&format!("SELECT email FROM users WHERE id = $1{for_update}"))
        .bind(referrer_id)
        .fetch_one(&mut *conn)
        .await?;
    let shared_device: Option<String> =
        sqlx::query_scalar("SELECT visitor_id FROM account_devices WHERE user_id = $1 AND visitor_id = $2")
            .bind(referrer_id)
            .bind(visitor_id)
            .fetch_optional(&mut *conn)
            .await?;
    let referrals_this_month: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM referrals WHERE referrer_id = $1 AND created_at >= $2")
            .bind(referrer_id)
            .bind(month_start_ms(now))
            .fetch_one(&mut *conn)
            .await?;
    let attempt = ReferralAttempt {
        referrer_id,
        referee_id,
        referrer_email: &referrer_email,
        referee_email,
        shared_device: shared_device.is_some(),
        referrals_this_month,
    };
    if let Err(refusal) = check_referral(&attempt, rules) {
        tracing::info!(referrer_id, referee_id, refusal = refusal.key(), "referral not recorded");
        return Ok(Some(Err(refusal)));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO referrals (referrer_id, referee_id, referrer_points, referee_points, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(referrer_id)
    .bind(referee_id)
    .bind(rules.referrer_points)
    .bind(rules.referee_points)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some(Ok(id)))
}

fn ledger_error(error: AppError) -> sqlx::Error {
    sqlx::Error::Protocol(format!("referral ledger: {error}"))
}

/// Outbox consumer: `order_fulfilled` of a referee's first paid order pays both sides;
/// `order_refunded` of that order takes it back.
pub async fn apply_referrals(conn: &mut AnyConnection, event: &Event) -> Result<(), sqlx::Error> {
    let field = |name: &str| event.payload.get(name).and_then(serde_json::Value::as_i64);
    let (Some(order_id), Some(user_id)) = (field("order_id"), field("user_id")) else {
        return Ok(());
    };
    match event.kind.as_str() {
        events::kind::ORDER_FULFILLED => convert(conn, order_id, user_id, event.created_at).await,
        events::kind::ORDER_REFUNDED => reverse(conn, order_id, event.created_at).await,
        _ => Ok(()),
    }
}

async fn convert(conn: &mut AnyConnection, order_id: i64, referee_id: i64, now: i64) -> Result<(), sqlx::Error> {
    let paid: Option<i64> =
        sqlx::query_scalar("SELECT total_cents - discount_cents FROM orders WHERE id = $1 AND user_id = $2")
            .bind(order_id)
            .bind(referee_id)
            .fetch_optional(&mut *conn)
            .await?;
    // An order paid entirely with points is not a paid order.
    if paid.unwrap_or(0) <= 0 {
        return Ok(());
    }
    let row = sqlx::query(
        "UPDATE referrals SET order_id = $1, converted_at = $2 \
         WHERE referee_id = $3 AND order_id IS NULL AND reversed_at IS NULL \
         RETURNING id, referrer_id, referrer_points, referee_points",
    )
    .bind(order_id)
    .bind(now)
    .bind(referee_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let (id, referrer_id, referrer_points, referee_points): (i64, i64, i64, i64) = (
        row.try_get("id")?,
        row.try_get("referrer_id")?,
        row.try_get("referrer_points")?,
        row.try_get("referee_points")?,
    );
    for (user_id, points, side, reason) in [
        (referrer_id, referrer_points, "referrer", "A friend you referred made a first order".to_string()),
        (referee_id, referee_points, "referee", format!("Welcome reward for your first order #{order_id}")),
    ] {
        let entry = Entry {
            user_id,
            bucket: Bucket::Available,
            delta: points,
            kind: "referral",
            source: format!("referral:{id}:{side}"),
            reason,
            actor_id: None,
        };
        append(conn, &entry, now).await.map_err(ledger_error)?;
    }
    events::publish(
        conn,
        events::kind::REFERRAL_CONVERTED,
        &format!("user:{referrer_id}"),
        &serde_json::json!({ "user_id": referrer_id, "referee_id": referee_id, "referral_id": id, "order_id": order_id }),
    )
    .await?;
    Ok(())
}

async fn reverse(conn: &mut AnyConnection, order_id: i64, now: i64) -> Result<(), sqlx::Error> {
    let row = sqlx::query(
        "UPDATE referrals SET reversed_at = $1 WHERE order_id = $2 AND reversed_at IS NULL \
         RETURNING id, referrer_id, referee_id",
    )
    .bind(now)
    .bind(order_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let (id, referrer_id, referee_id): (i64, i64, i64) =
        (row.try_get("id")?, row.try_get("referrer_id")?, row.try_get("referee_id")?);
    for (user_id, side) in [(referrer_id, "referrer"), (referee_id, "referee")] {
        let paid: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM points_ledger WHERE source = $1 AND bucket = 'available'",
        )
        .bind(format!("referral:{id}:{side}"))
        .fetch_one(&mut *conn)
        .await?;
        if paid <= 0 {
            continue;
        }
        // Points already spent cannot be taken back: take what is there.
        let balance: i64 = sqlx::query_scalar("SELECT balance FROM points_accounts WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or(0);
        let taken = paid.min(balance);
        let reason = if taken < paid {
            format!("Referral order #{order_id} refunded ({} points already spent)", paid - taken)
        } else {
            format!("Referral order #{order_id} refunded")
        };
        let entry = Entry {
            user_id,
            bucket: Bucket::Available,
            delta: -taken,
            kind: "reverse",
            source: format!("referral:{id}:{side}:reverse"),
            reason,
            actor_id: None,
        };
        append(conn, &entry, now).await.map_err(ledger_error)?;
    }
    Ok(())
}

/// The funnel of one referrer, or of the whole shop (`None`).
pub async fn funnel(db: &Db, referrer_id: Option<i64>) -> Result<ReferralFunnel, AppError> {
    // -1 matches no account: one statement serves both.
    let (all, id) = (i64::from(referrer_id.is_none()), referrer_id.unwrap_or(-1));
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql).bind(all).bind(id).fetch_one(db.pool()).await
    };
    Ok(ReferralFunnel {
        clicks: count("SELECT COUNT(*) FROM referral_clicks WHERE $1 = 1 OR referrer_id = $2").await?,
        registrations: count("SELECT COUNT(*) FROM referrals WHERE $1 = 1 OR referrer_id = $2").await?,
        first_orders: count(
            "SELECT COUNT(*) FROM referrals WHERE ($1 = 1 OR referrer_id = $2) AND order_id IS NOT NULL \
             AND reversed_at IS NULL",
        )
        .await?,
    })
}

pub async fn my_referral(db: &Db, user_id: i64) -> Result<MyReferral, AppError> {
    let code = code_of(db, user_id).await?;
    let funnel = funnel(db, Some(user_id)).await?;
    Ok(MyReferral {
        link: format!("/r/{code}"),
        code,
        clicks: funnel.clicks,
        registrations: funnel.registrations,
        first_orders: funnel.first_orders,
    })
}
