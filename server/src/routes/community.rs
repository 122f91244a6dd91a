//! The community and the search of user content over JSON: `GET|POST /community/topics`,
//! `GET /community/topics/{id}`, `POST /community/topics/{id}/replies`, `GET /ugc/search`,
//! and the owner's `GET|POST /admin/community/moderation` and `PUT /admin/community/posts/{id}`.
//! Reading is open to everyone; posting needs a login (401), the `community_posting`
//! entitlement (403 naming the plan), valid text (422) and stays under the per-account rate
//! limit (429 with `Retry-After`).

use super::api::Items;
use super::error::{ApiError, ApiJson};
use super::openapi::Problem;
use super::ApiState;
use app::accounts::ssr::Identity;
use app::community::domain::{
    parse_body, parse_page, Post, SearchPage, SearchParams, SearchQuery, Topic, TopicDraft, TopicSummary,
};
use app::community::ssr::{self as community, NewPost};
use app::plans::domain::Feature;
use app::reviews::ssr::Decision;
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
#[openapi(paths(list_topics, get_topic, post_topic, post_reply, search, admin_queue, admin_moderate, admin_put_post))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/community/topics", get(list_topics).post(post_topic))
        .route("/community/topics/{id}", get(get_topic))
        .route("/community/topics/{id}/replies", post(post_reply))
        .route("/ugc/search", get(search))
        .route("/admin/community/moderation", get(admin_queue).post(admin_moderate))
        .route("/admin/community/posts/{id}", put(admin_put_post))
}

fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| ApiError::not_found("No such topic."))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TopicsQuery {
    /// A category's slug: that board only.
    category: Option<String>,
    /// The `next_cursor` of the previous page (a page number).
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Approved topics (and the caller's own pending ones), newest activity first.
#[utoipa::path(get, path = "/community/topics", tag = "community", params(TopicsQuery), security((), ("session" = [])), responses((status = 200, description = "A page of topics, the latest activity first.", body = Items<TopicSummary>), (status = 404, description = "No such category.", body = Problem, content_type = "application/problem+json")))]
async fn list_topics(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Query(query): Query<TopicsQuery>,
) -> Result<Json<Items<TopicSummary>>, ApiError> {
    let category = query.category.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if let Some(slug) = category {
        app::catalog::ssr::get_category(&state.app.db, slug).await?;
    }
    let page = match query.cursor.as_deref() {
        None => 1,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or_else(|| AppError::invalid("cursor", "Use the next_cursor of the last page."))?,
    };
    let reader = identity.user.as_ref().map(|user| user.id);
    let (items, shown_page, pages) = community::topics(&state.app.db, category, page, reader).await?;
    let items = if shown_page == page { items } else { Vec::new() };
    let next_cursor = (page < pages).then(|| (page + 1).to_string());
    Ok(Json(Items { items, next_cursor }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// The page of replies, from 1.
    page: Option<String>,
}

/// A topic with one page of posts (`?page=`, `last` for the last one).
#[utoipa::path(get, path = "/community/topics/{id}", tag = "community", params(("id" = i64, Path, description = "The topic's id."), PageQuery), security((), ("session" = [])), responses((status = 200, description = "The topic with a page of its replies.", body = Topic), (status = 404, description = "No such topic.", body = Problem, content_type = "application/problem+json")))]
async fn get_topic(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Json<Topic>, ApiError> {
    let id = parse_id(&id)?;
    let reader = identity.user.as_ref().map(|user| user.id);
    let topic = community::topic(&state.app.db, id, parse_page(query.page.as_deref()), reader)
        .await?
        .ok_or_else(|| ApiError::not_found("No such topic."))?;
    Ok(Json(topic))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TopicBody {
    category: String,
    title: String,
    body: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    body: String,
}

/// The checks every post goes through, then the write (201 with the post, pending for a
/// shopper).
async fn submit(state: &ApiState, identity: &Identity, post: Result<NewPost, AppError>) -> Result<Response, ApiError> {
    let user = identity.require_user()?;
    app::plans::ssr::require(&state.app, identity, Feature::CommunityPosting).await?;
    let post = post?;
    if let Some(response) = super::reviews::rate_limited(state, user, identity) {
        return Ok(response);
    }
    let saved: Post = community::submit_post(&state.app.db, user, &post).await?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

#[utoipa::path(post, path = "/community/topics", tag = "community", request_body = TopicBody, security(("session" = [])), responses((status = 201, description = "The topic's opening post (it waits for moderation unless published at once).", body = Post), (status = 403, description = "The plan lacks `community_posting`.", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Too many posts this minute.", body = Problem, content_type = "application/problem+json")))]
async fn post_topic(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(input): ApiJson<TopicBody>,
) -> Result<Response, ApiError> {
    let draft = TopicDraft::parse(&input.category, &input.title, &input.body)
        .map(NewPost::Topic)
        .map_err(|e| AppError::invalid(e.field, e.message));
    submit(&state, &identity, draft).await
}

#[utoipa::path(post, path = "/community/topics/{id}/replies", tag = "community", params(("id" = i64, Path, description = "The topic's id.")), request_body = ReplyBody, security(("session" = [])), responses((status = 201, description = "The reply.", body = Post), (status = 403, description = "The plan lacks `community_posting`.", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such topic.", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Too many posts this minute.", body = Problem, content_type = "application/problem+json")))]
async fn post_reply(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReplyBody>,
) -> Result<Response, ApiError> {
    let topic_id = parse_id(&id)?;
    let reply = parse_body(&input.body)
        .map(|body| NewPost::Reply { topic_id, body })
        .map_err(|e| AppError::invalid(e.field, e.message));
    submit(&state, &identity, reply).await
}

/// Ranked, highlighted approved user content; `next_cursor` pages on.
#[utoipa::path(get, path = "/ugc/search", tag = "community", params(SearchParams), responses((status = 200, description = "Approved reviews, questions, answers and posts, best matches first.", body = SearchPage)))]
async fn search(
    State(state): State<ApiState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchPage>, ApiError> {
    let query = SearchQuery::parse(&params).map_err(|e| AppError::invalid(e.field, e.message))?;
    Ok(Json(app::community::search::search(&state.app.db, &query).await?))
}

#[utoipa::path(get, path = "/admin/community/moderation", operation_id = "admin_community_queue", tag = "community", security(("session" = ["admin"])), responses((status = 200, description = "Posts waiting for moderation.", body = Items<app::community::domain::QueueItem>)))]
async fn admin_queue(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<app::community::domain::QueueItem>>, ApiError> {
    identity.require_admin()?;
    Ok(Json(Items { items: community::queue(&state.app.db, 200).await?, next_cursor: None }))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CommunityModerationRequest)]
#[serde(deny_unknown_fields)]
struct ModerationRequest {
    ids: Vec<i64>,
    /// `approve` or `reject`.
    decision: String,
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CommunityModerated)]
struct Moderated {
    changed: usize,
}

#[utoipa::path(post, path = "/admin/community/moderation", operation_id = "admin_community_moderate", tag = "community", request_body = ModerationRequest, security(("session" = ["admin"])), responses((status = 200, description = "How many posts changed.", body = Moderated)))]
async fn admin_moderate(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(input): ApiJson<ModerationRequest>,
) -> Result<Json<Moderated>, ApiError> {
    let admin = identity.require_admin()?;
    let decision = Decision::parse(&input.decision, input.reason)?;
    let changed = community::moderate(&state.app.db, admin.id, &input.ids, &decision).await?;
    Ok(Json(Moderated { changed }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PostUpdate {
    sponsored_by: String,
}

#[utoipa::path(put, path = "/admin/community/posts/{id}", tag = "community", params(("id" = i64, Path, description = "The post's id.")), request_body = PostUpdate, security(("session" = ["admin"])), responses((status = 204, description = "The sponsor is recorded."), (status = 404, description = "No such post.", body = Problem, content_type = "application/problem+json")))]
async fn admin_put_post(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PostUpdate>,
) -> Result<StatusCode, ApiError> {
    let admin = identity.require_admin()?;
    let id = id.parse::<i64>().map_err(|_| ApiError::not_found("No such post."))?;
    community::set_sponsor(&state.app.db, admin.id, id, &input.sponsored_by).await?;
    Ok(StatusCode::NO_CONTENT)
}
