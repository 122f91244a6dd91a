//! Reviews and Q&A storage. Every status change of a review updates the product's rating
//! summary in the same transaction, so an unapproved review is never counted; the first
//! approval awards the review points (and marks the review incentivized) and publishes
//! `review_approved` in that transaction too, so the label and the points cannot disagree.
//! Every status change also updates the search index (`community::search::reindex`) in its
//! transaction, so only approved items are ever found.

use super::domain::{
    order_answers, screen_qa, screen_review, Answer, Blocklist, Question, QueueItem, RatingSummary, Review,
    ReviewDraft, ReviewSort, Screening, Status, Target, PAGE_SIZE,
};
use super::prescreen::{prescreen, AuthorFacts, Route, Verdict};
use crate::accounts::domain::{Role, User};
use crate::community::domain::UgcKind;
use crate::community::search::reindex;
use crate::db::Db;
use crate::events::{self, kind};
use crate::loyalty::domain::LoyaltyRules;
use crate::shared::{now_ms, AppError};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// The owner's moderation settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationSettings {
    pub auto_approve_verified: bool,
    pub blocklist: Blocklist,
}

pub async fn settings(conn: &mut AnyConnection) -> Result<ModerationSettings, sqlx::Error> {
    let row = sqlx::query("SELECT auto_approve_verified, blocklist FROM moderation_settings WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(row) => ModerationSettings {
            auto_approve_verified: row.try_get::<i64, _>("auto_approve_verified")? != 0,
            // Stored already parsed and normalised, so parsing again cannot fail.
            blocklist: Blocklist::parse(&row.try_get::<String, _>("blocklist")?).unwrap_or_default(),
        },
        None => ModerationSettings::default(),
    })
}

pub async fn save_settings(
    db: &Db,
    actor_id: i64,
    auto_approve_verified: bool,
    blocklist: &str,
) -> Result<(), AppError> {
    let blocklist = Blocklist::parse(blocklist).map_err(|e| AppError::invalid(e.field, e.message))?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE moderation_settings SET auto_approve_verified = $1, blocklist = $2, updated_at = $3 WHERE id = 1",
    )
    .bind(i64::from(auto_approve_verified))
    .bind(blocklist.to_text())
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    log(&mut tx, "settings", 1, "saved", None, Some(actor_id)).await?;
    tx.commit().await?;
    Ok(())
}

