//! Community storage. A post's status decides everything shown or counted: listings read
//! approved posts (and the reader's own pending ones), and every status change moves the
//! topic's status or reply count, the search index and the outbox in one transaction.

use super::domain::{pages, Post, QueueItem, Topic, TopicDraft, TopicSummary, UgcKind, REPLIES_PAGE, TOPICS_PAGE};
use super::search::reindex;
use crate::accounts::domain::{Role, User};
use crate::db::Db;
use crate::events::{self, kind};
use crate::reviews::domain::{screen_qa, Screening, Status};
use crate::reviews::prescreen::{prescreen, Route, Verdict};
use crate::shared::{now_ms, AppError};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// What a shopper submits: a new topic (with its opening post) or a reply to one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewPost {
    Topic(TopicDraft),
    Reply { topic_id: i64, body: String },
}

/// The status a new post starts in, and why it waits when it does.
///
/// **Rationale:** one place decides, so a pre-screen (rules that may publish, hold or refuse
/// a post before a human sees it) decides here for every way of posting: what the
/// pre-screen refuses is refused, what it finds waits with its reasons; otherwise the shop's
/// staff publish at once unless a blocklisted word appears and everyone else waits for a
/// moderator.
pub fn initial_status(
    author: &User,
    blocklist: &crate::reviews::domain::Blocklist,
    verdict: &Verdict,
    text: &str,
) -> Result<(Status, Option<String>), AppError> {
    if verdict.route == Route::Reject {
        return Err(crate::reviews::ssr::refused("body", verdict));
    }
    let screening = match verdict.summary() {
        Some(reasons) => Screening::Human(reasons),
        None => screen_qa(author.role == Role::Admin, blocklist, text),
    };
    Ok(match screening {
        Screening::Approve => (Status::Approved, None),
        Screening::Human(reason) => (Status::Pending, Some(reason)),
    })
}

