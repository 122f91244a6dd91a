//! Reviews and Q&A server functions: the product page's reviews block, the shopper's
//! write/edit pages, votes, and the owner's moderation page. Form posts redirect back with
//! `?error=` (and the typed text, so nothing is lost) when JavaScript is off.

// The `#[server]` macro generates code an item-level `allow` does not reach.
#![allow(clippy::too_many_arguments)]

use super::domain::{Question, Review};
#[cfg(feature = "ssr")]
use super::domain::{RatingSummary, ReviewSort};
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The product page's reviews and questions (rendered on the server, see `fragment`).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewsBlock {
    pub sku: String,
    pub summary: RatingSummary,
    pub reviews: Vec<Review>,
    pub sort: ReviewSort,
    pub stars: Option<i64>,
    pub page: i64,
    pub pages: i64,
    pub questions: Vec<Question>,
    /// schema.org JSON-LD, already escaped for a `<script>` element.
    pub json_ld: String,
    /// Signed-in viewers get vote buttons.
    pub signed_in: bool,
}

/// The product page's reviews block as HTML (rendered by `fragment`).
#[server(prefix = "/rpc")]
pub async fn get_reviews_html(
    sku: String,
    sort: Option<String>,
    stars: Option<String>,
    page: Option<String>,
) -> Result<String, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let sku = crate::shared::Sku::parse(&sku).map_err(|_| AppError::NotFound(format!("product '{sku}'")))?;
    // Links are made by the page itself; anything unknown falls back to the default view.
    let sort = sort.as_deref().and_then(ReviewSort::parse).unwrap_or_default();
    let stars = stars.and_then(|s| s.parse::<i64>().ok()).filter(|s| (1..=5).contains(s));
    let asked_page = page.and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).clamp(1, 100_000);
    let signed_in = identity.user.is_some();
    let key = (sku.as_str().to_string(), sort, stars, asked_page, signed_in);
    if let Some(html) = state.review_blocks.get(&key) {
        return Ok(html.to_string());
    }
    let generation = state.review_blocks.generation();
    // Read here, not passed in by the page: the block is cached and shared, so the JSON-LD's
    // name, price and image must come from the database, never from a caller's arguments.
    let product = crate::catalog::ssr::get_product(&state.db, &sku).await?;
    let summary = super::ssr::summary(&state.db, sku.as_str()).await?;
    let matching = stars.map(|s| summary.histogram[(s - 1) as usize]).unwrap_or_else(|| summary.count());
    let pages = ((matching + super::domain::PAGE_SIZE - 1) / super::domain::PAGE_SIZE).max(1);
    let page = asked_page.min(pages);
    let reviews = super::ssr::approved_reviews(&state.db, sku.as_str(), sort, stars, page).await?;
    let questions = super::ssr::questions(&state.db, sku.as_str(), 20).await?;
    let json_ld = super::domain::json_ld(
        &product.name,
        &product.sku,
        &product.description,
        &product.image,
        product.price.amount_cents,
        &summary,
        &reviews,
    );
    let html = super::fragment::render(ReviewsBlock {
        sku: sku.as_str().to_string(),
        summary,
        reviews,
        sort,
        stars,
        page,
        pages,
        questions,
        json_ld,
        signed_in,
    });
    state.review_blocks.put(key, generation, html.as_str().into());
    Ok(html)
}

/// Back to `path` with `?review_error=` (and `#anchor`), or `?voted=` on success.
#[cfg(feature = "ssr")]
fn back_to(path: &str, anchor: &str, result: Result<(), AppError>) -> Result<(), AppError> {
    use crate::accounts::api::url_escape;
    match result {
        Ok(()) => crate::state::redirect(&format!("{path}?voted=1#{anchor}")),
        Err(AppError::Unauthorized) => {
            crate::state::redirect(&format!("/login?next={}", url_escape(path)));
        }
        Err(error @ (AppError::Refused(_) | AppError::NotFound(_) | AppError::TooManyRequests { .. })) => {
            crate::state::redirect(&format!("{path}?review_error={}#{anchor}", url_escape(&error.to_string())))
        }
        Err(error) => return Err(error),
    }
    Ok(())
}

