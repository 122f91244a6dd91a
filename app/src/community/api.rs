//! Server functions of the community pages and the search page: thin wrappers over the
//! storage. Posting checks the login, the `community_posting` entitlement, the form and the
//! per-account rate limit, in that order; a refused form goes back to its page with the
//! message next to the field and the text kept.

use super::domain::{Post, QueueItem, SearchPage, SearchParams, Topic, TopicSummary};
use crate::catalog::domain::Category;
use crate::plans::domain::Gate;
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One category on the community's front page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryBoard {
    pub category: Category,
    pub n_topics: i64,
    pub newest: Vec<TopicSummary>,
}

#[server(prefix = "/rpc")]
pub async fn get_community_home() -> Result<Vec<CategoryBoard>, AppError> {
    let state = crate::state::state()?;
    let categories = crate::catalog::ssr::list_categories(&state.db).await?;
    let counts = super::ssr::topic_counts(&state.db).await?;
    let newest = super::ssr::newest_topics(&state.db, 3).await?;
    Ok(categories
        .into_iter()
        .map(|category| CategoryBoard {
            n_topics: counts.iter().find(|(slug, _)| *slug == category.slug).map_or(0, |(_, n)| *n),
            newest: newest.iter().filter(|topic| topic.category == category.slug).cloned().collect(),
            category,
        })
        .collect())
}

/// A category's topics and whether the caller may start one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryTopics {
    pub category: Category,
    pub topics: Vec<TopicSummary>,
    pub page: i64,
    pub pages: i64,
    pub posting: Gate,
}

#[server(prefix = "/rpc")]
pub async fn get_category_topics(category: String, page: i64) -> Result<CategoryTopics, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let category = crate::catalog::ssr::get_category(&state.db, &category).await?;
    let reader = identity.user.as_ref().map(|user| user.id);
    let (topics, page, pages) = super::ssr::topics(&state.db, Some(&category.slug), page, reader).await?;
    let posting =
        crate::plans::ssr::gate(&state, &identity, crate::plans::domain::Feature::CommunityPosting, true).await?;
    Ok(CategoryTopics { category, topics, page, pages, posting })
}

/// A topic page and whether the caller may reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicView {
    pub topic: Topic,
    pub posting: Gate,
}

#[server(prefix = "/rpc")]
pub async fn get_topic(id: i64, page: i64) -> Result<TopicView, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let reader = identity.user.as_ref().map(|user| user.id);
    let topic = super::ssr::topic(&state.db, id, page, reader)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("topic {id}")))?;
    let posting =
        crate::plans::ssr::gate(&state, &identity, crate::plans::domain::Feature::CommunityPosting, true).await?;
    Ok(TopicView { topic, posting })
}

/// Sends the browser back to `path` with the refusal and the typed text.
#[cfg(feature = "ssr")]
fn back_with_error(path: &str, anchor: &str, field: &str, message: &str, typed: &[(&str, &str)]) {
    use crate::accounts::api::url_escape;
    let mut url = format!("{path}?field={}&error={}", url_escape(field), url_escape(message));
    for (name, value) in typed {
        // Bounded, so the URL stays reasonable.
        let kept: String = value.chars().take(super::domain::BODY_MAX + 1).collect();
        url.push_str(&format!("&{name}={}", url_escape(&kept)));
    }
    url.push('#');
    url.push_str(anchor);
    crate::state::redirect(&url);
}

/// Writes a post after the checks every way of posting shares; `Ok(Err(..))` is a refusal
/// for the form (field, message).
#[cfg(feature = "ssr")]
async fn post_checked(
    next: &str,
    post: Result<super::ssr::NewPost, super::domain::FieldError>,
) -> Result<Result<Post, (String, String)>, AppError> {
    use crate::accounts::api::url_escape;
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        crate::state::redirect(&format!("/login?next={}", url_escape(next)));
        return Ok(Err((String::new(), String::new())));
    };
    crate::plans::ssr::require(&state, &identity, crate::plans::domain::Feature::CommunityPosting).await?;
    let post = match post {
        Ok(post) => post,
        Err(error) => return Ok(Err((error.field.to_string(), error.message))),
    };
    if let Err(seconds) = crate::reviews::ssr::check_post_limits(&state, user.id, identity.client_ip) {
        return Ok(Err(("body".into(), format!("You are posting very fast. Try again in {seconds} seconds."))));
    }
    match super::ssr::submit_post(&state.db, user, &post).await {
        Ok(saved) => Ok(Ok(saved)),
        Err(AppError::Invalid { field, message }) => Ok(Err((field, message))),
        Err(error) => Err(error),
    }
}

