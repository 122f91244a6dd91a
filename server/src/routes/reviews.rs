//! Reviews and Q&A over JSON: `GET|POST /products/{sku}/reviews`, `GET|POST
//! /products/{sku}/questions`, `POST /questions/{id}/answers`, `POST /reviews/{id}/helpful`,
//! votes on questions and answers, `/me/reviews`, and the owner's moderation endpoints.
//! Posting is rate-limited per account (429 with `Retry-After`), community posts included.

use super::api::{parse_sku, Items};
use super::error::{ApiError, ApiJson};
use super::openapi::Problem;
use super::ApiState;
use app::accounts::domain::User;
use app::accounts::ssr::Identity;
use app::reviews::domain::{
    disclosures, Answer, Question, RatingSummary, Review, ReviewDraft, ReviewSort, Target, PAGE_SIZE,
};
use app::reviews::ssr::{self as reviews, Decision};
use app::shared::AppError;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(
    list_reviews,
    post_review,
    list_questions,
    post_question,
    post_answer,
    helpful,
    vote_question,
    vote_answer,
    my_reviews,
    admin_queue,
    admin_moderate,
    admin_settings,
    admin_put_settings,
    admin_put_review,
    admin_put_answer,
    admin_put_question
))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/products/{sku}/reviews", get(list_reviews).post(post_review))
        .route("/products/{sku}/questions", get(list_questions).post(post_question))
        .route("/questions/{id}/answers", post(post_answer))
        .route("/reviews/{id}/helpful", post(helpful))
        .route("/questions/{id}/votes", post(vote_question))
        .route("/answers/{id}/votes", post(vote_answer))
        .route("/me/reviews", get(my_reviews))
        .route("/admin/moderation", get(admin_queue).post(admin_moderate))
        .route("/admin/moderation/settings", get(admin_settings).put(admin_put_settings))
        .route("/admin/reviews/{id}", put(admin_put_review))
        .route("/admin/answers/{id}", put(admin_put_answer))
        .route("/admin/questions/{id}", put(admin_put_question))
}

fn parse_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| ApiError::not_found(format!("No such {what}.")))
}

/// 429 with `Retry-After` when the account posted too much in the last minute.
pub(super) fn rate_limited(state: &ApiState, user: &User, identity: &Identity) -> Option<Response> {
    reviews::check_post_limits(&state.app, user.id, identity.client_ip).err().map(|seconds| {
        metrics::counter!("mercato_posts_rate_limited_total").increment(1);
        ApiError::too_many(format!("You are posting very fast. Try again in {seconds} seconds."), seconds)
            .into_response()
    })
}

/// A review with its disclosures spelled out, as shown on the page.
#[derive(Serialize, ToSchema)]
struct ReviewJson {
    #[serde(flatten)]
    review: Review,
    disclosures: Vec<String>,
}

impl From<Review> for ReviewJson {
    fn from(review: Review) -> ReviewJson {
        let disclosures =
            disclosures(review.sponsored_by.as_deref(), review.incentive_points).iter().map(|d| d.text()).collect();
        ReviewJson { review, disclosures }
    }
}

#[derive(Serialize, ToSchema)]
struct SummaryJson {
    count: i64,
    /// "4.3", or null without reviews.
    average: Option<String>,
    /// Reviews per star, index 0 = 1 star.
    histogram: [i64; 5],
}

impl From<RatingSummary> for SummaryJson {
    fn from(summary: RatingSummary) -> SummaryJson {
        SummaryJson { count: summary.count(), average: summary.average_text(), histogram: summary.histogram }
    }
}