/// "Helpful" on a review, or a vote on a question or answer (`kind`). Posted by a plain
/// form, so its address is fixed.
#[server(prefix = "/rpc", endpoint = "vote")]
pub async fn vote(kind: String, id: i64, sku: String) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let target = super::domain::Target::parse(&kind)
        .ok_or_else(|| AppError::invalid("kind", "Vote on a review, question or answer."))?;
    let path = format!("/products/{}", crate::accounts::api::url_escape(&sku));
    let result = async {
        let user = identity.require_user()?;
        super::ssr::vote_qa(&state.db, user.id, target, id).await.map(|_| ())
    }
    .await;
    state.review_blocks.invalidate();
    back_to(&path, &format!("{}-{id}", target.key()), result)
}

/// The write/edit page: the product, the shopper's review so far, and the points offered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewForm {
    pub sku: String,
    pub product_name: String,
    pub existing: Option<Review>,
    pub review_points: i64,
    pub verified_buyer: bool,
}

#[server(prefix = "/rpc")]
pub async fn get_review_form(sku: String) -> Result<Option<ReviewForm>, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        return Ok(None);
    };
    let sku = crate::shared::Sku::parse(&sku).map_err(|_| AppError::NotFound(format!("product '{sku}'")))?;
    let product = crate::catalog::ssr::get_product(&state.db, &sku).await?;
    let existing = super::ssr::review_of(&state.db, user.id, sku.as_str()).await?;
    let mut conn = state.db.pool().acquire().await?;
    let verified_buyer = super::ssr::bought(&mut conn, user.id, sku.as_str()).await?;
    Ok(Some(ReviewForm {
        sku: product.sku,
        product_name: product.name,
        existing,
        review_points: state.loyalty.review_points,
        verified_buyer,
    }))
}

/// Saves the shopper's review (new or edited). On a bad field the page comes back with the
/// message next to the field and everything typed still in the form.
#[server(prefix = "/rpc")]
pub async fn save_review(sku: String, rating: Option<String>, title: String, body: String) -> Result<(), AppError> {
    use crate::accounts::api::url_escape;
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let form_path = format!("/account/reviews/{}", url_escape(&sku));
    let Some(user) = identity.user.as_ref() else {
        crate::state::redirect(&format!("/login?next={}", url_escape(&form_path)));
        return Ok(());
    };
    let fail = |field: &str, message: &str| {
        // The typed text rides along (bounded, so the URL stays reasonable).
        let keep = |text: &str| text.chars().take(super::domain::BODY_MAX + 1).collect::<String>();
        crate::state::redirect(&format!(
            "{form_path}?field={}&error={}&rating={}&title={}&body={}",
            url_escape(field),
            url_escape(message),
            url_escape(rating.as_deref().unwrap_or("")),
            url_escape(&keep(&title)),
            url_escape(&keep(&body)),
        ));
        Ok(())
    };
    let draft = match super::domain::ReviewDraft::parse_form(rating.as_deref().unwrap_or(""), &title, &body) {
        Ok(draft) => draft,
        Err(error) => return fail(error.field, &error.message),
    };
    if let Err(seconds) = crate::reviews::ssr::check_post_limits(&state, user.id, identity.client_ip) {
        return fail("body", &format!("You are posting very fast. Try again in {seconds} seconds."));
    }
    match super::ssr::submit_review(&state.db, &state.loyalty, user, &sku, &draft).await {
        Ok(saved) => {
            state.review_blocks.invalidate();
            crate::state::redirect(&format!("/account/reviews?saved={}", url_escape(&saved.review.sku)));
            Ok(())
        }
        Err(AppError::Invalid { field, message }) => fail(&field, &message),
        Err(AppError::Conflict(message)) => fail("body", &message),
        Err(error) => Err(error),
    }
}