/// The new-topic form of a category page.
#[server(prefix = "/rpc", endpoint = "post_topic")]
pub async fn post_topic(category: String, title: String, body: String) -> Result<(), AppError> {
    use crate::accounts::api::url_escape;
    let path = format!("/community/{}", url_escape(&category));
    let draft = super::domain::TopicDraft::parse(&category, &title, &body).map(super::ssr::NewPost::Topic);
    match post_checked(&path, draft).await? {
        Ok(post) => {
            crate::state::redirect(&format!("/community/t/{}?posted={}#post-{}", post.topic_id, post.id, post.id))
        }
        Err((field, _)) if field.is_empty() => {}
        Err((field, message)) => {
            back_with_error(&path, "new-topic", &field, &message, &[("title", &title), ("body", &body)]);
        }
    }
    Ok(())
}

/// The reply form of a topic page.
#[server(prefix = "/rpc", endpoint = "post_reply")]
pub async fn post_reply(topic_id: i64, body: String) -> Result<(), AppError> {
    let path = format!("/community/t/{topic_id}");
    let reply = super::domain::parse_body(&body).map(|body| super::ssr::NewPost::Reply { topic_id, body });
    match post_checked(&path, reply).await? {
        // The author's pending reply is on the last page they can see.
        Ok(post) => crate::state::redirect(&format!("{path}?page=last&posted={}#post-{}", post.id, post.id)),
        Err((field, _)) if field.is_empty() => {}
        Err((field, message)) => back_with_error(&path, "reply", &field, &message, &[("body", &body)]),
    }
    Ok(())
}

/// The search page's answer: results, or the filter that was refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub page: SearchPage,
    pub error: Option<(String, String)>,
}

#[server(prefix = "/rpc")]
pub async fn search_ugc(params: SearchParams) -> Result<SearchResults, AppError> {
    let state = crate::state::state()?;
    match super::domain::SearchQuery::parse(&params) {
        Ok(query) => Ok(SearchResults { page: super::search::search(&state.db, &query).await?, error: None }),
        Err(error) => {
            Ok(SearchResults { page: SearchPage::default(), error: Some((error.field.into(), error.message)) })
        }
    }
}

/// The community part of `/admin/reviews` (loaded with the rest of that page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunityModeration {
    pub queue: Vec<QueueItem>,
    /// Recently published posts with their topic's title (to mark one sponsored).
    pub recent: Vec<(Post, String)>,
}

/// Approves or rejects posts (`ids` from the checkboxes or a row's buttons).
#[server(prefix = "/rpc", endpoint = "moderate_posts")]
pub async fn moderate_posts(ids: Option<Vec<i64>>, decision: String, reason: Option<String>) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    let result = async {
        let decision = crate::reviews::ssr::Decision::parse(&decision, reason)?;
        let changed = super::ssr::moderate(&state.db, admin.id, &ids.unwrap_or_default(), &decision).await?;
        let verb = if decision == crate::reviews::ssr::Decision::Approve { "Approved" } else { "Rejected" };
        Ok(format!("{verb} {changed} post{}.", if changed == 1 { "" } else { "s" }))
    }
    .await;
    crate::state::admin_redirect("/admin/reviews", result)
}

#[server(prefix = "/rpc")]
pub async fn sponsor_post(id: i64, sponsored_by: String) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    let result = super::ssr::set_sponsor(&state.db, admin.id, id, &sponsored_by)
        .await
        .map(|()| "Marked as sponsored.".to_string());
    crate::state::admin_redirect("/admin/reviews", result)
}
