//! The product page's reviews and Q&A block, rendered to HTML on the server only.
//!
//! **Rationale:** this block is read, not interacted with (its links are links and its votes
//! plain form posts), so hydrating it would only add its views to the shop's WebAssembly.
//! Rendering it here with Leptos's own renderer keeps every piece of user text escaped exactly
//! as on any other page, and the browser receives it as ready HTML.

use super::domain::{RatingSummary, Review, ReviewSort};
use super::ui::{Disclosures, QuestionItem, Stars, VoteForm};
use crate::shared::format_utc_date;
use leptos::prelude::*;
use leptos::tachys::view::RenderHtml;

pub use super::api::ReviewsBlock;

/// The block as HTML.
pub fn render(block: ReviewsBlock) -> String {
    view! { <ReviewsBlockView block /> }.to_html()
}

#[component]
fn ReviewsBlockView(block: ReviewsBlock) -> impl IntoView {
    let ReviewsBlock { sku, summary, reviews, sort, stars, page, pages, questions, json_ld, signed_in } = block;
    let link = {
        let sku = sku.clone();
        move |sort: ReviewSort, stars: Option<i64>, page: i64| {
            let mut params = Vec::new();
            if sort != ReviewSort::Newest {
                params.push(format!("sort={}", sort.key()));
            }
            if let Some(stars) = stars {
                params.push(format!("stars={stars}"));
            }
            if page > 1 {
                params.push(format!("page={page}"));
            }
            let query = if params.is_empty() { String::new() } else { format!("?{}", params.join("&")) };
            format!("/products/{sku}{query}#reviews")
        }
    };
    view! {
        <script type="application/ld+json" inner_html=json_ld></script>
        <section class="reviews" id="reviews" aria-labelledby="reviews-heading">
            <h2 id="reviews-heading">"Reviews"</h2>
            <RatingSummaryView summary=summary link=link.clone() sort />
            <p>
                <a href=format!("/account/reviews/{sku}") data-testid="write-review" rel="nofollow">
                    "Write or edit your review"
                </a>
            </p>
            <nav class="review-sort" aria-label="Sort reviews">
                "Sort: "
                {ReviewSort::ALL
                    .into_iter()
                    .map(|option| {
                        let current = option == sort;
                        view! {
                            <a href=link(option, stars, 1) aria-current=current.then_some("true")>
                                {option.label()}
                            </a>
                            " "
                        }
                    })
                    .collect_view()}
                {stars
                    .map(|s| {
                        view! {
                            <span class="filter-chip">
                                {format!("{s}★ only · ")}
                                <a href=link(sort, None, 1)>"show all"</a>
                            </span>
                        }
                    })}
            </nav>
            {if reviews.is_empty() {
                view! { <p class="empty">"No reviews yet."</p> }.into_any()
            } else {
                reviews
                    .into_iter()
                    .map(|review| {
                        let can_vote = signed_in;
                        view! { <ReviewItem review can_vote /> }
                    })
                    .collect_view()
                    .into_any()
            }}
            {(pages > 1)
                .then(|| {
                    view! {
                        <nav class="pagination" aria-label="Review pages">
                            {(page > 1).then(|| view! { <a href=link(sort, stars, page - 1)>"← Newer"</a> })}
                            <span>{format!(" Page {page} of {pages} ")}</span>
                            {(page < pages)
                                .then(|| {
                                    view! {
                                        <a href=link(sort, stars, page + 1) data-testid="reviews-next">
                                            "More →"
                                        </a>
                                    }
                                })}
                        </nav>
                    }
                })}
        </section>
        <section class="questions" id="questions" aria-labelledby="questions-heading">
            <h2 id="questions-heading">"Questions & answers"</h2>
            <p>
                <a href=format!("/account/questions/{sku}") data-testid="ask-question" rel="nofollow">
                    "Ask a question"
                </a>
            </p>
            {if questions.is_empty() {
                view! { <p class="empty">"No questions yet."</p> }.into_any()
            } else {
                questions
                    .into_iter()
                    .map(|question| view! { <QuestionItem question can_vote=signed_in /> })
                    .collect_view()
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn RatingSummaryView(
    summary: RatingSummary,
    link: impl Fn(ReviewSort, Option<i64>, i64) -> String + 'static,
    sort: ReviewSort,
) -> impl IntoView {
    let count = summary.count();
    view! {
        <div class="rating-summary">
            <p class="rating-average" data-testid="rating-average" data-count=count>
                {match summary.average_text() {
                    Some(average) => {
                        view! {
                            <strong>{average.clone()}</strong>
                            " out of 5 · "
                            {format!("{count} review{}", if count == 1 { "" } else { "s" })}
                        }
                            .into_any()
                    }
                    None => view! { "Not rated yet" }.into_any(),
                }}
            </p>
            <ul class="rating-distribution" aria-label="Ratings by stars">
                {(1..=5)
                    .rev()
                    .map(|stars| {
                        let n = summary.histogram[(stars - 1) as usize];
                        let percent = summary.percent(stars);
                        view! {
                            <li>
                                <a href=link(sort, Some(stars), 1)>{format!("{stars}★")}</a>
                                <meter min="0" max="100" value=percent aria-label=format!("{percent}% gave {stars} stars")></meter>
                                <span class="muted">{n}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn ReviewItem(review: Review, can_vote: bool) -> impl IntoView {
    let Review {
        id,
        sku,
        rating,
        title,
        body,
        author,
        verified_buyer,
        sponsored_by,
        incentive_points,
        helpful_count,
        merchant_reply,
        created_at,
        ..
    } = review;
    view! {
        <article class="review" data-testid="review" id=format!("review-{id}") data-rating=rating>
            <header>
                <Stars rating />
                <strong class="review-title">{title}</strong>
            </header>
            <p class="review-meta">
                {author}
                {verified_buyer.then(|| view! { <span class="verified" data-testid="verified-buyer">"Verified buyer"</span> })}
                <span class="muted">{format_utc_date(created_at)}</span>
            </p>
            <Disclosures sponsored_by incentive_points />
            <p class="review-body">{body}</p>
            {merchant_reply
                .map(|reply| {
                    view! {
                        <div class="merchant-reply" data-testid="merchant-reply">
                            <strong>"Reply from the shop: "</strong>
                            {reply}
                        </div>
                    }
                })}
            <p class="helpful">
                <span data-testid="helpful-count">{format!("{helpful_count} found this helpful")}</span>
                {can_vote.then(|| view! { <VoteForm kind="review" id sku label="Helpful" /> })}
            </p>
        </article>
    }
}