async fn log(
    conn: &mut AnyConnection,
    target: &str,
    target_id: i64,
    action: &str,
    reason: Option<&str>,
    actor_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO moderation_log (target, target_id, action, reason, actor_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(target)
    .bind(target_id)
    .bind(action)
    .bind(reason)
    .bind(actor_id)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether the account bought the product (an order not cancelled or refunded).
pub async fn bought(conn: &mut AnyConnection, user_id: i64, sku: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT o.id FROM orders o JOIN order_lines l ON l.order_id = o.id \
         WHERE o.user_id = $1 AND l.sku = $2 AND o.status NOT IN ('cancelled', 'refunded') LIMIT 1",
    )
    .bind(user_id)
    .bind(sku)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

async fn product_exists(conn: &mut AnyConnection, sku: &str) -> Result<(), AppError> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT sku FROM products WHERE sku = $1").bind(sku).fetch_optional(&mut *conn).await?;
    found.map(|_| ()).ok_or_else(|| AppError::NotFound(format!("product {sku}")))
}

/// How far back the pre-screen looks for an author's repeated texts, and how many.
const RECENT_TEXTS_MS: i64 = 7 * crate::shared::DAY_MS;
const RECENT_TEXTS: i64 = 20;
const HOUR_MS: i64 = 3_600_000;

/// What the pre-screen needs to know about the author: the account's age, the items posted
/// in the last hour and the recent texts (leaving out the review being rewritten, whose old
/// text is not a repeat).
pub async fn author_facts(
    conn: &mut AnyConnection,
    user_id: i64,
    rewriting_sku: Option<&str>,
    now: i64,
) -> Result<AuthorFacts, sqlx::Error> {
    let created_at: Option<i64> = sqlx::query_scalar("SELECT created_at FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    let rows = sqlx::query(
        "SELECT r.title AS title, r.body AS body, r.updated_at AS posted_at, r.sku AS sku FROM reviews r \
         WHERE r.user_id = $1 AND r.updated_at >= $2 \
         UNION ALL SELECT NULL, q.body, q.created_at, NULL FROM questions q WHERE q.user_id = $1 AND q.created_at >= $2 \
         UNION ALL SELECT NULL, a.body, a.created_at, NULL FROM answers a WHERE a.user_id = $1 AND a.created_at >= $2 \
         UNION ALL SELECT NULL, c.body, c.created_at, NULL FROM community_posts c \
         WHERE c.user_id = $1 AND c.created_at >= $2 \
         ORDER BY posted_at DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(now - RECENT_TEXTS_MS)
    .bind(RECENT_TEXTS)
    .fetch_all(&mut *conn)
    .await?;
    let mut facts = AuthorFacts { account_age_ms: now - created_at.unwrap_or(now), ..AuthorFacts::default() };
    for row in rows {
        let (title, body, at, sku): (Option<String>, String, i64, Option<String>) =
            (row.try_get("title")?, row.try_get("body")?, row.try_get("posted_at")?, row.try_get("sku")?);
        if at >= now - HOUR_MS {
            facts.items_last_hour += 1;
        }
        if sku.is_some() && sku.as_deref() == rewriting_sku {
            continue;
        }
        facts.recent_texts.push(match title {
            Some(title) => format!("{title}\n{body}"),
            None => body,
        });
    }
    Ok(facts)
}

/// A refusal by the pre-screen: the author sees why (the text stays in their form).
pub(crate) fn refused(field: &'static str, verdict: &Verdict) -> AppError {
    let why = verdict.summary().unwrap_or_default();
    tracing::info!(reasons = %why, "post refused by the pre-screen");
    AppError::invalid(field, format!("This cannot be published: {why}."))
}

/// Adds (`delta` = 1) or removes (-1) one approved rating from the product's summary.
async fn count_rating(conn: &mut AnyConnection, sku: &str, rating: i64, delta: i64) -> Result<(), sqlx::Error> {
    let column = match rating {
        1 => "rating_1",
        2 => "rating_2",
        3 => "rating_3",
        4 => "rating_4",
        _ => "rating_5",
    };
    sqlx::query(&format!(
        "INSERT INTO product_stats (sku, rating_count, rating_total, {column}) VALUES ($1, $2, $3, $2) \
         ON CONFLICT (sku) DO UPDATE SET rating_count = product_stats.rating_count + $2, \
         rating_total = product_stats.rating_total + $3, {column} = product_stats.{column} + $2"
    ))
    .bind(sku)
    .bind(delta)
    .bind(delta * rating)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const REVIEW_COLUMNS: &str = "r.id, r.sku, r.rating, r.title, r.body, u.display_name, r.verified_buyer, \
     r.sponsored_by, r.incentive_points, r.helpful_count, r.merchant_reply, r.created_at, r.updated_at, \
     r.status, r.reject_reason";

fn review_from_row(row: &AnyRow) -> Result<Review, sqlx::Error> {
    Ok(Review {
        id: row.try_get("id")?,
        sku: row.try_get("sku")?,
        rating: row.try_get("rating")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        author: row.try_get("display_name")?,
        verified_buyer: row.try_get::<i64, _>("verified_buyer")? != 0,
        sponsored_by: row.try_get("sponsored_by")?,
        incentive_points: row.try_get("incentive_points")?,
        helpful_count: row.try_get("helpful_count")?,
        merchant_reply: row.try_get("merchant_reply")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        status: Status::parse(&row.try_get::<String, _>("status")?).unwrap_or(Status::Pending),
        reject_reason: row.try_get("reject_reason")?,
    })
}

pub async fn review(conn: &mut AnyConnection, id: i64) -> Result<Option<Review>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {REVIEW_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(review_from_row).transpose()
}

/// What saving a review did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub review: Review,
    /// False when it replaced the author's earlier review of the product.
    pub created: bool,
}

/// Writes or rewrites the shopper's one review of `sku`. A rewrite goes back to moderation
/// (and out of the rating until approved again); disclosures stay.
#[tracing::instrument(name = "reviews.submit", skip(db, rules, user, draft), fields(user_id = user.id))]
pub async fn submit_review(
    db: &Db,
    rules: &LoyaltyRules,
    user: &User,
    sku: &str,
    draft: &ReviewDraft,
) -> Result<Saved, AppError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    product_exists(&mut tx, sku).await?;
    let settings = settings(&mut tx).await?;
    let verified = bought(&mut tx, user.id, sku).await?;
    let text = format!("{}\n{}", draft.title, draft.body);
    let facts = author_facts(&mut tx, user.id, Some(sku), now).await?;
    let verdict = prescreen(&text, &facts, &settings.blocklist);
    if verdict.route == Route::Reject {
        return Err(refused("body", &verdict));
    }
    let screening = match verdict.summary() {
        Some(reasons) => Screening::Human(reasons),
        None => screen_review(verified, settings.auto_approve_verified, &settings.blocklist, &text),
    };
    let flag_reason = match &screening {
        Screening::Human(reason) => Some(reason.as_str()),
        Screening::Approve => None,
    };
    let existing = sqlx::query(&format!(
        "SELECT id, rating, status FROM reviews WHERE sku = $1 AND user_id = $2{}",
        db.for_update()
    ))
    .bind(sku)
    .bind(user.id)
    .fetch_optional(&mut *tx)
    .await?;
    let (id, created) = match existing {
        Some(row) => {
            let (id, rating, status): (i64, i64, String) =
                (row.try_get("id")?, row.try_get("rating")?, row.try_get("status")?);
            if status == Status::Approved.key() {
                count_rating(&mut tx, sku, rating, -1).await?;
            }
            sqlx::query(
                "UPDATE reviews SET rating = $1, title = $2, body = $3, status = 'pending', reject_reason = NULL, \
                 flag_reason = $4, verified_buyer = CASE WHEN verified_buyer = 1 OR $5 = 1 THEN 1 ELSE 0 END, \
                 updated_at = $6 WHERE id = $7",
            )
            .bind(draft.rating.stars())
            .bind(&draft.title)
            .bind(&draft.body)
            .bind(flag_reason)
            .bind(i64::from(verified))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            (id, false)
        }
        None => {
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO reviews (sku, user_id, rating, title, body, status, flag_reason, verified_buyer, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $8) \
                 ON CONFLICT (sku, user_id) DO NOTHING RETURNING id",
            )
            .bind(sku)
            .bind(user.id)
            .bind(draft.rating.stars())
            .bind(&draft.title)
            .bind(&draft.body)
            .bind(flag_reason)
            .bind(i64::from(verified))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            // Only a simultaneous first submission by the same shopper gets here.
            let id = id.ok_or_else(|| AppError::Conflict("Your review is already being saved.".into()))?;
            (id, true)
        }
    };
    log(&mut tx, "review", id, if created { "submitted" } else { "edited" }, flag_reason, Some(user.id)).await?;
    events::publish(
        &mut tx,
        kind::REVIEW_SUBMITTED,
        &format!("user:{}", user.id),
        &serde_json::json!({ "user_id": user.id, "review_id": id, "sku": sku, "rating": draft.rating.stars(), "edited": !created }),
    )
    .await?;
    if screening == Screening::Approve {
        approve_review(&mut tx, rules, id, None).await?;
    }
    // A rewrite waits for moderation again, out of the search index.
    reindex(&mut tx, UgcKind::Review, id).await?;
    let review = review(&mut tx, id).await?.ok_or(AppError::Internal)?;
    tx.commit().await?;
    db.wake_outbox();
    Ok(Saved { review, created })
}