/// The shopper's reviews with their moderation status (and the reason when rejected).
#[server(prefix = "/rpc")]
pub async fn get_my_reviews() -> Result<Option<Vec<Review>>, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        return Ok(None);
    };
    Ok(Some(super::ssr::reviews_by(&state.db, user.id).await?))
}

/// The Q&A page of a product: its questions, and whether the viewer may answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaPage {
    pub sku: String,
    pub product_name: String,
    pub questions: Vec<Question>,
    /// Staff or a buyer of the product.
    pub can_answer: bool,
}

#[server(prefix = "/rpc")]
pub async fn get_qa_page(sku: String) -> Result<Option<QaPage>, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        return Ok(None);
    };
    let sku = crate::shared::Sku::parse(&sku).map_err(|_| AppError::NotFound(format!("product '{sku}'")))?;
    let product = crate::catalog::ssr::get_product(&state.db, &sku).await?;
    let mut conn = state.db.pool().acquire().await?;
    let can_answer = user.role == crate::accounts::domain::Role::Admin
        || super::ssr::bought(&mut conn, user.id, sku.as_str()).await?;
    drop(conn);
    Ok(Some(QaPage {
        questions: super::ssr::questions(&state.db, sku.as_str(), 50).await?,
        sku: product.sku,
        product_name: product.name,
        can_answer,
    }))
}

/// Asks a question (`question_id` absent) or answers one.
#[server(prefix = "/rpc")]
pub async fn post_qa(sku: String, question_id: Option<i64>, body: String) -> Result<(), AppError> {
    use crate::accounts::api::url_escape;
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let page = format!("/account/questions/{}", url_escape(&sku));
    let Some(user) = identity.user.as_ref() else {
        crate::state::redirect(&format!("/login?next={}", url_escape(&page)));
        return Ok(());
    };
    let target = question_id.map(|id| format!("&question={id}")).unwrap_or_default();
    let fail = |message: &str| {
        let kept: String = body.chars().take(super::domain::QA_MAX + 1).collect();
        crate::state::redirect(&format!("{page}?error={}&body={}{target}", url_escape(message), url_escape(&kept)));
        Ok(())
    };
    if let Err(seconds) = crate::reviews::ssr::check_post_limits(&state, user.id, identity.client_ip) {
        return fail(&format!("You are posting very fast. Try again in {seconds} seconds."));
    }
    let result = match question_id {
        None => super::ssr::ask(&state.db, user, &sku, &body).await.map(|q| q.status),
        Some(id) => super::ssr::answer(&state.db, user, id, &body).await.map(|a| a.status),
    };
    match result {
        Ok(status) => {
            state.review_blocks.invalidate();
            crate::state::redirect(&format!("{page}?posted={}", status.key()));
            Ok(())
        }
        Err(AppError::Invalid { message, .. } | AppError::Refused(message) | AppError::Conflict(message)) => {
            fail(&message)
        }
        Err(error) => Err(error),
    }
}

/// Everything `/admin/reviews` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationPage {
    pub queue: Vec<super::domain::QueueItem>,
    pub recent: Vec<Review>,
    pub auto_approve_verified: bool,
    pub blocklist: String,
    /// (day number since 1970, reviews submitted, reviews approved), last 30 days.
    pub daily: Vec<(i64, i64, i64)>,
    /// Recent questions with all their published answers (to feature or sponsor one).
    pub questions: Vec<Question>,
    /// Community posts waiting, and recent ones (moderated on this page like reviews).
    pub community: crate::community::api::CommunityModeration,
}