#[derive(Serialize, ToSchema)]
struct ReviewList {
    items: Vec<ReviewJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    summary: SummaryJson,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReviewQuery {
    /// `newest` (the default), `helpful`, `rating_high` or `rating_low`.
    sort: Option<String>,
    /// Only reviews with this many stars (1 to 5).
    stars: Option<i64>,
    /// The `next_cursor` of the previous page (a page number).
    cursor: Option<String>,
}

/// Approved reviews only, `PAGE_SIZE` per page, with the product's rating summary.
#[utoipa::path(get, path = "/products/{sku}/reviews", tag = "reviews", params(("sku" = String, Path, description = "The product's SKU."), ReviewQuery), responses((status = 200, description = "A page of the product's approved reviews with the rating summary.", body = ReviewList), (status = 404, description = "No such product.", body = Problem, content_type = "application/problem+json")))]
async fn list_reviews(
    State(state): State<ApiState>,
    Path(sku): Path<String>,
    Query(query): Query<ReviewQuery>,
) -> Result<Json<ReviewList>, ApiError> {
    let sku = parse_sku(&sku)?;
    app::catalog::ssr::get_product(&state.app.db, &sku).await?;
    let sort = match query.sort.as_deref() {
        None => ReviewSort::default(),
        Some(raw) => ReviewSort::parse(raw)
            .ok_or_else(|| AppError::invalid("sort", "Sort by newest, helpful, rating_high or rating_low."))?,
    };
    if let Some(stars) = query.stars {
        if !(1..=5).contains(&stars) {
            return Err(AppError::invalid("stars", "Filter by 1 to 5 stars.").into());
        }
    }
    let page = match query.cursor.as_deref() {
        None => 1,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or_else(|| AppError::invalid("cursor", "Use the next_cursor of the last page."))?,
    };
    let summary = reviews::summary(&state.app.db, sku.as_str()).await?;
    let matching = query.stars.map(|s| summary.histogram[(s - 1) as usize]).unwrap_or_else(|| summary.count());
    let items = reviews::approved_reviews(&state.app.db, sku.as_str(), sort, query.stars, page).await?;
    let next_cursor = (page * PAGE_SIZE < matching).then(|| (page + 1).to_string());
    Ok(Json(ReviewList {
        items: items.into_iter().map(ReviewJson::from).collect(),
        next_cursor,
        summary: summary.into(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    rating: i64,
    title: String,
    body: String,
}

/// Writes the caller's review (201), or rewrites it (200; back to moderation).
#[utoipa::path(post, path = "/products/{sku}/reviews", tag = "reviews", params(("sku" = String, Path, description = "The product's SKU.")), request_body = ReviewBody, security(("session" = [])), responses((status = 201, description = "The review (it waits for moderation unless published at once).", body = ReviewJson), (status = 200, description = "The shopper's review of this product, edited (back to moderation).", body = ReviewJson), (status = 404, description = "No such product.", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Too many posts this minute (`Retry-After`).", body = Problem, content_type = "application/problem+json")))]
async fn post_review(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(sku): Path<String>,
    ApiJson(input): ApiJson<ReviewBody>,
) -> Result<Response, ApiError> {
    let user = identity.require_user()?;
    let sku = parse_sku(&sku)?;
    let draft = ReviewDraft::parse(input.rating, &input.title, &input.body)
        .map_err(|e| AppError::invalid(e.field, e.message))?;
    if let Some(response) = rate_limited(&state, user, &identity) {
        return Ok(response);
    }
    let saved = reviews::submit_review(&state.app.db, &state.app.loyalty, user, sku.as_str(), &draft).await?;
    state.app.review_blocks.invalidate();
    let status = if saved.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ReviewJson::from(saved.review))).into_response())
}

#[utoipa::path(get, path = "/products/{sku}/questions", tag = "reviews", params(("sku" = String, Path, description = "The product's SKU.")), responses((status = 200, description = "The product's published questions with their answers.", body = Items<Question>), (status = 404, description = "No such product.", body = Problem, content_type = "application/problem+json")))]
async fn list_questions(
    State(state): State<ApiState>,
    Path(sku): Path<String>,
) -> Result<Json<Items<Question>>, ApiError> {
    let sku = parse_sku(&sku)?;
    app::catalog::ssr::get_product(&state.app.db, &sku).await?;
    Ok(Json(Items { items: reviews::questions(&state.app.db, sku.as_str(), 50).await?, next_cursor: None }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TextBody {
    body: String,
}

#[utoipa::path(post, path = "/products/{sku}/questions", tag = "reviews", params(("sku" = String, Path, description = "The product's SKU.")), request_body = TextBody, security(("session" = [])), responses((status = 201, description = "The question (it waits for moderation).", body = Question), (status = 404, description = "No such product.", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Too many posts this minute (`Retry-After`).", body = Problem, content_type = "application/problem+json")))]
async fn post_question(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(sku): Path<String>,
    ApiJson(input): ApiJson<TextBody>,
) -> Result<Response, ApiError> {
    let user = identity.require_user()?;
    let sku = parse_sku(&sku)?;
    app::reviews::domain::parse_question(&input.body).map_err(|e| AppError::invalid(e.field, e.message))?;
    if let Some(response) = rate_limited(&state, user, &identity) {
        return Ok(response);
    }
    let question = reviews::ask(&state.app.db, user, sku.as_str(), &input.body).await?;
    state.app.review_blocks.invalidate();
    Ok((StatusCode::CREATED, Json(question)).into_response())
}

#[utoipa::path(post, path = "/questions/{id}/answers", tag = "reviews", params(("id" = i64, Path, description = "The question's id.")), request_body = TextBody, security(("session" = [])), responses((status = 201, description = "The answer.", body = Answer), (status = 403, description = "Only staff and buyers of the product answer.", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such question.", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Too many posts this minute (`Retry-After`).", body = Problem, content_type = "application/problem+json")))]
async fn post_answer(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TextBody>,
) -> Result<Response, ApiError> {
    let user = identity.require_user()?;
    let id = parse_id(&id, "question")?;
    app::reviews::domain::parse_answer(&input.body).map_err(|e| AppError::invalid(e.field, e.message))?;
    if let Some(response) = rate_limited(&state, user, &identity) {
        return Ok(response);
    }
    let answer: Answer = reviews::answer(&state.app.db, user, id, &input.body).await?;
    state.app.review_blocks.invalidate();
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[derive(Serialize, ToSchema)]
struct Helpful {
    helpful_count: i64,
}

/// One helpful vote per shopper; voting again changes nothing.
#[utoipa::path(post, path = "/reviews/{id}/helpful", tag = "reviews", params(("id" = i64, Path, description = "The review's id.")), security(("session" = [])), responses((status = 200, description = "The review's helpful votes (one per shopper).", body = Helpful), (status = 404, description = "No such review.", body = Problem, content_type = "application/problem+json")))]
async fn helpful(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
) -> Result<Json<Helpful>, ApiError> {
    let user = identity.require_user()?;
    let id = parse_id(&id, "review")?;
    let helpful_count = reviews::vote_helpful(&state.app.db, user.id, id).await?;
    state.app.review_blocks.invalidate();
    Ok(Json(Helpful { helpful_count }))
}

#[derive(Serialize, ToSchema)]
struct Votes {
    votes: i64,
}

#[utoipa::path(post, path = "/questions/{id}/votes", tag = "reviews", params(("id" = i64, Path, description = "The question's id.")), security(("session" = [])), responses((status = 200, description = "The question's votes.", body = Votes), (status = 404, description = "No such question.", body = Problem, content_type = "application/problem+json")))]
async fn vote_question(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
) -> Result<Json<Votes>, ApiError> {
    let user = identity.require_user()?;
    let id = parse_id(&id, "question")?;
    let votes = reviews::vote_qa(&state.app.db, user.id, Target::Question, id).await?;
    state.app.review_blocks.invalidate();
    Ok(Json(Votes { votes }))
}

#[utoipa::path(post, path = "/answers/{id}/votes", tag = "reviews", params(("id" = i64, Path, description = "The answer's id.")), security(("session" = [])), responses((status = 200, description = "The answer's votes.", body = Votes), (status = 404, description = "No such answer.", body = Problem, content_type = "application/problem+json")))]
async fn vote_answer(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
) -> Result<Json<Votes>, ApiError> {
    let user = identity.require_user()?;
    let id = parse_id(&id, "answer")?;
    let votes = reviews::vote_qa(&state.app.db, user.id, Target::Answer, id).await?;
    state.app.review_blocks.invalidate();
    Ok(Json(Votes { votes }))
}

/// The caller's reviews in any state, with the moderator's reason when rejected.
#[utoipa::path(get, path = "/me/reviews", tag = "reviews", security(("session" = [])), responses((status = 200, description = "The shopper's reviews with their status.", body = Items<ReviewJson>)))]
async fn my_reviews(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<ReviewJson>>, ApiError> {
    let user = identity.require_user()?;
    let items = reviews::reviews_by(&state.app.db, user.id).await?.into_iter().map(ReviewJson::from).collect();
    Ok(Json(Items { items, next_cursor: None }))
}

#[utoipa::path(get, path = "/admin/moderation", operation_id = "admin_review_queue", tag = "reviews", security(("session" = ["admin"])), responses((status = 200, description = "Reviews, questions and answers waiting for moderation, with why.", body = Items<app::reviews::domain::QueueItem>)))]
async fn admin_queue(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<app::reviews::domain::QueueItem>>, ApiError> {
    identity.require_admin()?;
    Ok(Json(Items { items: reviews::queue(&state.app.db, 200).await?, next_cursor: None }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ModerationItem {
    kind: Target,
    id: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ModerationRequest {
    items: Vec<ModerationItem>,
    /// `approve` or `reject`.
    decision: String,
    /// Required to reject: the author is told why.
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Moderated {
    changed: usize,
}

/// Approves or rejects items in bulk (each kind in one transaction).
#[utoipa::path(post, path = "/admin/moderation", operation_id = "admin_review_moderate", tag = "reviews", request_body = ModerationRequest, security(("session" = ["admin"])), responses((status = 200, description = "How many items changed.", body = Moderated)))]
async fn admin_moderate(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(input): ApiJson<ModerationRequest>,
) -> Result<Json<Moderated>, ApiError> {
    let admin = identity.require_admin()?;
    let decision = Decision::parse(&input.decision, input.reason)?;
    if input.items.is_empty() {
        return Err(AppError::invalid("items", "Send at least one item.").into());
    }
    let mut changed = 0;
    for target in [Target::Review, Target::Question, Target::Answer] {
        let ids: Vec<i64> = input.items.iter().filter(|item| item.kind == target).map(|item| item.id).collect();
        if !ids.is_empty() {
            changed += reviews::moderate(&state.app.db, &state.app.loyalty, admin.id, target, &ids, &decision).await?;
        }
    }
    state.app.review_blocks.invalidate();
    Ok(Json(Moderated { changed }))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SettingsJson {
    auto_approve_verified: bool,
    blocklist: Vec<String>,
}

#[utoipa::path(get, path = "/admin/moderation/settings", tag = "reviews", security(("session" = ["admin"])), responses((status = 200, description = "The moderation settings.", body = SettingsJson)))]
async fn admin_settings(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<SettingsJson>, ApiError> {
    identity.require_admin()?;
    let mut conn = state.app.db.pool().acquire().await?;
    let settings = reviews::settings(&mut conn).await?;
    Ok(Json(SettingsJson {
        auto_approve_verified: settings.auto_approve_verified,
        blocklist: settings.blocklist.words().to_vec(),
    }))
}

#[utoipa::path(put, path = "/admin/moderation/settings", tag = "reviews", request_body = SettingsJson, security(("session" = ["admin"])), responses((status = 204, description = "Saved.")))]
async fn admin_put_settings(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(input): ApiJson<SettingsJson>,
) -> Result<StatusCode, ApiError> {
    let admin = identity.require_admin()?;
    if input.blocklist.iter().any(|word| word.contains(',') || word.contains('\n')) {
        return Err(AppError::invalid("blocklist", "One word or phrase per entry, without commas.").into());
    }
    reviews::save_settings(&state.app.db, admin.id, input.auto_approve_verified, &input.blocklist.join("\n")).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewEdit {
    /// The shop's public reply.
    reply: Option<String>,
    /// Discloses a sponsorship; can be renamed, never cleared.
    sponsored_by: Option<String>,
}

#[utoipa::path(put, path = "/admin/reviews/{id}", tag = "reviews", params(("id" = i64, Path, description = "The review's id.")), request_body = ReviewEdit, security(("session" = ["admin"])), responses((status = 204, description = "Saved."), (status = 404, description = "No such review.", body = Problem, content_type = "application/problem+json")))]
async fn admin_put_review(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewEdit>,
) -> Result<StatusCode, ApiError> {
    let admin = identity.require_admin()?;
    let id = parse_id(&id, "review")?;
    if input.reply.is_none() && input.sponsored_by.is_none() {
        return Err(AppError::invalid("reply", "Send a reply or a sponsor.").into());
    }
    if let Some(reply) = &input.reply {
        reviews::reply(&state.app.db, admin.id, id, reply).await?;
    }
    if let Some(sponsor) = &input.sponsored_by {
        reviews::set_sponsor(&state.app.db, admin.id, Target::Review, id, sponsor).await?;
    }
    state.app.review_blocks.invalidate();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AnswerEdit {
    sponsored_by: String,
}

#[utoipa::path(put, path = "/admin/answers/{id}", tag = "reviews", params(("id" = i64, Path, description = "The answer's id.")), request_body = AnswerEdit, security(("session" = ["admin"])), responses((status = 204, description = "Saved."), (status = 404, description = "No such answer.", body = Problem, content_type = "application/problem+json")))]
async fn admin_put_answer(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AnswerEdit>,
) -> Result<StatusCode, ApiError> {
    let admin = identity.require_admin()?;
    let id = parse_id(&id, "answer")?;
    reviews::set_sponsor(&state.app.db, admin.id, Target::Answer, id, &input.sponsored_by).await?;
    state.app.review_blocks.invalidate();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct QuestionEdit {
    /// The answer to feature, or null for none.
    featured_answer_id: Option<i64>,
}

#[utoipa::path(put, path = "/admin/questions/{id}", tag = "reviews", params(("id" = i64, Path, description = "The question's id.")), request_body = QuestionEdit, security(("session" = ["admin"])), responses((status = 204, description = "Saved."), (status = 404, description = "No such question or answer.", body = Problem, content_type = "application/problem+json")))]
async fn admin_put_question(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<QuestionEdit>,
) -> Result<StatusCode, ApiError> {
    let admin = identity.require_admin()?;
    let id = parse_id(&id, "question")?;
    reviews::feature_answer(&state.app.db, admin.id, id, input.featured_answer_id).await?;
    state.app.review_blocks.invalidate();
    Ok(StatusCode::NO_CONTENT)
}