/// Publishes a review: counts its rating and, the first time, awards the review points
/// (recording them on the review, which labels it incentivized) and publishes
/// `review_approved`. Returns false when it was already approved.
async fn approve_review(
    conn: &mut AnyConnection,
    rules: &LoyaltyRules,
    id: i64,
    actor_id: Option<i64>,
) -> Result<bool, AppError> {
    let row = sqlx::query(
        "UPDATE reviews SET status = 'approved', reject_reason = NULL WHERE id = $1 AND status <> 'approved' \
         RETURNING user_id, sku, rating",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let (user_id, sku, rating): (i64, String, i64) =
        (row.try_get("user_id")?, row.try_get("sku")?, row.try_get("rating")?);
    count_rating(conn, &sku, rating, 1).await?;
    let now = now_ms();
    let first = sqlx::query("UPDATE reviews SET first_approved_at = $1 WHERE id = $2 AND first_approved_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1;
    if first {
        if rules.review_points > 0 {
            let awarded = crate::loyalty::ssr::award(
                conn,
                user_id,
                rules.review_points,
                "review",
                format!("review:{id}"),
                format!("Review of {sku} approved"),
            )
            .await?;
            if awarded {
                sqlx::query("UPDATE reviews SET incentive_points = $1 WHERE id = $2")
                    .bind(rules.review_points)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        events::publish(
            conn,
            kind::REVIEW_APPROVED,
            &format!("user:{user_id}"),
            &serde_json::json!({ "user_id": user_id, "review_id": id, "sku": sku, "rating": rating }),
        )
        .await?;
    }
    reindex(conn, UgcKind::Review, id).await?;
    log(conn, "review", id, "approved", None, actor_id).await?;
    Ok(true)
}

async fn reject_review(conn: &mut AnyConnection, id: i64, reason: &str, actor_id: i64) -> Result<bool, AppError> {
    let row = sqlx::query("SELECT sku, rating, status FROM reviews WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Err(AppError::NotFound(format!("review {id}")));
    };
    let (sku, rating, status): (String, i64, String) =
        (row.try_get("sku")?, row.try_get("rating")?, row.try_get("status")?);
    let changed =
        sqlx::query("UPDATE reviews SET status = 'rejected', reject_reason = $1 WHERE id = $2 AND status = $3")
            .bind(reason)
            .bind(id)
            .bind(&status)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            == 1;
    if changed && status == Status::Approved.key() {
        count_rating(conn, &sku, rating, -1).await?;
        reindex(conn, UgcKind::Review, id).await?;
    }
    log(conn, "review", id, "rejected", Some(reason), Some(actor_id)).await?;
    Ok(changed)
}

/// A product's approved ratings.
pub async fn summary(db: &Db, sku: &str) -> Result<RatingSummary, AppError> {
    let row = sqlx::query("SELECT rating_1, rating_2, rating_3, rating_4, rating_5 FROM product_stats WHERE sku = $1")
        .bind(sku)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else {
        return Ok(RatingSummary::default());
    };
    let mut histogram = [0; 5];
    for (stars, slot) in histogram.iter_mut().enumerate() {
        *slot = row.try_get(format!("rating_{}", stars + 1).as_str())?;
    }
    Ok(RatingSummary { histogram })
}

/// One page (1-based) of a product's approved reviews.
pub async fn approved_reviews(
    db: &Db,
    sku: &str,
    sort: ReviewSort,
    stars: Option<i64>,
    page: i64,
) -> Result<Vec<Review>, AppError> {
    let offset = (page.max(1) - 1).saturating_mul(PAGE_SIZE);
    let star_filter = if stars.is_some() { " AND r.rating = $4" } else { "" };
    let sql = format!(
        "SELECT {REVIEW_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id \
         WHERE r.sku = $1 AND r.status = 'approved'{star_filter} ORDER BY {} LIMIT $2 OFFSET $3",
        sort.order_by()
    );
    let mut query = sqlx::query(&sql).bind(sku).bind(PAGE_SIZE).bind(offset);
    if let Some(stars) = stars {
        query = query.bind(stars);
    }
    let rows = query.fetch_all(db.pool()).await?;
    Ok(rows.iter().map(review_from_row).collect::<Result<_, _>>()?)
}

/// The shopper's own reviews, any status (their account page).
pub async fn reviews_by(db: &Db, user_id: i64) -> Result<Vec<Review>, AppError> {
    let rows = sqlx::query(&format!(
        "SELECT {REVIEW_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id WHERE r.user_id = $1 \
         ORDER BY r.updated_at DESC, r.id DESC LIMIT 100"
    ))
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(review_from_row).collect::<Result<_, _>>()?)
}

pub async fn review_of(db: &Db, user_id: i64, sku: &str) -> Result<Option<Review>, AppError> {
    let row = sqlx::query(&format!(
        "SELECT {REVIEW_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id WHERE r.user_id = $1 AND r.sku = $2"
    ))
    .bind(user_id)
    .bind(sku)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.as_ref().map(review_from_row).transpose()?)
}

/// Marks an approved review helpful, once per shopper; returns its helpful count.
pub async fn vote_helpful(db: &Db, user_id: i64, review_id: i64) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query("SELECT user_id, status FROM reviews WHERE id = $1")
        .bind(review_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("review {review_id}")))?;
    if row.try_get::<String, _>("status")? != Status::Approved.key() {
        return Err(AppError::NotFound(format!("review {review_id}")));
    }
    if row.try_get::<i64, _>("user_id")? == user_id {
        return Err(AppError::Refused("You can't vote for your own review.".into()));
    }
    let inserted = sqlx::query(
        "INSERT INTO review_votes (review_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(review_id)
    .bind(user_id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let count: i64 = sqlx::query_scalar(
        "UPDATE reviews SET helpful_count = helpful_count + $1 WHERE id = $2 RETURNING helpful_count",
    )
    .bind(inserted as i64)
    .bind(review_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(count)
}

/// The owner's public reply under a review (replaces an earlier one).
pub async fn reply(db: &Db, actor_id: i64, review_id: i64, text: &str) -> Result<(), AppError> {
    let text = super::domain::parse_reply(text).map_err(|e| AppError::invalid(e.field, e.message))?;
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query("UPDATE reviews SET merchant_reply = $1, merchant_reply_at = $2 WHERE id = $3")
        .bind(&text)
        .bind(now_ms())
        .bind(review_id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("review {review_id}")));
    }
    log(&mut tx, "review", review_id, "replied", None, Some(actor_id)).await?;
    tx.commit().await?;
    Ok(())
}

/// Marks a review or answer sponsored. The name may change later; the label never goes.
pub async fn set_sponsor(db: &Db, actor_id: i64, target: Target, id: i64, name: &str) -> Result<(), AppError> {
    let name = super::domain::parse_sponsor(name).map_err(|e| AppError::invalid(e.field, e.message))?;
    let table = match target {
        Target::Review => "reviews",
        Target::Answer => "answers",
        Target::Question => return Err(AppError::invalid("kind", "Only reviews and answers can be sponsored.")),
    };
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query(&format!("UPDATE {table} SET sponsored_by = $1 WHERE id = $2"))
        .bind(&name)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("{} {id}", target.key())));
    }
    log(&mut tx, target.key(), id, "sponsored", Some(&name), Some(actor_id)).await?;
    // Search results carry the label too.
    let kind = if target == Target::Review { UgcKind::Review } else { UgcKind::Answer };
    reindex(&mut tx, kind, id).await?;
    tx.commit().await?;
    Ok(())
}

