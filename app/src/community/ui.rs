//! Community and search components (account bundle; the moderation section in the admin
//! bundle). Post text goes through [`parse_markup`] and every token is rendered as a text
//! node; search highlights arrive as marker characters and become `<mark>` elements here.
//! Nothing is ever rendered from HTML.

use super::api::{
    CategoryBoard, CategoryTopics, CommunityModeration, ModeratePosts, PostReply, PostTopic, SponsorPost, TopicView,
};
use super::domain::{
    highlights, parse_markup, parse_page, Inline, Post, SearchHit, SearchParams, TopicSummary, UgcKind, BODY_MAX,
    TITLE_MAX,
};
use crate::layout::ErrorView;
use crate::plans::domain::Feature;
use crate::reviews::domain::Status;
use crate::shared::format_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

/// A post's text: paragraphs, line breaks, emphasis, and links shown as text.
#[component]
pub fn PostBody(body: String) -> impl IntoView {
    parse_markup(&body)
        .into_iter()
        .map(|paragraph| {
            let runs = paragraph
                .into_iter()
                .map(|inline| match inline {
                    Inline::Text(text) => text.into_any(),
                    Inline::Emphasis(text) => view! { <em>{text}</em> }.into_any(),
                    Inline::Break => view! { <br /> }.into_any(),
                    Inline::Link { label, address } => {
                        view! { <span class="link-text">{format!("{label} ({address})")}</span> }.into_any()
                    }
                })
                .collect_view();
            view! { <p>{runs}</p> }
        })
        .collect_view()
}

/// The sponsor label (the same disclosure text as reviews').
#[component]
fn SponsoredLabel(sponsored_by: Option<String>) -> impl IntoView {
    crate::reviews::domain::disclosures(sponsored_by.as_deref(), 0)
        .into_iter()
        .map(|label| view! { <span class="disclosure" data-testid="sponsored-label">{label.text()}</span> })
        .collect_view()
}

/// Text with the database's highlight markers as `<mark>`.
#[component]
pub fn Highlighted(text: String) -> impl IntoView {
    highlights(&text)
        .into_iter()
        .map(|(marked, run)| if marked { view! { <mark>{run}</mark> }.into_any() } else { run.into_any() })
        .collect_view()
}

fn pending_label(status: Status) -> Option<AnyView> {
    match status {
        Status::Pending => Some(
            view! { <span class="pending-label" data-testid="pending-label">"Waiting for moderation"</span> }
                .into_any(),
        ),
        Status::Rejected => Some(view! { <span class="pending-label">"Not published"</span> }.into_any()),
        Status::Approved => None,
    }
}

#[component]
fn TopicRow(topic: TopicSummary) -> impl IntoView {
    let href = format!("/community/t/{}", topic.id);
    view! {
        <li class="topic" data-testid="topic" data-id=topic.id>
            <A href=href>{topic.title}</A>
            <SponsoredLabel sponsored_by=topic.sponsored_by />
            {pending_label(topic.status)}
            <span class="muted">
                {format!(
                    " — {} · {} {} · {}",
                    topic.author,
                    topic.reply_count,
                    if topic.reply_count == 1 { "reply" } else { "replies" },
                    format_time(topic.last_post_at),
                )}
            </span>
        </li>
    }
}

/// The search form (a plain GET form: it works without JavaScript).
#[component]
fn SearchForm(params: SearchParams) -> impl IntoView {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let kind = params.kind.clone().unwrap_or_default();
    let min_rating = params.min_rating.clone().unwrap_or_default();
    view! {
        <form class="ugc-search" action="/community/search" method="get" role="search" data-testid="ugc-search-form">
            <label for="ugc-q">"Search reviews, questions and the community"</label>
            <input id="ugc-q" name="q" type="search" maxlength="200" value=value(&params.q) />
            <details open=params.sku.is_some() || params.category.is_some() || params.kind.is_some()>
                <summary>"Filters"</summary>
                <label for="ugc-kind">"Kind"</label>
                <select id="ugc-kind" name="kind">
                    <option value="" selected=kind.is_empty()>"Everything"</option>
                    {UgcKind::ALL
                        .into_iter()
                        .map(|k| view! { <option value=k.key() selected=kind == k.key()>{k.label()}</option> })
                        .collect_view()}
                </select>
                <label for="ugc-sku">"Product code"</label>
                <input id="ugc-sku" name="sku" maxlength="32" value=value(&params.sku) />
                <label for="ugc-category">"Category"</label>
                <input id="ugc-category" name="category" maxlength="64" value=value(&params.category) />
                <label for="ugc-rating">"At least"</label>
                <select id="ugc-rating" name="min_rating">
                    <option value="" selected=min_rating.is_empty()>"Any rating"</option>
                    {(1..=5)
                        .map(|stars: i64| {
                            let v = stars.to_string();
                            view! { <option value=v.clone() selected=min_rating == v>{format!("{stars}★")}</option> }
                        })
                        .collect_view()}
                </select>
                <label class="checkbox" for="ugc-verified">
                    <input id="ugc-verified" type="checkbox" name="verified" value="true" checked=params.verified.is_some() />
                    "Verified buyers only"
                </label>
                <label for="ugc-from">"From"</label>
                <input id="ugc-from" name="from" type="date" value=value(&params.from) />
                <label for="ugc-to">"To"</label>
                <input id="ugc-to" name="to" type="date" value=value(&params.to) />
            </details>
            <button type="submit" data-testid="ugc-search-submit">"Search"</button>
        </form>
    }
}