async fn log(
    conn: &mut AnyConnection,
    id: i64,
    action: &str,
    reason: Option<&str>,
    actor_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO moderation_log (target, target_id, action, reason, actor_id, created_at) \
         VALUES ('post', $1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(action)
    .bind(reason)
    .bind(actor_id)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const POST_COLUMNS: &str =
    "c.id, c.topic_id, u.display_name, c.body, c.is_opening, c.status, c.sponsored_by, c.created_at";

fn post_from_row(row: &AnyRow) -> Result<Post, sqlx::Error> {
    Ok(Post {
        id: row.try_get("id")?,
        topic_id: row.try_get("topic_id")?,
        author: row.try_get("display_name")?,
        body: row.try_get("body")?,
        is_opening: row.try_get::<i64, _>("is_opening")? != 0,
        status: Status::parse(&row.try_get::<String, _>("status")?).unwrap_or(Status::Pending),
        sponsored_by: row.try_get("sponsored_by")?,
        created_at: row.try_get("created_at")?,
    })
}

const TOPIC_COLUMNS: &str = "t.id, t.category_slug, t.title, u.display_name, t.status, t.reply_count, \
     o.sponsored_by, t.created_at, t.last_post_at";

/// Topics joined with their author and opening post (`o`, for its sponsor label).
const TOPIC_FROM: &str = "community_topics t JOIN users u ON u.id = t.user_id \
     JOIN community_posts o ON o.topic_id = t.id AND o.is_opening = 1";

fn topic_from_row(row: &AnyRow) -> Result<TopicSummary, sqlx::Error> {
    Ok(TopicSummary {
        id: row.try_get("id")?,
        category: row.try_get("category_slug")?,
        title: row.try_get("title")?,
        author: row.try_get("display_name")?,
        status: Status::parse(&row.try_get::<String, _>("status")?).unwrap_or(Status::Pending),
        reply_count: row.try_get("reply_count")?,
        sponsored_by: row.try_get("sponsored_by")?,
        created_at: row.try_get("created_at")?,
        last_post_at: row.try_get("last_post_at")?,
    })
}

/// Writes a topic or a reply; it starts in the status [`initial_status`] decides. Publishes
/// `community_post_submitted`, and when the post is published at once, everything an
/// approval does.
#[tracing::instrument(name = "community.submit_post", skip(db, author, post), fields(user_id = author.id))]
pub async fn submit_post(db: &Db, author: &User, post: &NewPost) -> Result<Post, AppError> {
    let mut tx = db.begin_write().await?;
    let settings = crate::reviews::ssr::settings(&mut tx).await?;
    let now = now_ms();
    let (topic_id, body, is_opening) = match post {
        NewPost::Topic(draft) => {
            let category: Option<String> = sqlx::query_scalar("SELECT slug FROM categories WHERE slug = $1")
                .bind(&draft.category)
                .fetch_optional(&mut *tx)
                .await?;
            if category.is_none() {
                return Err(AppError::invalid("category", "Choose a category."));
            }
            // The topic starts pending; the approval of its opening post publishes it.
            let topic_id: i64 = sqlx::query_scalar(
                "INSERT INTO community_topics (category_slug, user_id, title, status, created_at, last_post_at) \
                 VALUES ($1, $2, $3, 'pending', $4, $4) RETURNING id",
            )
            .bind(&draft.category)
            .bind(author.id)
            .bind(&draft.title)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            (topic_id, draft.body.clone(), true)
        }
        NewPost::Reply { topic_id, body } => {
            let body = super::domain::parse_body(body).map_err(|e| AppError::invalid(e.field, e.message))?;
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM community_topics WHERE id = $1 AND status = 'approved'")
                    .bind(*topic_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            found.ok_or_else(|| AppError::NotFound(format!("topic {topic_id}")))?;
            (*topic_id, body, false)
        }
    };
    let screened_text = match post {
        NewPost::Topic(draft) => format!("{}\n{}", draft.title, draft.body),
        NewPost::Reply { .. } => body.clone(),
    };
    // The automated pre-screen (links, shouting, repeats, a new account's flood, blocklist)
    // holds or refuses a post before the moderation policy decides.
    let verdict = if author.role == Role::Admin {
        Verdict::staff()
    } else {
        let facts = crate::reviews::ssr::author_facts(&mut tx, author.id, None, now).await?;
        prescreen(&screened_text, &facts, &settings.blocklist)
    };
    let (status, flag_reason) = initial_status(author, &settings.blocklist, &verdict, &screened_text)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO community_posts (topic_id, user_id, is_opening, body, status, flag_reason, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $6) RETURNING id",
    )
    .bind(topic_id)
    .bind(author.id)
    .bind(i64::from(is_opening))
    .bind(&body)
    .bind(flag_reason.as_deref())
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    log(&mut tx, id, "submitted", flag_reason.as_deref(), Some(author.id)).await?;
    events::publish(
        &mut tx,
        kind::COMMUNITY_POST_SUBMITTED,
        &format!("topic:{topic_id}"),
        &serde_json::json!({ "user_id": author.id, "post_id": id, "topic_id": topic_id, "opening": is_opening }),
    )
    .await?;
    if status == Status::Approved {
        approve_post(&mut tx, id, None).await?;
    }
    let saved = post_by_id(&mut tx, id).await?.ok_or(AppError::Internal)?;
    tx.commit().await?;
    db.wake_outbox();
    Ok(saved)
}

async fn post_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Post>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {POST_COLUMNS} FROM community_posts c JOIN users u ON u.id = c.user_id WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(post_from_row).transpose()
}

/// Publishes a post: an opening post publishes its topic, a reply counts on its topic; the
/// first approval publishes `community_post_approved`. False when it was already approved.
async fn approve_post(conn: &mut AnyConnection, id: i64, actor_id: Option<i64>) -> Result<bool, AppError> {
    let row = sqlx::query(
        "UPDATE community_posts SET status = 'approved', reject_reason = NULL WHERE id = $1 AND status <> 'approved' \
         RETURNING topic_id, user_id, is_opening, created_at",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let (topic_id, user_id, is_opening, created_at): (i64, i64, i64, i64) =
        (row.try_get("topic_id")?, row.try_get("user_id")?, row.try_get("is_opening")?, row.try_get("created_at")?);
    if is_opening == 1 {
        sqlx::query("UPDATE community_topics SET status = 'approved' WHERE id = $1")
            .bind(topic_id)
            .execute(&mut *conn)
            .await?;
    } else {
        sqlx::query(
            "UPDATE community_topics SET reply_count = reply_count + 1, \
             last_post_at = CASE WHEN last_post_at < $2 THEN $2 ELSE last_post_at END WHERE id = $1",
        )
        .bind(topic_id)
        .bind(created_at)
        .execute(&mut *conn)
        .await?;
    }
    let first =
        sqlx::query("UPDATE community_posts SET first_approved_at = $1 WHERE id = $2 AND first_approved_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            == 1;
    if first {
        events::publish(
            conn,
            kind::COMMUNITY_POST_APPROVED,
            &format!("topic:{topic_id}"),
            &serde_json::json!({ "user_id": user_id, "post_id": id, "topic_id": topic_id, "opening": is_opening == 1 }),
        )
        .await?;
    }
    reindex(conn, UgcKind::Post, id).await?;
    log(conn, id, "approved", None, actor_id).await?;
    Ok(true)
}

/// Takes a post off the pages (and the index): a rejected opening post hides its topic, a
/// rejected reply that was shown stops counting.
async fn reject_post(conn: &mut AnyConnection, id: i64, reason: &str, actor_id: i64) -> Result<bool, AppError> {
    let row = sqlx::query("SELECT topic_id, is_opening, status FROM community_posts WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("post {id}")))?;
    let (topic_id, is_opening, status): (i64, i64, String) =
        (row.try_get("topic_id")?, row.try_get("is_opening")?, row.try_get("status")?);
    let changed =
        sqlx::query("UPDATE community_posts SET status = 'rejected', reject_reason = $1 WHERE id = $2 AND status = $3")
            .bind(reason)
            .bind(id)
            .bind(&status)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            == 1
            && status != Status::Rejected.key();
    if changed {
        if is_opening == 1 {
            sqlx::query("UPDATE community_topics SET status = 'rejected' WHERE id = $1")
                .bind(topic_id)
                .execute(&mut *conn)
                .await?;
        } else if status == Status::Approved.key() {
            sqlx::query("UPDATE community_topics SET reply_count = reply_count - 1 WHERE id = $1")
                .bind(topic_id)
                .execute(&mut *conn)
                .await?;
        }
        reindex(conn, UgcKind::Post, id).await?;
    }
    log(conn, id, "rejected", Some(reason), Some(actor_id)).await?;
    Ok(changed)
}

/// Approves or rejects several posts in one transaction; returns how many changed.
#[tracing::instrument(name = "community.moderate", skip(db, ids, decision))]
pub async fn moderate(
    db: &Db,
    actor_id: i64,
    ids: &[i64],
    decision: &crate::reviews::ssr::Decision,
) -> Result<usize, AppError> {
    use crate::reviews::ssr::Decision;
    if ids.is_empty() {
        return Err(AppError::invalid("ids", "Select at least one post."));
    }
    if ids.len() > 200 {
        return Err(AppError::invalid("ids", "Moderate at most 200 posts at once."));
    }
    if let Decision::Reject(reason) = decision {
        crate::reviews::domain::parse_reason(reason).map_err(|e| AppError::invalid(e.field, e.message))?;
    }
    let mut tx = db.begin_write().await?;
    let mut changed = 0;
    for &id in ids {
        let did = match decision {
            Decision::Approve => {
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM community_posts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                exists.ok_or_else(|| AppError::NotFound(format!("post {id}")))?;
                approve_post(&mut tx, id, Some(actor_id)).await?
            }
            Decision::Reject(reason) => reject_post(&mut tx, id, reason.trim(), actor_id).await?,
        };
        changed += usize::from(did);
    }
    tx.commit().await?;
    db.wake_outbox();
    Ok(changed)
}

/// Marks a post sponsored (renamable, never cleared: the label must stay).
pub async fn set_sponsor(db: &Db, actor_id: i64, id: i64, name: &str) -> Result<(), AppError> {
    let name = crate::reviews::domain::parse_sponsor(name).map_err(|e| AppError::invalid(e.field, e.message))?;
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query("UPDATE community_posts SET sponsored_by = $1 WHERE id = $2")
        .bind(&name)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("post {id}")));
    }
    log(&mut tx, id, "sponsored", Some(&name), Some(actor_id)).await?;
    reindex(&mut tx, UgcKind::Post, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Topics readers see: approved ones, plus the reader's own pending ones.
const VISIBLE: &str = "(t.status = 'approved' OR (t.status = 'pending' AND t.user_id = $1))";

/// A category's topics (or every category's), newest activity first; (page of topics, that
/// page, number of pages).
pub async fn topics(
    db: &Db,
    category: Option<&str>,
    page: i64,
    reader_id: Option<i64>,
) -> Result<(Vec<TopicSummary>, i64, i64), AppError> {
    let reader = reader_id.unwrap_or(-1);
    // Every category: `$2` compared with itself, so the statement keeps its placeholders.
    let in_category = if category.is_some() { "t.category_slug = $2" } else { "$2 = $2" };
    let category = category.unwrap_or("");
    let total: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM community_topics t WHERE {VISIBLE} AND {in_category}"))
            .bind(reader)
            .bind(category)
            .fetch_one(db.pool())
            .await?;
    let pages = pages(total, TOPICS_PAGE);
    let page = page.clamp(1, pages);
    let rows = sqlx::query(&format!(
        "SELECT {TOPIC_COLUMNS} FROM {TOPIC_FROM} WHERE {VISIBLE} AND {in_category} \
         ORDER BY t.last_post_at DESC, t.id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(reader)
    .bind(category)
    .bind(TOPICS_PAGE)
    .bind((page - 1) * TOPICS_PAGE)
    .fetch_all(db.pool())
    .await?;
    let topics = rows.iter().map(topic_from_row).collect::<Result<_, _>>()?;
    Ok((topics, page, pages))
}

/// The newest approved topics of every category (the community's front page).
pub async fn newest_topics(db: &Db, per_category: i64) -> Result<Vec<TopicSummary>, AppError> {
    let rows = sqlx::query(&format!(
        "SELECT {TOPIC_COLUMNS} FROM {TOPIC_FROM} WHERE t.status = 'approved' AND \
         (SELECT COUNT(*) FROM community_topics n WHERE n.category_slug = t.category_slug AND n.status = 'approved' \
          AND (n.last_post_at > t.last_post_at OR (n.last_post_at = t.last_post_at AND n.id > t.id))) < $1 \
         ORDER BY t.category_slug, t.last_post_at DESC, t.id DESC"
    ))
    .bind(per_category)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(topic_from_row).collect::<Result<_, _>>()?)
}

/// Approved topics per category.
pub async fn topic_counts(db: &Db) -> Result<Vec<(String, i64)>, AppError> {
    let rows = sqlx::query(
        "SELECT category_slug, COUNT(*) AS n FROM community_topics WHERE status = 'approved' GROUP BY category_slug",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("category_slug")?, row.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// A topic with one page of posts (opening post first, then replies oldest first). Readers
/// see approved posts and their own pending ones; a topic still waiting is shown only to its
/// author. `None` when there is nothing the reader may see.
pub async fn topic(db: &Db, id: i64, page: i64, reader_id: Option<i64>) -> Result<Option<Topic>, AppError> {
    let reader = reader_id.unwrap_or(-1);
    let row = sqlx::query(&format!(
        "SELECT {TOPIC_COLUMNS}, g.name AS category_name FROM {TOPIC_FROM} JOIN categories g ON g.slug = t.category_slug \
         WHERE {VISIBLE} AND t.id = $2"
    ))
    .bind(reader)
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let summary = topic_from_row(&row)?;
    let category_name: String = row.try_get("category_name")?;
    let shown = "c.topic_id = $2 AND (c.status = 'approved' OR (c.status = 'pending' AND c.user_id = $1))";
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM community_posts c WHERE {shown}"))
        .bind(reader)
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    let pages = pages(total, REPLIES_PAGE);
    let page = page.clamp(1, pages);
    let rows = sqlx::query(&format!(
        "SELECT {POST_COLUMNS} FROM community_posts c JOIN users u ON u.id = c.user_id WHERE {shown} \
         ORDER BY c.is_opening DESC, c.created_at, c.id LIMIT $3 OFFSET $4"
    ))
    .bind(reader)
    .bind(id)
    .bind(REPLIES_PAGE)
    .bind((page - 1) * REPLIES_PAGE)
    .fetch_all(db.pool())
    .await?;
    let posts = rows.iter().map(post_from_row).collect::<Result<_, _>>()?;
    Ok(Some(Topic { summary, category_name, posts, page, pages }))
}

/// Pending posts, oldest first.
pub async fn queue(db: &Db, limit: i64) -> Result<Vec<QueueItem>, AppError> {
    let rows = sqlx::query(&format!(
        "SELECT {POST_COLUMNS}, t.title, u.email, c.flag_reason FROM community_posts c \
         JOIN users u ON u.id = c.user_id JOIN community_topics t ON t.id = c.topic_id \
         WHERE c.status = 'pending' ORDER BY c.created_at, c.id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(QueueItem {
                post: post_from_row(row)?,
                topic_title: row.try_get("title")?,
                author_email: row.try_get("email")?,
                flag_reason: row.try_get("flag_reason")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// The newest approved posts (for the owner to mark sponsored), with their topic's title.
pub async fn recent_posts(db: &Db, limit: i64) -> Result<Vec<(Post, String)>, AppError> {
    let rows = sqlx::query(&format!(
        "SELECT {POST_COLUMNS}, t.title FROM community_posts c JOIN users u ON u.id = c.user_id \
         JOIN community_topics t ON t.id = c.topic_id WHERE c.status = 'approved' \
         ORDER BY c.created_at DESC, c.id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((post_from_row(row)?, row.try_get("title")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Publishes seeded posts without a moderator (content moderated elsewhere): the same
/// effects as an approval.
pub async fn approve_imported(db: &Db, ids: &[i64]) -> Result<usize, AppError> {
    let mut tx = db.begin_write().await?;
    let mut changed = 0;
    for &id in ids {
        changed += usize::from(approve_post(&mut tx, id, None).await?);
    }
    tx.commit().await?;
    db.wake_outbox();
    Ok(changed)
}