/// A moderator's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject(String),
}

impl Decision {
    /// A moderation form's or request's `decision` (`approve` or `reject`) with its reason.
    pub fn parse(decision: &str, reason: Option<String>) -> Result<Decision, AppError> {
        match decision {
            "approve" => Ok(Decision::Approve),
            "reject" => Ok(Decision::Reject(reason.unwrap_or_default())),
            _ => Err(AppError::invalid("decision", "Use approve or reject.")),
        }
    }
}

/// Applies one decision to several items of one kind, in one transaction; returns how many
/// changed state.
#[tracing::instrument(name = "reviews.moderate", skip(db, rules, ids, decision))]
pub async fn moderate(
    db: &Db,
    rules: &LoyaltyRules,
    actor_id: i64,
    target: Target,
    ids: &[i64],
    decision: &Decision,
) -> Result<usize, AppError> {
    if ids.is_empty() {
        return Err(AppError::invalid("ids", "Select at least one item."));
    }
    if ids.len() > 200 {
        return Err(AppError::invalid("ids", "Moderate at most 200 items at once."));
    }
    if let Decision::Reject(reason) = decision {
        super::domain::parse_reason(reason).map_err(|e| AppError::invalid(e.field, e.message))?;
    }
    let mut tx = db.begin_write().await?;
    let mut changed = 0;
    for &id in ids {
        let did = match (target, decision) {
            (Target::Review, Decision::Approve) => {
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM reviews WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                exists.ok_or_else(|| AppError::NotFound(format!("review {id}")))?;
                approve_review(&mut tx, rules, id, Some(actor_id)).await?
            }
            (Target::Review, Decision::Reject(reason)) => reject_review(&mut tx, id, reason.trim(), actor_id).await?,
            (Target::Question, decision) => {
                set_qa_status(&mut tx, "questions", Target::Question, id, decision, actor_id).await?
            }
            (Target::Answer, Decision::Approve) => approve_answer(&mut tx, id, Some(actor_id)).await?,
            (Target::Answer, decision) => {
                set_qa_status(&mut tx, "answers", Target::Answer, id, decision, actor_id).await?
            }
        };
        changed += usize::from(did);
    }
    tx.commit().await?;
    db.wake_outbox();
    Ok(changed)
}