/// `/community`: every catalog category with its newest topics.
#[component]
pub fn CommunityPage() -> impl IntoView {
    let boards = Resource::new(|| (), |_| super::api::get_community_home());
    view! {
        <Title text="Community — Mercato" />
        <section class="community">
            <h1>"Community"</h1>
            <SearchForm params=SearchParams::default() />
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match boards.await {
                        Ok(boards) => boards.into_iter().map(|board| view! { <Board board /> }).collect_view().into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Board(board: CategoryBoard) -> impl IntoView {
    let href = format!("/community/{}", board.category.slug);
    view! {
        <section class="card board" data-testid="community-category" data-slug=board.category.slug.clone()>
            <h2>
                <A href=href>{board.category.name}</A>
                <span class="muted">{format!(" · {} topics", board.n_topics)}</span>
            </h2>
            <ul class="topics">{board.newest.into_iter().map(|topic| view! { <TopicRow topic /> }).collect_view()}</ul>
        </section>
    }
}

/// The refusal a form post came back with, next to its field.
fn error_for(field: &'static str) -> impl Fn() -> Option<AnyView> {
    let query = use_query_map();
    move || {
        let q = query.read();
        (q.get("field").as_deref() == Some(field)).then(|| {
            let message = q.get("error").unwrap_or_default();
            view! { <p class="field-error" role="alert" data-testid=format!("error-{field}")>{message}</p> }.into_any()
        })
    }
}

/// `/community/{category}`: its topics and the new-topic form (or the locked box).
#[component]
pub fn CommunityCategoryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || (params.read().get("category").unwrap_or_default(), query.read().to_query_string()),
        move |(category, _)| {
            let page = parse_page(query.read_untracked().get("page").as_deref());
            super::api::get_category_topics(category, page)
        },
    );
    view! {
        <section class="community">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(data) => view! { <CategoryView data /> }.into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn CategoryView(data: CategoryTopics) -> impl IntoView {
    let post = ServerAction::<PostTopic>::new();
    let query = use_query_map();
    let typed = |name: &str| query.read_untracked().get(name).unwrap_or_default();
    let (title, body) = (typed("title"), typed("body"));
    let slug = data.category.slug.clone();
    let next = format!("/community/{slug}");
    let page_title = format!("{} — Community — Mercato", data.category.name);
    let pager = (data.pages > 1).then(|| {
        let base = next.clone();
        view! { <Pager base page=data.page pages=data.pages /> }
    });
    let form_slug = slug.clone();
    view! {
        <Title text=page_title />
        <p class="breadcrumbs">
            <A href="/community">"Community"</A>
            " › "
            {data.category.name.clone()}
        </p>
        <h1>{format!("{} community", data.category.name)}</h1>
        {if data.topics.is_empty() {
            view! { <p class="empty" data-testid="no-topics">"No topics yet. Start one!"</p> }.into_any()
        } else {
            view! {
                <ul class="topics" data-testid="topics">
                    {data.topics.into_iter().map(|topic| view! { <TopicRow topic /> }).collect_view()}
                </ul>
            }
                .into_any()
        }}
        {pager}
        <section class="card" id="new-topic">
            <h2>"Start a topic"</h2>
            {crate::plans::ui::gated(
                data.posting,
                Feature::CommunityPosting,
                &next,
                move || {
                    view! {
                        <ActionForm action=post attr:class="community-form" attr:data-testid="topic-form">
                            <input type="hidden" name="category" value=form_slug />
                            <label for="topic-title">"Title"</label>
                            <input id="topic-title" name="title" maxlength=TITLE_MAX value=title required />
                            {error_for("title")}
                            <label for="topic-body">"Your post"</label>
                            <textarea id="topic-body" name="body" rows="6" maxlength=BODY_MAX required>
                                {body}
                            </textarea>
                            {error_for("body")}
                            {error_for("category")}
                            <p class="muted">
                                "Plain text. A blank line starts a paragraph, *stars* emphasise, links are shown as text."
                            </p>
                            <button type="submit" data-testid="topic-submit">"Post topic"</button>
                        </ActionForm>
                    }
                        .into_any()
                },
            )}
        </section>
    }
}

/// Previous / next links of a paged list.
#[component]
fn Pager(base: String, page: i64, pages: i64) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages" data-testid="pager">
            {(page > 1).then(|| view! { <A href=format!("{base}?page={}", page - 1) attr:rel="prev">"Previous"</A> })}
            <span>{format!(" Page {page} of {pages} ")}</span>
            {(page < pages)
                .then(|| view! { <A href=format!("{base}?page={}", page + 1) attr:rel="next" attr:data-testid="next-page">"Next"</A> })}
        </nav>
    }
}

/// `/community/t/{id}`: a topic and its replies, and the reply form.
#[component]
pub fn CommunityTopicPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || (params.read().get("id").unwrap_or_default(), query.read().to_query_string()),
        move |(id, _)| {
            let page = parse_page(query.read_untracked().get("page").as_deref());
            async move {
                let id = id.parse::<i64>().map_err(|_| crate::shared::AppError::NotFound(format!("topic '{id}'")))?;
                super::api::get_topic(id, page).await
            }
        },
    );
    view! {
        <section class="community topic-page">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(data) => view! { <TopicPageView data /> }.into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PostItem(post: Post) -> impl IntoView {
    let waiting = post.status != Status::Approved;
    view! {
        <article
            class="post"
            class:pending=waiting
            id=format!("post-{}", post.id)
            data-testid="post"
            data-id=post.id
            data-status=post.status.key()
        >
            <header class="review-meta">
                <strong>{post.author}</strong>
                <span class="muted">{format!(" · {}", format_time(post.created_at))}</span>
                <SponsoredLabel sponsored_by=post.sponsored_by />
                {pending_label(post.status)}
            </header>
            <div class="post-body">
                <PostBody body=post.body />
            </div>
        </article>
    }
}

#[component]
fn TopicPageView(data: TopicView) -> impl IntoView {
    let reply = ServerAction::<PostReply>::new();
    let query = use_query_map();
    let typed_body = query.read_untracked().get("body").unwrap_or_default();
    let posted = query.read_untracked().get("posted").is_some();
    let topic = data.topic;
    let summary = topic.summary;
    let topic_id = summary.id;
    let base = format!("/community/t/{topic_id}");
    let category_href = format!("/community/{}", summary.category);
    let pager = (topic.pages > 1).then(|| view! { <Pager base=base.clone() page=topic.page pages=topic.pages /> });
    let can_reply = summary.status == Status::Approved;
    let page_title = format!("{} — Community — Mercato", summary.title);
    view! {
        <Title text=page_title />
        <p class="breadcrumbs">
            <A href="/community">"Community"</A>
            " › "
            <A href=category_href>{topic.category_name}</A>
        </p>
        <h1 data-testid="topic-title">{summary.title}</h1>
        <p>
            <SponsoredLabel sponsored_by=summary.sponsored_by />
            {pending_label(summary.status)}
        </p>
        {posted
            .then(|| {
                view! {
                    <p class="notice" role="status" data-testid="posted-notice">
                        "Thanks! Your post is shown to others once a moderator has approved it."
                    </p>
                }
            })}
        <div class="posts" data-testid="posts">
            {topic.posts.into_iter().map(|post| view! { <PostItem post /> }).collect_view()}
        </div>
        {pager}
        {can_reply
            .then(|| {
                view! {
                    <section class="card" id="reply">
                        <h2>"Reply"</h2>
                        {crate::plans::ui::gated(
                            data.posting,
                            Feature::CommunityPosting,
                            &base,
                            move || {
                                view! {
                                    <ActionForm action=reply attr:class="community-form" attr:data-testid="reply-form">
                                        <input type="hidden" name="topic_id" value=topic_id />
                                        <label for="reply-body">"Your reply"</label>
                                        <textarea id="reply-body" name="body" rows="5" maxlength=BODY_MAX required>
                                            {typed_body}
                                        </textarea>
                                        {error_for("body")}
                                        <button type="submit" data-testid="reply-submit">"Post reply"</button>
                                    </ActionForm>
                                }
                                    .into_any()
                            },
                        )}
                    </section>
                }
            })}
    }
}

fn search_params(query: &leptos_router::params::ParamsMap) -> SearchParams {
    SearchParams {
        q: query.get("q"),
        sku: query.get("sku"),
        category: query.get("category"),
        min_rating: query.get("min_rating"),
        verified: query.get("verified"),
        from: query.get("from"),
        to: query.get("to"),
        kind: query.get("kind"),
        cursor: query.get("cursor"),
    }
}

/// The address of the next page: the same search with `cursor`.
fn next_href(params: &SearchParams, cursor: &str) -> String {
    use crate::accounts::api::url_escape;
    let mut pairs = Vec::new();
    for (name, value) in [
        ("q", &params.q),
        ("kind", &params.kind),
        ("sku", &params.sku),
        ("category", &params.category),
        ("min_rating", &params.min_rating),
        ("verified", &params.verified),
        ("from", &params.from),
        ("to", &params.to),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            pairs.push(format!("{name}={}", url_escape(value)));
        }
    }
    pairs.push(format!("cursor={}", url_escape(cursor)));
    format!("/community/search?{}", pairs.join("&"))
}

