//! Reviews and Q&A components: the product page's block (shop bundle), the shopper's write
//! and Q&A pages (account bundle) and the owner's moderation page (admin bundle). Every piece
//! of user text is rendered as text, never as HTML.

use super::api::{Annotate, Moderate, PostQa, SaveModerationSettings, SaveReview};
use super::domain::{disclosures, Answer, Question, Review, Status};
use crate::layout::chart::{DailyBars, Series};
use crate::layout::ErrorView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::{use_params_map, use_query_map};

/// "★★★★☆" with the number for screen readers.
#[component]
pub(super) fn Stars(rating: i64) -> impl IntoView {
    let rating = rating.clamp(0, 5) as usize;
    view! {
        <span class="stars" role="img" aria-label=format!("{rating} out of 5 stars")>
            {format!("{}{}", "★".repeat(rating), "☆".repeat(5 - rating))}
        </span>
    }
}

/// The disclosure labels of a review or answer (sponsor, incentive).
#[component]
pub(super) fn Disclosures(sponsored_by: Option<String>, incentive_points: i64) -> impl IntoView {
    disclosures(sponsored_by.as_deref(), incentive_points)
        .into_iter()
        .map(|label| view! { <span class="disclosure" data-testid="sponsored-label">{label.text()}</span> })
        .collect_view()
}

/// A one-button form that votes for a review, question or answer. A plain form: it lives
/// in the server-rendered reviews fragment, and works the same with or without JavaScript.
#[component]
pub(super) fn VoteForm(kind: &'static str, id: i64, sku: String, label: &'static str) -> impl IntoView {
    view! {
        <form method="post" action="/rpc/vote" class="vote-form">
            <input type="hidden" name="kind" value=kind />
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="sku" value=sku />
            <button type="submit" class="link-button" data-testid=format!("vote-{kind}")>
                {label}
            </button>
        </form>
    }
}

#[component]
pub(super) fn AnswerItem(answer: Answer, featured: bool, sku: String, can_vote: bool) -> impl IntoView {
    let Answer { id, body, author, is_staff, verified_buyer, sponsored_by, votes, .. } = answer;
    view! {
        <div class="answer" class:featured=featured data-testid="answer" id=format!("answer-{id}")>
            {featured.then(|| view! { <span class="featured-label" data-testid="featured-answer">"Featured answer"</span> })}
            <p class="answer-body">{body}</p>
            <p class="review-meta">
                {author}
                {is_staff.then(|| view! { <span class="staff">"Shop staff"</span> })}
                {verified_buyer.then(|| view! { <span class="verified">"Verified buyer"</span> })}
                <Disclosures sponsored_by incentive_points=0 />
                <span class="muted">{format!("{votes} votes")}</span>
                {can_vote.then(|| view! { <VoteForm kind="answer" id sku label="Upvote" /> })}
            </p>
        </div>
    }
}

/// A question with its published answers (featured first).
#[component]
pub(super) fn QuestionItem(question: Question, can_vote: bool) -> impl IntoView {
    let Question { id, sku, body, author, votes, featured_answer_id, answers, .. } = question;
    let answer_sku = sku.clone();
    view! {
        <div class="question" data-testid="question" id=format!("question-{id}")>
            <p class="question-body">
                <strong>"Q: "</strong>
                {body}
            </p>
            <p class="review-meta">
                {author}
                <span class="muted">{format!("{votes} votes")}</span>
                {can_vote.then(|| view! { <VoteForm kind="question" id sku=sku.clone() label="Upvote" /> })}
            </p>
            {if answers.is_empty() {
                view! { <p class="muted">"No answers yet."</p> }.into_any()
            } else {
                answers
                    .into_iter()
                    .map(|answer| {
                        let featured = Some(answer.id) == featured_answer_id;
                        view! { <AnswerItem answer featured sku=answer_sku.clone() can_vote /> }
                    })
                    .collect_view()
                    .into_any()
            }}
        </div>
    }
}