async fn set_qa_status(
    conn: &mut AnyConnection,
    table: &str,
    target: Target,
    id: i64,
    decision: &Decision,
    actor_id: i64,
) -> Result<bool, AppError> {
    let (status, reason) = match decision {
        Decision::Approve => (Status::Approved, None),
        Decision::Reject(reason) => (Status::Rejected, Some(reason.trim())),
    };
    let exists: Option<i64> = sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    exists.ok_or_else(|| AppError::NotFound(format!("{} {id}", target.key())))?;
    let changed =
        sqlx::query(&format!("UPDATE {table} SET status = $1, reject_reason = $2 WHERE id = $3 AND status <> $1"))
            .bind(status.key())
            .bind(reason)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            == 1;
    if changed {
        let kind = if target == Target::Question { UgcKind::Question } else { UgcKind::Answer };
        reindex(conn, kind, id).await?;
    }
    log(conn, target.key(), id, status.key(), reason, Some(actor_id)).await?;
    Ok(changed)
}

/// Publishes an answer; the first time, tells the asker's side (`question_answered`).
async fn approve_answer(conn: &mut AnyConnection, id: i64, actor_id: Option<i64>) -> Result<bool, AppError> {
    let row = sqlx::query(
        "SELECT a.user_id, a.question_id, q.sku, q.user_id AS asker_id FROM answers a \
         JOIN questions q ON q.id = a.question_id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("answer {id}")))?;
    let changed = sqlx::query(
        "UPDATE answers SET status = 'approved', reject_reason = NULL WHERE id = $1 AND status <> 'approved'",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !changed {
        return Ok(false);
    }
    let first = sqlx::query("UPDATE answers SET first_approved_at = $1 WHERE id = $2 AND first_approved_at IS NULL")
        .bind(now_ms())
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1;
    if first {
        let (user_id, question_id, sku, asker_id): (i64, i64, String, i64) =
            (row.try_get("user_id")?, row.try_get("question_id")?, row.try_get("sku")?, row.try_get("asker_id")?);
        events::publish(
            conn,
            kind::QUESTION_ANSWERED,
            &format!("question:{question_id}"),
            &serde_json::json!({
                "user_id": user_id, "answer_id": id, "question_id": question_id, "sku": sku, "asker_id": asker_id
            }),
        )
        .await?;
    }
    reindex(conn, UgcKind::Answer, id).await?;
    log(conn, "answer", id, "approved", None, actor_id).await?;
    Ok(true)
}

/// A shopper's question about a product; waits for moderation.
pub async fn ask(db: &Db, user: &User, sku: &str, body: &str) -> Result<Question, AppError> {
    let body = super::domain::parse_question(body).map_err(|e| AppError::invalid(e.field, e.message))?;
    let mut tx = db.begin_write().await?;
    product_exists(&mut tx, sku).await?;
    let settings = settings(&mut tx).await?;
    let verdict = prescreen(&body, &author_facts(&mut tx, user.id, None, now_ms()).await?, &settings.blocklist);
    if verdict.route == Route::Reject {
        return Err(refused("body", &verdict));
    }
    let screening = match verdict.summary() {
        Some(reasons) => Screening::Human(reasons),
        None => screen_qa(user.role == Role::Admin, &settings.blocklist, &body),
    };
    let (status, flag_reason) = match &screening {
        Screening::Approve => (Status::Approved, None),
        Screening::Human(reason) => (Status::Pending, Some(reason.as_str())),
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO questions (sku, user_id, body, status, flag_reason, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING id",
    )
    .bind(sku)
    .bind(user.id)
    .bind(&body)
    .bind(status.key())
    .bind(flag_reason)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?;
    log(&mut tx, "question", id, "submitted", flag_reason, Some(user.id)).await?;
    reindex(&mut tx, UgcKind::Question, id).await?;
    tx.commit().await?;
    Ok(Question {
        id,
        sku: sku.to_string(),
        body,
        author: user.display_name.clone(),
        votes: 0,
        created_at: now_ms(),
        featured_answer_id: None,
        answers: Vec::new(),
        status,
    })
}

/// An answer from the shop's staff (published at once) or from a buyer of the product
/// (moderated). Anyone else is refused: Q&A answers come from people who know.
pub async fn answer(db: &Db, user: &User, question_id: i64, body: &str) -> Result<Answer, AppError> {
    let body = super::domain::parse_answer(body).map_err(|e| AppError::invalid(e.field, e.message))?;
    let mut tx = db.begin_write().await?;
    let sku: Option<String> = sqlx::query_scalar("SELECT sku FROM questions WHERE id = $1 AND status = 'approved'")
        .bind(question_id)
        .fetch_optional(&mut *tx)
        .await?;
    let sku = sku.ok_or_else(|| AppError::NotFound(format!("question {question_id}")))?;
    let is_staff = user.role == Role::Admin;
    let verified = bought(&mut tx, user.id, &sku).await?;
    if !is_staff && !verified {
        return Err(AppError::Refused(
            "Only the shop's staff and customers who bought this product can answer.".into(),
        ));
    }
    let settings = settings(&mut tx).await?;
    let verdict = if is_staff {
        Verdict::staff()
    } else {
        prescreen(&body, &author_facts(&mut tx, user.id, None, now_ms()).await?, &settings.blocklist)
    };
    if verdict.route == Route::Reject {
        return Err(refused("body", &verdict));
    }
    let screening = match verdict.summary() {
        Some(reasons) => Screening::Human(reasons),
        None => screen_qa(is_staff, &settings.blocklist, &body),
    };
    let flag_reason = match &screening {
        Screening::Approve => None,
        Screening::Human(reason) => Some(reason.clone()),
    };
    let now = now_ms();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO answers (question_id, user_id, body, status, flag_reason, is_staff, verified_buyer, created_at) \
         VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7) RETURNING id",
    )
    .bind(question_id)
    .bind(user.id)
    .bind(&body)
    .bind(flag_reason.as_deref())
    .bind(i64::from(is_staff))
    .bind(i64::from(verified))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    log(&mut tx, "answer", id, "submitted", flag_reason.as_deref(), Some(user.id)).await?;
    let status = if screening == Screening::Approve {
        approve_answer(&mut tx, id, Some(user.id)).await?;
        Status::Approved
    } else {
        Status::Pending
    };
    tx.commit().await?;
    db.wake_outbox();
    Ok(Answer {
        id,
        question_id,
        body,
        author: user.display_name.clone(),
        is_staff,
        verified_buyer: verified,
        sponsored_by: None,
        votes: 0,
        created_at: now,
        status,
    })
}

/// One vote per shopper for an approved question or answer; returns its vote count.
pub async fn vote_qa(db: &Db, user_id: i64, target: Target, id: i64) -> Result<i64, AppError> {
    let table = match target {
        Target::Question => "questions",
        Target::Answer => "answers",
        Target::Review => return vote_helpful(db, user_id, id).await,
    };
    let mut tx = db.begin_write().await?;
    let author: Option<i64> =
        sqlx::query_scalar(&format!("SELECT user_id FROM {table} WHERE id = $1 AND status = 'approved'"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let author = author.ok_or_else(|| AppError::NotFound(format!("{} {id}", target.key())))?;
    if author == user_id {
        return Err(AppError::Refused(format!("You can't vote for your own {}.", target.key())));
    }
    let inserted = sqlx::query(
        "INSERT INTO qa_votes (target, target_id, user_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(target.key())
    .bind(id)
    .bind(user_id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let votes: i64 =
        sqlx::query_scalar(&format!("UPDATE {table} SET votes = votes + $1 WHERE id = $2 RETURNING votes"))
            .bind(inserted as i64)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(votes)
}

/// Features one approved answer of the question (or none).
pub async fn feature_answer(db: &Db, actor_id: i64, question_id: i64, answer_id: Option<i64>) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    if let Some(answer_id) = answer_id {
        let ok: Option<i64> =
            sqlx::query_scalar("SELECT id FROM answers WHERE id = $1 AND question_id = $2 AND status = 'approved'")
                .bind(answer_id)
                .bind(question_id)
                .fetch_optional(&mut *tx)
                .await?;
        ok.ok_or_else(|| AppError::invalid("answer_id", "Feature a published answer of this question."))?;
    }
    let updated = sqlx::query("UPDATE questions SET featured_answer_id = $1 WHERE id = $2")
        .bind(answer_id)
        .bind(question_id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("question {question_id}")));
    }
    log(&mut tx, "question", question_id, "featured", answer_id.map(|id| id.to_string()).as_deref(), Some(actor_id))
        .await?;
    tx.commit().await?;
    Ok(())
}

fn answer_from_row(row: &AnyRow) -> Result<Answer, sqlx::Error> {
    Ok(Answer {
        id: row.try_get("id")?,
        question_id: row.try_get("question_id")?,
        body: row.try_get("body")?,
        author: row.try_get("display_name")?,
        is_staff: row.try_get::<i64, _>("is_staff")? != 0,
        verified_buyer: row.try_get::<i64, _>("verified_buyer")? != 0,
        sponsored_by: row.try_get("sponsored_by")?,
        votes: row.try_get("votes")?,
        created_at: row.try_get("created_at")?,
        status: Status::parse(&row.try_get::<String, _>("status")?).unwrap_or(Status::Pending),
    })
}

/// A product's approved questions, most votes first, each with its approved answers.
pub async fn questions(db: &Db, sku: &str, limit: i64) -> Result<Vec<Question>, AppError> {
    let rows = sqlx::query(
        "SELECT q.id, q.sku, q.body, u.display_name, q.votes, q.created_at, q.featured_answer_id, q.status \
         FROM questions q JOIN users u ON u.id = q.user_id WHERE q.sku = $1 AND q.status = 'approved' \
         ORDER BY q.votes DESC, q.created_at DESC, q.id DESC LIMIT $2",
    )
    .bind(sku)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    with_answers(db, &rows).await
}

/// The newest approved questions across the shop, with their answers (admin).
pub async fn recent_questions(db: &Db, limit: i64) -> Result<Vec<Question>, AppError> {
    let rows = sqlx::query(
        "SELECT q.id, q.sku, q.body, u.display_name, q.votes, q.created_at, q.featured_answer_id, q.status \
         FROM questions q JOIN users u ON u.id = q.user_id WHERE q.status = 'approved' \
         ORDER BY q.created_at DESC, q.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    with_answers(db, &rows).await
}

/// Questions from `rows`, each with its approved answers in display order.
async fn with_answers(db: &Db, rows: &[AnyRow]) -> Result<Vec<Question>, AppError> {
    let mut questions = rows
        .iter()
        .map(|row| {
            Ok(Question {
                id: row.try_get("id")?,
                sku: row.try_get("sku")?,
                body: row.try_get("body")?,
                author: row.try_get("display_name")?,
                votes: row.try_get("votes")?,
                created_at: row.try_get("created_at")?,
                featured_answer_id: row.try_get("featured_answer_id")?,
                answers: Vec::new(),
                status: Status::Approved,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    if questions.is_empty() {
        return Ok(questions);
    }
    // Ids come from the database as integers, so listing them in the SQL is safe.
    let ids = questions.iter().map(|q| q.id.to_string()).collect::<Vec<_>>().join(", ");
    let answers = sqlx::query(&format!(
        "SELECT a.id, a.question_id, a.body, u.display_name, a.is_staff, a.verified_buyer, a.sponsored_by, a.votes, \
         a.created_at, a.status FROM answers a JOIN users u ON u.id = a.user_id \
         WHERE a.question_id IN ({ids}) AND a.status = 'approved'"
    ))
    .fetch_all(db.pool())
    .await?;
    for row in &answers {
        let answer = answer_from_row(row)?;
        if let Some(question) = questions.iter_mut().find(|q| q.id == answer.question_id) {
            question.answers.push(answer);
        }
    }
    for question in &mut questions {
        order_answers(&mut question.answers, question.featured_answer_id);
    }
    Ok(questions)
}

/// Pending reviews, questions and answers, oldest first.
pub async fn queue(db: &Db, limit: i64) -> Result<Vec<QueueItem>, AppError> {
    let rows = sqlx::query(
        "SELECT 'review' AS kind, r.id AS id, r.sku AS sku, p.name AS name, u.display_name AS display_name, \
         u.email AS email, r.rating AS rating, r.title AS title, r.body AS body, r.verified_buyer AS verified_buyer, \
         r.flag_reason AS flag_reason, r.updated_at AS created_at FROM reviews r \
         JOIN users u ON u.id = r.user_id JOIN products p ON p.sku = r.sku WHERE r.status = 'pending' \
         UNION ALL \
         SELECT 'question' AS kind, q.id, q.sku, p.name, u.display_name, u.email, NULL, NULL, q.body, 0, q.flag_reason, \
         q.created_at FROM questions q JOIN users u ON u.id = q.user_id JOIN products p ON p.sku = q.sku \
         WHERE q.status = 'pending' \
         UNION ALL \
         SELECT 'answer' AS kind, a.id, q.sku, p.name, u.display_name, u.email, NULL, NULL, a.body, a.verified_buyer, \
         a.flag_reason, a.created_at FROM answers a JOIN questions q ON q.id = a.question_id \
         JOIN users u ON u.id = a.user_id JOIN products p ON p.sku = q.sku WHERE a.status = 'pending' \
         ORDER BY created_at, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(QueueItem {
                kind: Target::parse(&row.try_get::<String, _>("kind")?).unwrap_or(Target::Review),
                id: row.try_get("id")?,
                sku: row.try_get("sku")?,
                product_name: row.try_get("name")?,
                author: row.try_get("display_name")?,
                author_email: row.try_get("email")?,
                rating: row.try_get("rating")?,
                title: row.try_get("title")?,
                body: row.try_get("body")?,
                verified_buyer: row.try_get::<i64, _>("verified_buyer")? != 0,
                flag_reason: row.try_get("flag_reason")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// The newest approved reviews across the shop (replies and sponsorship in admin).
pub async fn recent_reviews(db: &Db, limit: i64) -> Result<Vec<Review>, AppError> {
    let rows = sqlx::query(&format!(
        "SELECT {REVIEW_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id WHERE r.status = 'approved' \
         ORDER BY r.created_at DESC, r.id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(review_from_row).collect::<Result<_, _>>()?)
}

/// Reviews submitted and approved per day over the last `days` days: (day, submitted, approved).
pub async fn daily_counts(db: &Db, days: i64) -> Result<Vec<(i64, i64, i64)>, AppError> {
    let since = (now_ms() / crate::shared::DAY_MS - days + 1) * crate::shared::DAY_MS;
    let rows = sqlx::query(
        "SELECT created_at / $2 AS day, \
         CAST(SUM(CASE WHEN kind = $3 THEN 1 ELSE 0 END) AS BIGINT) AS submitted, \
         CAST(SUM(CASE WHEN kind = $4 THEN 1 ELSE 0 END) AS BIGINT) AS approved \
         FROM domain_events WHERE kind IN ($3, $4) AND created_at >= $1 GROUP BY 1 ORDER BY 1",
    )
    .bind(since)
    .bind(crate::shared::DAY_MS)
    .bind(kind::REVIEW_SUBMITTED)
    .bind(kind::REVIEW_APPROVED)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("day")?, row.try_get("submitted")?, row.try_get("approved")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// How often one account may post reviews, questions and answers: a burst, then a steady
/// rate per minute. Keyed by account, so one shopper's flood cannot slow anyone else.
#[derive(Clone)]
pub struct PostLimiter(std::sync::Arc<governor::DefaultKeyedRateLimiter<i64>>);

impl PostLimiter {
    pub fn per_minute(posts: u32) -> PostLimiter {
        let posts = std::num::NonZeroU32::new(posts.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        PostLimiter(std::sync::Arc::new(governor::RateLimiter::keyed(governor::Quota::per_minute(posts))))
    }

    /// Ok, or how many whole seconds until the account may post again.
    pub fn check(&self, user_id: i64) -> Result<(), u64> {
        self.0.check_key(&user_id).map_err(|not_until| {
            use governor::clock::{Clock, DefaultClock};
            not_until.wait_time_from(DefaultClock::default().now()).as_secs() + 1
        })
    }
}

/// Both limits on posting: the account's (`MERCATO_POSTS_PER_MINUTE`) and its network
/// address's (`MERCATO_POSTS_PER_IP_PER_MINUTE`, so many fresh accounts on one address cannot
/// flood either). Ok, or the seconds to wait.
pub fn check_post_limits(
    state: &crate::state::AppState,
    user_id: i64,
    ip: Option<std::net::IpAddr>,
) -> Result<(), u64> {
    state.post_limiter.check(user_id)?;
    state.rate_limits.check_post(ip)
}

/// Publishes items without a moderator: for imported or seeded content that was moderated
/// elsewhere. Same effects as an approval (rating counted, points, events).
pub async fn approve_imported(db: &Db, rules: &LoyaltyRules, target: Target, ids: &[i64]) -> Result<usize, AppError> {
    let mut tx = db.begin_write().await?;
    let mut changed = 0;
    for &id in ids {
        let did = match target {
            Target::Review => approve_review(&mut tx, rules, id, None).await?,
            Target::Answer => approve_answer(&mut tx, id, None).await?,
            Target::Question => {
                let changed =
                    sqlx::query("UPDATE questions SET status = 'approved' WHERE id = $1 AND status <> 'approved'")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                        == 1;
                reindex(&mut tx, UgcKind::Question, id).await?;
                changed
            }
        };
        changed += usize::from(did);
    }
    tx.commit().await?;
    db.wake_outbox();
    Ok(changed)
}

/// Rendered product-page review blocks, shared by every viewer who sees the same page.
///
/// **Rationale:** a product's block is the same for everyone who is signed in (or everyone
/// who is not) at a given sort, filter and page, and rendering it costs several queries and
/// a render of every review on the page. A write on this server (review, vote, answer,
/// moderation) bumps the generation, so this server never shows a stale block after its own
/// writes; writes on other servers show within `TTL`.
#[derive(Clone, Default)]
pub struct BlockCache {
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    entries: std::sync::Arc<std::sync::RwLock<std::collections::HashMap<BlockKey, CachedBlock>>>,
}

/// What a block depends on: product, sort, star filter, page, and whether the viewer may vote.
pub type BlockKey = (String, ReviewSort, Option<i64>, i64, bool);

#[derive(Clone)]
struct CachedBlock {
    generation: u64,
    stored_at: std::time::Instant,
    html: std::sync::Arc<str>,
}

impl BlockCache {
    /// How long a block may be served without a write on this server.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(5);
    /// At most this many blocks are kept (sorts × filters × pages of the popular products).
    const MAX_ENTRIES: usize = 4096;

    /// Drops every block (after a write).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    pub fn get(&self, key: &BlockKey) -> Option<std::sync::Arc<str>> {
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let entries = self.entries.read().ok()?;
        let entry = entries.get(key)?;
        (entry.generation == generation && entry.stored_at.elapsed() < Self::TTL).then(|| entry.html.clone())
    }

    /// Stores a block rendered at `generation` (read before rendering, so a write that
    /// happened meanwhile makes it stale at once).
    pub fn put(&self, key: BlockKey, generation: u64, html: std::sync::Arc<str>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= Self::MAX_ENTRIES {
                let current = self.generation.load(std::sync::atomic::Ordering::Acquire);
                entries.retain(|_, entry| entry.generation == current && entry.stored_at.elapsed() < Self::TTL);
                if entries.len() >= Self::MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(key, CachedBlock { generation, stored_at: std::time::Instant::now(), html });
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_makes_every_cached_block_stale() {
        let cache = BlockCache::default();
        let key: BlockKey = ("COF-001".into(), ReviewSort::Newest, None, 1, false);
        let generation = cache.generation();
        cache.put(key.clone(), generation, "<p>one</p>".into());
        assert_eq!(cache.get(&key).as_deref(), Some("<p>one</p>"));
        assert_eq!(cache.get(&("COF-001".into(), ReviewSort::Newest, None, 1, true)), None);
        cache.invalidate();
        assert_eq!(cache.get(&key), None);
        // Rendered before the write, stored after it: never served.
        cache.put(key.clone(), generation, "<p>old</p>".into());
        assert_eq!(cache.get(&key), None);
    }
}