/// `/community/search?q=…`: ranked, highlighted results with filters and a next page.
#[component]
pub fn CommunitySearchPage() -> impl IntoView {
    let query = use_query_map();
    let results = Resource::new(move || search_params(&query.read()), super::api::search_ugc);
    view! {
        <Title text="Search the community — Mercato" />
        <section class="community search-page">
            <h1>"Search reviews, questions and the community"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let params = search_params(&query.read_untracked());
                    match results.await {
                        Ok(results) => {
                            let error = results.error.map(|(field, message)| {
                                view! { <p class="field-error" role="alert" data-testid=format!("error-{field}")>{message}</p> }
                            });
                            let next = results.page.next_cursor.as_deref().map(|cursor| {
                                let href = next_href(&params, cursor);
                                view! { <p class="pager"><a href=href rel="next" data-testid="next-page">"More results"</a></p> }
                            });
                            let empty = results.page.items.is_empty() && error.is_none();
                            view! {
                                <SearchForm params=params.clone() />
                                {error}
                                {empty.then(|| view! { <p class="empty" data-testid="no-results">"Nothing found."</p> })}
                                <ol class="search-hits" data-testid="search-results">
                                    {results.page.items.into_iter().map(|hit| view! { <Hit hit /> }).collect_view()}
                                </ol>
                                {next}
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Hit(hit: SearchHit) -> impl IntoView {
    let href = hit.href();
    let meta = {
        let mut parts = vec![hit.kind.label().to_string()];
        if let Some(rating) = hit.rating {
            parts.push(format!("{rating}★"));
        }
        if hit.verified_buyer {
            parts.push("verified buyer".into());
        }
        parts.push(format_time(hit.created_at));
        parts.join(" · ")
    };
    let disclosures = crate::reviews::domain::disclosures(hit.sponsored_by.as_deref(), hit.incentive_points)
        .into_iter()
        .map(|label| view! { <span class="disclosure" data-testid="sponsored-label">{label.text()}</span> })
        .collect_view();
    view! {
        <li class="search-hit" data-testid="search-hit" data-kind=hit.kind.key() data-id=hit.id>
            <p>
                <a href=href>{hit.label}</a>
                <span class="muted">{format!(" — {meta}")}</span>
                {disclosures}
            </p>
            {(!hit.title.is_empty()).then(|| view! { <p class="hit-title"><strong><Highlighted text=hit.title /></strong></p> })}
            <p class="hit-snippet" data-testid="hit-snippet">
                <Highlighted text=hit.snippet />
            </p>
        </li>
    }
}

/// The community part of `/admin/reviews`: pending posts (approve / reject, also in bulk)
/// and recent posts to mark sponsored.
#[component]
pub fn CommunityModerationSection(data: CommunityModeration) -> impl IntoView {
    let moderate = ServerAction::<ModeratePosts>::new();
    let sponsor = ServerAction::<SponsorPost>::new();
    let n_waiting = data.queue.len();
    view! {
        <section class="card" id="community">
            <h2>{format!("Community posts waiting ({n_waiting})")}</h2>
            {if data.queue.is_empty() {
                view! { <p class="empty" data-testid="community-queue-empty">"No posts to moderate."</p> }.into_any()
            } else {
                view! {
                    <ActionForm action=moderate attr:id="community-bulk" attr:class="bulk-form">
                        <label for="community-bulk-reason">"Reason (for rejecting)"</label>
                        <input id="community-bulk-reason" name="reason" maxlength="300" />
                        <button type="submit" name="decision" value="approve" data-testid="community-bulk-approve">
                            "Approve selected"
                        </button>
                        <button type="submit" name="decision" value="reject">"Reject selected"</button>
                    </ActionForm>
                    <table class="queue" data-testid="community-queue">
                        <thead>
                            <tr>
                                <th scope="col">"Select"</th>
                                <th scope="col">"Post"</th>
                                <th scope="col">"Author"</th>
                                <th scope="col">"Why it waits"</th>
                                <th scope="col">"Decide"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {data
                                .queue
                                .into_iter()
                                .enumerate()
                                .map(|(index, item)| {
                                    let id = item.post.id;
                                    view! {
                                        <tr data-testid="community-queue-item" data-id=id>
                                            <td>
                                                <input
                                                    type="checkbox"
                                                    form="community-bulk"
                                                    name=format!("ids[{index}]")
                                                    value=id
                                                    aria-label=format!("Select post {id}")
                                                />
                                            </td>
                                            <td>
                                                <strong>
                                                    {format!(
                                                        "{} · {}",
                                                        if item.post.is_opening { "New topic" } else { "Reply" },
                                                        item.topic_title,
                                                    )}
                                                </strong>
                                                <div class="queue-body">
                                                    <PostBody body=item.post.body />
                                                </div>
                                            </td>
                                            <td>
                                                {item.post.author}
                                                <br />
                                                <span class="muted">{item.author_email}</span>
                                            </td>
                                            <td>{item.flag_reason.unwrap_or_default()}</td>
                                            <td>
                                                <ActionForm action=moderate attr:class="inline-form">
                                                    <input type="hidden" name="ids[0]" value=id />
                                                    <button type="submit" name="decision" value="approve" data-testid="community-approve">
                                                        "Approve"
                                                    </button>
                                                </ActionForm>
                                                <ActionForm action=moderate attr:class="inline-form">
                                                    <input type="hidden" name="ids[0]" value=id />
                                                    <input type="hidden" name="decision" value="reject" />
                                                    <input name="reason" placeholder="Reason" maxlength="300" aria-label="Reason" required />
                                                    <button type="submit" data-testid="community-reject">"Reject"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
            <h3>"Published posts"</h3>
            <ul class="community-recent">
                {data
                    .recent
                    .into_iter()
                    .map(|(post, title)| {
                        let id = post.id;
                        view! {
                            <li data-testid="community-published" data-id=id>
                                <a href=format!("/community/t/{}#post-{id}", post.topic_id)>{title}</a>
                                {format!(" · {}", post.author)}
                                <SponsoredLabel sponsored_by=post.sponsored_by.clone() />
                                <ActionForm action=sponsor attr:class="inline-form">
                                    <input type="hidden" name="id" value=id />
                                    <input
                                        name="sponsored_by"
                                        placeholder="Sponsor"
                                        aria-label="Sponsor"
                                        maxlength="80"
                                        value=post.sponsored_by.unwrap_or_default()
                                        required
                                    />
                                    <button type="submit" data-testid="community-sponsor">"Mark sponsored"</button>
                                </ActionForm>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    /// The HTML a shopper's browser parses: without the `<!>` comments
    /// that only mark dynamic text for hydration.
    fn visible_html(html: String) -> String {
        html.replace("<!>", "")
    }

    fn render(body: &str) -> String {
        let body = body.to_string();
        visible_html(view! { <PostBody body /> }.to_html())
    }

    #[test]
    fn a_post_never_renders_user_html() {
        let html = render("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> *<b>hi</b>*");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("<em>&lt;b&gt;hi&lt;/b&gt;</em>"), "{html}");
    }

    #[test]
    fn the_subset_renders_paragraphs_breaks_emphasis_and_links_as_text() {
        let html = render("one\ntwo *three*\n\n[guide](https://example.com/\"onclick=x)");
        assert!(html.contains("<p>one<br"), "{html}");
        assert!(html.contains("<em>three</em>"), "{html}");
        assert!(!html.contains("<a"), "a link in a post is never a link: {html}");
        assert!(
            html.contains("guide (https://example.com/&quot;onclick=x)")
                || html.contains("guide (https://example.com/\"onclick=x)"),
            "{html}"
        );
    }

    #[test]
    fn highlights_become_mark_elements_and_text_stays_text() {
        let text = format!("a {}<tea>{} b", super::super::domain::MARK_START, super::super::domain::MARK_END);
        let html = visible_html(view! { <Highlighted text /> }.to_html());
        assert!(html.contains("<mark>&lt;tea&gt;</mark>"), "{html}");
    }
}