/// The product page's reviews block (HTML rendered by `fragment`), keyed on the product and
/// the page's sort, star filter and page. Made once per page by `ProductPage`, outside the
/// product's `Suspense`, so a re-render of the product never fetches or ships it twice.
pub fn reviews_resource() -> Resource<Result<String, crate::shared::AppError>> {
    let params = use_params_map();
    let query = use_query_map();
    Resource::new(
        move || {
            let query = query.read();
            (
                params.read().get("sku").unwrap_or_default(),
                query.get("sort"),
                query.get("stars"),
                query.get("page"),
                query.get("voted"),
            )
        },
        |(sku, sort, stars, page, _)| super::api::get_reviews_html(sku, sort, stars, page),
    )
}

/// The product page's reviews and questions. The block is rendered to HTML on the server
/// (see `fragment`), so the shop's bundle carries none of its views: its text is escaped by
/// the same renderer as every other page, its links are links and its votes plain forms.
#[component]
pub fn ProductReviews(html: Resource<Result<String, crate::shared::AppError>>) -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query
            .read()
            .get("review_error")
            .map(|message| view! { <p class="form-error" role="alert" data-testid="review-error">{message}</p> })
    };
    view! {
        {error}
        <Suspense fallback=|| view! { <p class="loading">"Loading reviews…"</p> }>
            {move || Suspend::new(async move {
                match html.await {
                    Ok(html) => view! { <div class="reviews-block" inner_html=html></div> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn status_text(review: &Review) -> String {
    match review.status {
        Status::Pending => "Waiting for moderation".to_string(),
        Status::Approved => "Published".to_string(),
        Status::Rejected => match &review.reject_reason {
            Some(reason) => format!("Not published: {reason}"),
            None => "Not published".to_string(),
        },
    }
}

/// `/account/reviews`: the shopper's reviews and where each stands.
#[component]
pub fn MyReviewsPage() -> impl IntoView {
    let query = use_query_map();
    let reviews = Resource::new(move || query.read().to_query_string(), |_| super::api::get_my_reviews());
    view! {
        <Title text="Your reviews — Mercato" />
        <section class="account my-reviews">
            <h1>"Your reviews"</h1>
            {move || {
                query
                    .read()
                    .get("saved")
                    .map(|sku| {
                        view! {
                            <p class="notice" role="status" data-testid="review-saved">
                                {format!("Thank you! Your review of {sku} is saved.")}
                            </p>
                        }
                    })
            }}
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match reviews.await {
                        Ok(None) => view! { <Redirect path="/login?next=/account/reviews" /> }.into_any(),
                        Ok(Some(reviews)) if reviews.is_empty() => {
                            view! { <p class="empty">"You have not reviewed anything yet."</p> }.into_any()
                        }
                        Ok(Some(reviews)) => {
                            reviews
                                .into_iter()
                                .map(|review| {
                                    let status = status_text(&review);
                                    let product_href = format!("/products/{}", review.sku);
                                    let edit_href = format!("/account/reviews/{}", review.sku);
                                    view! {
                                        <article class="review" data-testid="my-review" data-status=review.status.key()>
                                            <header>
                                                <Stars rating=review.rating />
                                                <strong>{review.title.clone()}</strong>
                                                " · "
                                                <A href=product_href>{review.sku.clone()}</A>
                                            </header>
                                            <p class="review-status" data-testid="review-status">{status}</p>
                                            <Disclosures sponsored_by=review.sponsored_by.clone() incentive_points=review.incentive_points />
                                            <p class="review-body">{review.body.clone()}</p>
                                            <A href=edit_href>"Edit"</A>
                                        </article>
                                    }
                                })
                                .collect_view()
                                .into_any()
                        }
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/account/reviews/{sku}`: write or edit the shopper's review of a product.
#[component]
pub fn ReviewFormPage() -> impl IntoView {
    let params = use_params_map();
    let sku = move || params.read().get("sku").unwrap_or_default();
    let query = use_query_map();
    // Keyed on the query too: a refused post comes back to this page with the message and the
    // typed text in the query, and the form must be drawn again from them.
    let form =
        Resource::new(move || (sku(), query.read().to_query_string()), |(sku, _)| super::api::get_review_form(sku));
    view! {
        <Title text="Write a review — Mercato" />
        <section class="account review-form-page">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match form.await {
                        Ok(None) => {
                            view! { <Redirect path=format!("/login?next=/account/reviews/{}", sku()) /> }.into_any()
                        }
                        Ok(Some(form)) => view! { <ReviewFormView form /> }.into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ReviewFormView(form: super::api::ReviewForm) -> impl IntoView {
    let query = use_query_map();
    let save = ServerAction::<SaveReview>::new();
    let q = query.read_untracked();
    // After a refused post the page comes back with what was typed; otherwise the saved review.
    let typed = |name: &str| q.get(name);
    let existing = form.existing.clone();
    let rating = typed("rating").or_else(|| existing.as_ref().map(|r| r.rating.to_string())).unwrap_or_default();
    let title = typed("title").or_else(|| existing.as_ref().map(|r| r.title.clone())).unwrap_or_default();
    let body = typed("body").or_else(|| existing.as_ref().map(|r| r.body.clone())).unwrap_or_default();
    let error_field = q.get("field").unwrap_or_default();
    let error = q.get("error");
    drop(q);
    let back_href = format!("/products/{}", form.sku);
    let error_for = move |field: &'static str| {
        (error_field == field).then(|| error.clone()).flatten().map(
            |message| view! { <p class="field-error" role="alert" data-testid=format!("error-{field}")>{message}</p> },
        )
    };
    view! {
        <h1>{format!("Your review of {}", form.product_name)}</h1>
        {existing
            .as_ref()
            .map(|review| {
                view! {
                    <p class="notice">
                        {format!("{}. Saving changes sends it back to moderation.", status_text(review))}
                    </p>
                }
            })}
        <p class="muted">
            {if form.verified_buyer {
                "You bought this product: your review shows as from a verified buyer."
            } else {
                "You have not bought this product here, so your review waits for a moderator."
            }}
        </p>
        {(form.review_points > 0)
            .then(|| {
                view! {
                    <p class="muted" data-testid="incentive-notice">
                        {format!(
                            "Published reviews earn {} points. Reviews that earn points are labelled as incentivized.",
                            form.review_points,
                        )}
                    </p>
                }
            })}
        <ActionForm action=save attr:class="review-form">
            <input type="hidden" name="sku" value=form.sku.clone() />
            <fieldset>
                <legend>"Rating"</legend>
                {(1..=5)
                    .map(|stars| {
                        let value = stars.to_string();
                        let id = format!("rating-{stars}");
                        view! {
                            <label for=id.clone() class="star-choice">
                                <input type="radio" id=id.clone() name="rating" value=value.clone() checked=rating == value />
                                {format!("{stars}★")}
                            </label>
                        }
                    })
                    .collect_view()}
                {error_for("rating")}
            </fieldset>
            <label for="review-title">"Title"</label>
            <input id="review-title" name="title" maxlength=super::domain::TITLE_MAX value=title required />
            {error_for("title")}
            <label for="review-body">"Your review"</label>
            <textarea id="review-body" name="body" rows="6" maxlength=super::domain::BODY_MAX required>
                {body}
            </textarea>
            {error_for("body")}
            <button type="submit" data-testid="review-submit">"Submit review"</button>
        </ActionForm>
        <p>
            <A href=back_href>"Back to the product"</A>
        </p>
    }
}

/// `/account/questions/{sku}`: ask about a product, and answer (staff and buyers).
#[component]
pub fn QaPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let sku = move || params.read().get("sku").unwrap_or_default();
    let page = Resource::new(move || (sku(), query.read().to_query_string()), |(sku, _)| super::api::get_qa_page(sku));
    view! {
        <Title text="Questions — Mercato" />
        <section class="account qa-page">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(None) => {
                            view! { <Redirect path=format!("/login?next=/account/questions/{}", sku()) /> }.into_any()
                        }
                        Ok(Some(page)) => view! { <QaView page /> }.into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn QaView(page: super::api::QaPage) -> impl IntoView {
    let query = use_query_map();
    let post = ServerAction::<PostQa>::new();
    let q = query.read_untracked();
    let error = q.get("error");
    let typed = q.get("body").unwrap_or_default();
    let target: Option<i64> = q.get("question").and_then(|id| id.parse().ok());
    let posted = q.get("posted");
    drop(q);
    let error_here = move |question: Option<i64>| {
        (question == target)
            .then(|| error.clone())
            .flatten()
            .map(|message| view! { <p class="field-error" role="alert" data-testid="qa-error">{message}</p> })
    };
    let typed_here = move |question: Option<i64>| if question == target { typed.clone() } else { String::new() };
    let sku = page.sku.clone();
    let back_href = format!("/products/{}#questions", page.sku);
    let ask_typed = typed_here(None);
    let ask_error = error_here(None);
    let can_answer = page.can_answer;
    let questions = page
        .questions
        .into_iter()
        .map(|question| {
            let id = question.id;
            let sku = sku.clone();
            let form = can_answer.then(|| {
                let typed = typed_here(Some(id));
                let error = error_here(Some(id));
                view! {
                    <ActionForm action=post attr:class="qa-form">
                        <input type="hidden" name="sku" value=sku.clone() />
                        <input type="hidden" name="question_id" value=id />
                        <label for=format!("answer-{id}")>"Your answer"</label>
                        <textarea id=format!("answer-{id}") name="body" rows="2" maxlength=super::domain::QA_MAX required>
                            {typed}
                        </textarea>
                        {error}
                        <button type="submit" data-testid="answer-submit">"Answer"</button>
                    </ActionForm>
                }
            });
            view! {
                <QuestionItem question can_vote=false />
                {form}
            }
        })
        .collect_view();
    view! {
        <h1>{format!("Questions about {}", page.product_name)}</h1>
        {posted
            .map(|status| {
                let text = if status == "approved" {
                    "Thank you! It is published."
                } else {
                    "Thank you! It will appear once a moderator has checked it."
                };
                view! { <p class="notice" role="status" data-testid="qa-posted">{text}</p> }
            })}
        <ActionForm action=post attr:class="qa-form">
            <input type="hidden" name="sku" value=sku.clone() />
            <label for="ask-body">"Your question"</label>
            <textarea id="ask-body" name="body" rows="3" maxlength=super::domain::QA_MAX required>
                {ask_typed}
            </textarea>
            {ask_error}
            <button type="submit" data-testid="ask-submit">"Ask"</button>
        </ActionForm>
        {questions}
        {(!can_answer)
            .then(|| view! { <p class="muted">"Answers come from the shop's staff and from customers who bought this product."</p> })}
        <p>
            <A href=back_href>"Back to the product"</A>
        </p>
    }
}

/// `/admin/reviews`: the moderation queue, settings, replies, sponsorship and featured answers.
#[component]
pub fn AdminReviewsPage() -> impl IntoView {
    crate::layout::admin_page(
        "Reviews — Mercato admin",
        "Reviews and Q&A",
        "admin-plans admin-reviews",
        "/admin/reviews",
        super::api::get_moderation_page,
        |page| view! { <ModerationView page /> }.into_any(),
    )
}

#[component]
fn ModerationView(page: super::api::ModerationPage) -> impl IntoView {
    let moderate = ServerAction::<Moderate>::new();
    let settings = ServerAction::<SaveModerationSettings>::new();
    let annotate = ServerAction::<Annotate>::new();
    let (submitted, approved) = page.daily.iter().fold((0, 0), |(s, a), (_, sub, app)| (s + sub, a + app));
    let community = page.community;
    view! {
        <crate::layout::AdminMessage />
        <section class="card">
            <h2>"Reviews over the last 30 days"</h2>
            <p class="kpi">{format!("Submitted {submitted} · approved {approved} · waiting {}", page.queue.len())}</p>
            <DailyBars
                id="reviews-chart"
                title="Reviews submitted and approved per day"
                empty="No reviews in the last 30 days."
                days=page.daily.iter().map(|d| d.0).collect()
                bars=vec![
                    Series::new("submitted", page.daily.iter().map(|d| d.1).collect()),
                    Series::new("approved", page.daily.iter().map(|d| d.2).collect()),
                ]
            />
        </section>
        <section class="card" id="queue">
            <h2>{format!("Waiting for moderation ({})", page.queue.len())}</h2>
            {if page.queue.is_empty() {
                view! { <p class="empty" data-testid="queue-empty">"Nothing to moderate."</p> }.into_any()
            } else {
                view! {
                    <ActionForm action=moderate attr:id="bulk" attr:class="bulk-form">
                        <label for="bulk-reason">"Reason (for rejecting)"</label>
                        <input id="bulk-reason" name="reason" maxlength="300" />
                        <button type="submit" name="decision" value="approve" data-testid="bulk-approve">
                            "Approve selected"
                        </button>
                        <button type="submit" name="decision" value="reject" data-testid="bulk-reject">
                            "Reject selected"
                        </button>
                    </ActionForm>
                    <table class="queue" data-testid="moderation-queue">
                        <thead>
                            <tr>
                                <th scope="col">"Select"</th>
                                <th scope="col">"Item"</th>
                                <th scope="col">"Author"</th>
                                <th scope="col">"Why it waits"</th>
                                <th scope="col">"Decide"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page
                                .queue
                                .into_iter()
                                .enumerate()
                                .map(|(index, item)| {
                                    let key = format!("{}:{}", item.kind.key(), item.id);
                                    let select_label = format!("Select {key}");
                                    let (key_bulk, key_approve, key_reject) = (key.clone(), key.clone(), key);
                                    view! {
                                        <tr data-testid="queue-item" data-kind=item.kind.key() data-id=item.id>
                                            <td>
                                                <input
                                                    type="checkbox"
                                                    form="bulk"
                                                    name=format!("items[{index}]")
                                                    value=key_bulk
                                                    aria-label=select_label
                                                />
                                            </td>
                                            <td>
                                                <strong>{format!("{} · {}", item.kind.key(), item.product_name)}</strong>
                                                {item.rating.map(|rating| view! { " " <Stars rating /> })}
                                                {item.title.map(|title| view! { <p><strong>{title}</strong></p> })}
                                                <p class="queue-body">{item.body}</p>
                                            </td>
                                            <td>
                                                {item.author}
                                                <br />
                                                <span class="muted">{item.author_email}</span>
                                                {item.verified_buyer.then(|| view! { <br /> <span class="verified">"Verified buyer"</span> })}
                                            </td>
                                            <td>{item.flag_reason.unwrap_or_default()}</td>
                                            <td>
                                                <ActionForm action=moderate attr:class="inline-form">
                                                    <input type="hidden" name="items[0]" value=key_approve />
                                                    <button type="submit" name="decision" value="approve" data-testid="approve">
                                                        "Approve"
                                                    </button>
                                                </ActionForm>
                                                <ActionForm action=moderate attr:class="inline-form">
                                                    <input type="hidden" name="items[0]" value=key_reject />
                                                    <input type="hidden" name="decision" value="reject" />
                                                    <input name="reason" placeholder="Reason" maxlength="300" aria-label="Reason" required />
                                                    <button type="submit" data-testid="reject">"Reject"</button>
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
        </section>
        <crate::community::ui::CommunityModerationSection data=community />
        <section class="card">
            <h2>"Automatic moderation"</h2>
            <ActionForm action=settings attr:class="plan-form">
                <label class="checkbox" for="auto-approve">
                    <input id="auto-approve" type="checkbox" name="auto_approve_verified" value="on" checked=page.auto_approve_verified />
                    "Publish verified buyers' reviews without waiting"
                </label>
                <label for="blocklist">"Words that always need a human (one per line)"</label>
                <textarea id="blocklist" name="blocklist" rows="4">{page.blocklist.clone()}</textarea>
                <button type="submit" data-testid="save-moderation">"Save"</button>
            </ActionForm>
        </section>
        <section class="card" id="published">
            <h2>"Published reviews"</h2>
            {page
                .recent
                .into_iter()
                .map(|review| {
                    let id = review.id;
                    view! {
                        <article class="review" data-testid="admin-review" data-id=id>
                            <header>
                                <Stars rating=review.rating />
                                <strong>{review.title.clone()}</strong>
                                {format!(" · {} · {}", review.sku, review.author)}
                            </header>
                            <Disclosures sponsored_by=review.sponsored_by.clone() incentive_points=review.incentive_points />
                            <p class="review-body">{review.body.clone()}</p>
                            <ActionForm action=annotate attr:class="inline-form">
                                <input type="hidden" name="kind" value="review" />
                                <input type="hidden" name="id" value=id />
                                <input type="hidden" name="field" value="reply" />
                                <input name="value" placeholder="Public reply" aria-label="Public reply" maxlength="2000" value=review.merchant_reply.clone().unwrap_or_default() required />
                                <button type="submit" data-testid="reply-submit">"Reply"</button>
                            </ActionForm>
                            <ActionForm action=annotate attr:class="inline-form">
                                <input type="hidden" name="kind" value="review" />
                                <input type="hidden" name="id" value=id />
                                <input type="hidden" name="field" value="sponsored_by" />
                                <input name="value" placeholder="Sponsor" aria-label="Sponsor" maxlength="80" value=review.sponsored_by.clone().unwrap_or_default() required />
                                <button type="submit" data-testid="sponsor-submit">"Mark sponsored"</button>
                            </ActionForm>
                        </article>
                    }
                })
                .collect_view()}
        </section>
        <section class="card" id="answers">
            <h2>"Questions"</h2>
            {page
                .questions
                .into_iter()
                .map(|question| {
                    let qid = question.id;
                    let featured = question.featured_answer_id;
                    view! {
                        <div class="question" data-testid="admin-question">
                            <p>
                                <strong>{format!("{} · Q: ", question.sku)}</strong>
                                {question.body.clone()}
                            </p>
                            {question
                                .answers
                                .into_iter()
                                .map(|answer| {
                                    let aid = answer.id;
                                    view! {
                                        <div class="answer">
                                            <p>
                                                {answer.body.clone()}
                                                <span class="muted">{format!(" — {}", answer.author)}</span>
                                            </p>
                                            <Disclosures sponsored_by=answer.sponsored_by.clone() incentive_points=0 />
                                            <ActionForm action=annotate attr:class="inline-form">
                                                <input type="hidden" name="kind" value="question" />
                                                <input type="hidden" name="id" value=qid />
                                                <input type="hidden" name="field" value="featured_answer" />
                                                <input type="hidden" name="value" value=if featured == Some(aid) { String::new() } else { aid.to_string() } />
                                                <button type="submit" data-testid="feature-answer">
                                                    {if featured == Some(aid) { "Unfeature" } else { "Feature" }}
                                                </button>
                                            </ActionForm>
                                            <ActionForm action=annotate attr:class="inline-form">
                                                <input type="hidden" name="kind" value="answer" />
                                                <input type="hidden" name="id" value=aid />
                                                <input type="hidden" name="field" value="sponsored_by" />
                                                <input name="value" placeholder="Sponsor" aria-label="Sponsor" maxlength="80" required />
                                                <button type="submit">"Mark sponsored"</button>
                                            </ActionForm>
                                        </div>
                                    }
                                })
                                .collect_view()}
                            <p>
                                <a href=format!("/account/questions/{}", question.sku)>"Answer as staff"</a>
                            </p>
                        </div>
                    }
                })
                .collect_view()}
        </section>
    }
}