#[server(prefix = "/rpc")]
pub async fn get_moderation_page() -> Result<ModerationPage, AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let mut conn = state.db.pool().acquire().await?;
    let settings = super::ssr::settings(&mut conn).await?;
    drop(conn);
    Ok(ModerationPage {
        queue: super::ssr::queue(&state.db, 200).await?,
        recent: super::ssr::recent_reviews(&state.db, 30).await?,
        auto_approve_verified: settings.auto_approve_verified,
        blocklist: settings.blocklist.to_text(),
        daily: super::ssr::daily_counts(&state.db, 30).await?,
        questions: super::ssr::recent_questions(&state.db, 20).await?,
        community: crate::community::api::CommunityModeration {
            queue: crate::community::ssr::queue(&state.db, 200).await?,
            recent: crate::community::ssr::recent_posts(&state.db, 20).await?,
        },
    })
}

/// Approves or rejects items. `items` are `kind:id` (`review:12`), from the bulk checkboxes
/// or a single row's buttons; `decision` is `approve` or `reject` (with `reason`).
#[server(prefix = "/rpc", endpoint = "moderate")]
pub async fn moderate(items: Option<Vec<String>>, decision: String, reason: Option<String>) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    let result = async {
        let decision = super::ssr::Decision::parse(&decision, reason)?;
        let mut groups: Vec<(super::domain::Target, Vec<i64>)> = Vec::new();
        for item in items.unwrap_or_default() {
            let parsed = item
                .split_once(':')
                .and_then(|(kind, id)| Some((super::domain::Target::parse(kind)?, id.parse::<i64>().ok()?)));
            let (target, id) = parsed.ok_or_else(|| AppError::invalid("items", "Unknown item."))?;
            match groups.iter_mut().find(|(t, _)| *t == target) {
                Some((_, ids)) => ids.push(id),
                None => groups.push((target, vec![id])),
            }
        }
        if groups.is_empty() {
            return Err(AppError::invalid("items", "Select at least one item."));
        }
        let mut changed = 0;
        for (target, ids) in &groups {
            changed += super::ssr::moderate(&state.db, &state.loyalty, admin.id, *target, ids, &decision).await?;
        }
        state.review_blocks.invalidate();
        let verb = if decision == super::ssr::Decision::Approve { "Approved" } else { "Rejected" };
        Ok(format!("{verb} {changed} item{}.", if changed == 1 { "" } else { "s" }))
    }
    .await;
    crate::state::admin_redirect("/admin/reviews", result)
}

#[server(prefix = "/rpc")]
pub async fn save_moderation_settings(
    auto_approve_verified: Option<String>,
    blocklist: String,
) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    let result = super::ssr::save_settings(&state.db, admin.id, auto_approve_verified.is_some(), &blocklist)
        .await
        .map(|()| "Moderation settings saved.".to_string());
    crate::state::admin_redirect("/admin/reviews", result)
}

/// A merchant reply, a sponsorship (`sponsored_by`), or featuring an answer, on one item.
#[server(prefix = "/rpc")]
pub async fn annotate(kind: String, id: i64, field: String, value: String) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    let result = async {
        let target = super::domain::Target::parse(&kind).ok_or_else(|| AppError::invalid("kind", "Unknown item."))?;
        match (target, field.as_str()) {
            (super::domain::Target::Review, "reply") => {
                super::ssr::reply(&state.db, admin.id, id, &value).await.map(|()| "Reply published.".to_string())
            }
            (_, "sponsored_by") => super::ssr::set_sponsor(&state.db, admin.id, target, id, &value)
                .await
                .map(|()| "Marked as sponsored.".to_string()),
            (super::domain::Target::Question, "featured_answer") => {
                let answer = value.trim().parse::<i64>().ok();
                super::ssr::feature_answer(&state.db, admin.id, id, answer)
                    .await
                    .map(|()| "Featured answer set.".to_string())
            }
            _ => Err(AppError::invalid("field", "Nothing to change.")),
        }
    }
    .await;
    state.review_blocks.invalidate();
    crate::state::admin_redirect("/admin/reviews", result)
}
