//! Plan pages: `/pricing`, `/wishlist`, `/support`, the account's plan block, the locked
//! feature box, and the owner's `/admin/plans`.

use super::api::{ChangePlan, MarkInvoicePaid, ResolveSupportRequest, SavePlan};
use super::domain::{Feature, Gate, InvoiceRow, Plan};
use super::support::SendSupportRequest;
use super::wishlist::ToggleWishlist;
use crate::layout::{ErrorView, FieldError};
use crate::shared::{format_time, format_utc_date, Money};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_query_map;

/// What a shopper sees in place of a feature their plan does not include: what it is, which
/// plan has it, and a link to upgrade.
#[component]
pub fn LockedFeature(feature: Feature, plan_name: String) -> impl IntoView {
    view! {
        <div class="locked-feature" data-testid="locked-feature" data-feature=feature.key()>
            <p>
                <strong>{feature.label()}</strong>
                {format!(" comes with the {plan_name} plan.")}
            </p>
            <A href="/pricing" attr:class="button">
                {format!("Upgrade to {plan_name}")}
            </A>
        </div>
    }
}

/// A feature's gate for an account feature: the content when open, a login link, or the
/// locked box.
pub fn gated(gate: Gate, feature: Feature, next: &str, open: impl FnOnce() -> AnyView) -> AnyView {
    match gate {
        Gate::Open => open(),
        Gate::LogIn => {
            let href = format!("/login?next={next}");
            view! {
                <p class="login-hint">
                    <A href=href>"Log in"</A>
                    {format!(" to use: {}", feature.label())}
                </p>
            }
            .into_any()
        }
        Gate::Locked { plan_name, .. } => view! { <LockedFeature feature plan_name /> }.into_any(),
    }
}

fn per_month(plan: &Plan) -> String {
    if plan.price_cents == 0 {
        "Free".into()
    } else {
        format!("{} / month", Money::from_cents(plan.price_cents))
    }
}

fn change_message(change: &str, plan: &str) -> String {
    match change {
        "subscribe" => format!("Welcome to {plan}! Your invoice is on your account page."),
        "upgrade" => format!("Upgraded to {plan}. The unused part of your old plan is credited on the invoice."),
        "downgrade" => format!("You move to {plan} at the end of the period; until then nothing changes."),
        "cancel" => "Your subscription ends at the end of the period; until then nothing changes.".into(),
        "resume" => "Your plan continues as before.".into(),
        _ => "Saved.".into(),
    }
}

/// `/pricing`: plans side by side, with the shopper's current plan and the button for
/// each move.
#[component]
pub fn PricingPage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(move || query.read().to_query_string(), |_| super::api::get_pricing_page());
    let change = ServerAction::<ChangePlan>::new();
    let status = move || {
        let query = query.read();
        if query.get("error").is_some() {
            return Some(("form-error", "That is already your plan.".to_string()));
        }
        let changed = query.get("changed")?;
        Some(("notice", change_message(&changed, &query.get("plan").unwrap_or_default())))
    };
    view! {
        <Title text="Plans — Mercato" />
        <section class="pricing">
            <h1>"Plans"</h1>
            <p class="lead">"Shop for free. Upgrade for filters, a wishlist, picks made for you and priority support."</p>
            {move || {
                status()
                    .map(|(class, message)| {
                        view! {
                            <p class=class role="status">
                                {message}
                            </p>
                        }
                    })
            }}
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <PlanTable page change /> }.into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PlanTable(page: super::api::PricingPage, change: ServerAction<ChangePlan>) -> impl IntoView {
    let current = page.current.clone();
    let current_rank = current.as_ref().map(|c| c.plan.rank);
    let current_key = current.as_ref().map(|c| c.plan.key.clone());
    let scheduled = current.as_ref().and_then(|c| c.next_plan.clone());
    view! {
        {current
            .as_ref()
            .and_then(|current| {
                let next = current.next_plan.clone()?;
                let when = current.period_end.map(format_utc_date).unwrap_or_default();
                Some(view! { <p class="notice">{format!("Scheduled: {next} from {when}.")}</p> })
            })}
        <div class="plan-grid">
            {page
                .plans
                .into_iter()
                .map(|plan| {
                    let is_current = current_key.as_deref() == Some(plan.key.as_str());
                    let label = match current_rank {
                        None => None,
                        Some(_) if is_current => scheduled.as_ref().map(|_| "Keep this plan"),
                        Some(rank) if plan.rank > rank => Some("Upgrade"),
                        Some(_) if plan.is_free() => Some("Cancel subscription"),
                        Some(_) => Some("Downgrade"),
                    };
                    let label = if current_rank == Some(0) && label == Some("Upgrade") { Some("Subscribe") } else { label };
                    let plan_key = plan.key.clone();
                    let features = plan.features.clone();
                    view! {
                        <article class="plan-card" class:current=is_current data-plan=plan.key.clone()>
                            <h2>{plan.name.clone()}</h2>
                            <p class="plan-price">{per_month(&plan)}</p>
                            {is_current.then(|| view! { <p class="plan-badge" data-testid="plan-badge">"Your plan"</p> })}
                            <ul class="plan-features">
                                {Feature::ALL
                                    .into_iter()
                                    .map(|feature| {
                                        let included = features.contains(&feature);
                                        view! {
                                            <li class:included=included class:excluded=!included>
                                                <span aria-hidden="true">{if included { "✓ " } else { "– " }}</span>
                                                <span class="visually-hidden">{if included { "Included: " } else { "Not included: " }}</span>
                                                {feature.label()}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            {match label {
                                Some(label) => {
                                    view! {
                                        <ActionForm action=change>
                                            <input type="hidden" name="plan" value=plan_key.clone() />
                                            <button type="submit" data-testid=format!("choose-{plan_key}")>
                                                {label}
                                            </button>
                                        </ActionForm>
                                    }
                                        .into_any()
                                }
                                None if current_rank.is_none() => {
                                    view! {
                                        <A href="/login?next=/pricing" attr:class="button">
                                            "Log in to choose"
                                        </A>
                                    }
                                        .into_any()
                                }
                                None => ().into_any(),
                            }}
                        </article>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// The account page's plan block: plan badge, period, scheduled change and invoices.
#[component]
pub fn MyPlan() -> impl IntoView {
    let plan = Resource::new(|| (), |_| super::api::get_my_plan());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match plan.await {
                    Ok(Some((view, invoices))) => {
                        view! {
                            <section class="my-plan">
                                <h2>"Your plan"</h2>
                                <p>
                                    <span class="plan-badge" data-testid="plan-badge" data-plan=view.plan.key.clone()>
                                        {view.plan.name.clone()}
                                    </span>
                                    " "
                                    {per_month(&view.plan)}
                                    {view.period_end.map(|end| format!(" · renews {}", format_utc_date(end)))}
                                </p>
                                {view
                                    .overdue_since
                                    .map(|since| {
                                        view! {
                                            <p class="form-error" role="alert" data-testid="payment-overdue">
                                                {format!(
                                                    "An invoice from {} is unpaid: your plan's features are paused until it is paid.",
                                                    format_utc_date(since),
                                                )}
                                            </p>
                                        }
                                    })}
                                {view
                                    .next_plan
                                    .map(|next| {
                                        view! { <p class="notice">{format!("Changes to {next} at the end of this period.")}</p> }
                                    })}
                                <p>
                                    <A href="/pricing">"Change plan"</A>
                                </p>
                                <InvoiceTable invoices admin=false />
                            </section>
                        }
                            .into_any()
                    }
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn InvoiceTable(invoices: Vec<InvoiceRow>, admin: bool) -> impl IntoView {
    if invoices.is_empty() {
        return view! { <p class="empty">"No invoices."</p> }.into_any();
    }
    let mark_paid = ServerAction::<MarkInvoicePaid>::new();
    view! {
        <table class="invoices" id="invoices">
            <caption>{if admin { "Open invoices" } else { "Invoices" }}</caption>
            <thead>
                <tr>
                    <th scope="col">"Invoice"</th>
                    {admin.then(|| view! { <th scope="col">"Customer"</th> })}
                    <th scope="col">"Date"</th>
                    <th scope="col">"Lines"</th>
                    <th scope="col">"Total"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>
                {invoices
                    .into_iter()
                    .map(|invoice| {
                        let id = invoice.id;
                        view! {
                            <tr data-testid="invoice" data-invoice=id>
                                <td>{format!("#{id}")}</td>
                                {admin.then(|| view! { <td>{invoice.email.clone()}</td> })}
                                <td>{format_utc_date(invoice.created_at)}</td>
                                <td>
                                    <ul class="invoice-lines">
                                        {invoice
                                            .lines
                                            .iter()
                                            .map(|(description, amount)| {
                                                view! {
                                                    <li>
                                                        {description.clone()} ": " {Money::from_cents(*amount).to_string()}
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                </td>
                                <td>{Money::from_cents(invoice.total_cents).to_string()}</td>
                                <td>
                                    {invoice.status.clone()}
                                    {(admin && invoice.status == "open")
                                        .then(|| {
                                            view! {
                                                <ActionForm action=mark_paid>
                                                    <input type="hidden" name="id" value=id />
                                                    <button type="submit">"Mark paid"</button>
                                                </ActionForm>
                                            }
                                        })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// `/wishlist`: saved products, with the ones back in stock flagged.
#[component]
pub fn WishlistPage() -> impl IntoView {
    let toggle = ServerAction::<ToggleWishlist>::new();
    let page = Resource::new(move || toggle.version().get(), |_| super::wishlist::get_wishlist_page());
    view! {
        <Title text="Wishlist — Mercato" />
        <section class="wishlist">
            <h1>"Your wishlist"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let items = page.items;
                            gated(
                                page.gate,
                                Feature::Wishlist,
                                "/wishlist",
                                move || {
                                    if items.is_empty() {
                                        return view! {
                                            <p class="empty">"Nothing saved yet. Use “Save to wishlist” on a product page."</p>
                                        }
                                            .into_any();
                                    }
                                    view! {
                                        <ul class="wishlist-items">
                                            {items
                                                .into_iter()
                                                .map(|item| {
                                                    let sku = item.product.sku.clone();
                                                    let data_sku = sku.clone();
                                                    view! {
                                                        <li data-testid="wishlist-item" data-sku=data_sku>
                                                            <crate::catalog::ui::ProductCard product=item.product />
                                                            {item
                                                                .back_in_stock
                                                                .then(|| {
                                                                    view! {
                                                                        <p class="back-in-stock" data-testid="back-in-stock">
                                                                            "Back in stock"
                                                                        </p>
                                                                    }
                                                                })}
                                                            <ActionForm action=toggle>
                                                                <input type="hidden" name="sku" value=sku />
                                                                <input type="hidden" name="back" value="/wishlist" />
                                                                <button type="submit" class="link-button">"Remove"</button>
                                                            </ActionForm>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    }
                                        .into_any()
                                },
                            )
                        }
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The product page's "Save to wishlist" control.
#[component]
pub fn WishlistToggle(sku: String) -> impl IntoView {
    let toggle = ServerAction::<ToggleWishlist>::new();
    let button = {
        let sku = sku.clone();
        Resource::new(move || toggle.version().get(), move |_| super::wishlist::get_wishlist_button(sku.clone()))
    };
    let back = format!("/products/{sku}");
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let (sku, back) = (sku.clone(), back.clone());
                Suspend::new(async move {
                    match button.await {
                        Ok(state) => {
                            let saved = state.saved;
                            let next = back.clone();
                            gated(
                                state.gate,
                                Feature::Wishlist,
                                &next,
                                move || {
                                    view! {
                                        <ActionForm action=toggle attr:class="wishlist-form">
                                            <input type="hidden" name="sku" value=sku />
                                            <input type="hidden" name="back" value=back />
                                            <button type="submit" data-testid="wishlist-toggle" aria-pressed=saved.to_string()>
                                                {if saved { "♥ Saved — remove from wishlist" } else { "♡ Save to wishlist" }}
                                            </button>
                                        </ActionForm>
                                    }
                                        .into_any()
                                },
                            )
                        }
                        Err(_) => ().into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// `/support`: ask a question; premium accounts are answered first.
#[component]
pub fn SupportPage() -> impl IntoView {
    let query = use_query_map();
    let send = ServerAction::<SendSupportRequest>::new();
    let page = Resource::new(move || query.read().to_query_string(), |_| super::support::get_support_page());
    let error_for = move |field: &'static str| {
        move || {
            let message = match (query.read().get("error").as_deref(), field) {
                (Some("subject"), "subject") => Some("Write a subject of 3 to 120 characters."),
                (Some("body"), "body") => Some("Write a message of 10 to 4,000 characters."),
                _ => None,
            };
            view! { <FieldError message /> }
        }
    };
    view! {
        <Title text="Support — Mercato" />
        <section class="support">
            <h1>"Support"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) if !page.logged_in => view! { <Redirect path="/login?next=/support" /> }.into_any(),
                        Ok(page) => {
                            view! {
                                {gated(
                                    page.priority,
                                    Feature::PrioritySupport,
                                    "/support",
                                    || {
                                        view! {
                                            <p class="notice" data-testid="priority-support">
                                                "Your requests are answered first (priority support)."
                                            </p>
                                        }
                                            .into_any()
                                    },
                                )}
                                {query
                                    .read_untracked()
                                    .get("sent")
                                    .map(|_| view! { <p class="notice" role="status">"Thanks — we will answer by e-mail."</p> })}
                                <ActionForm action=send attr:class="support-form">
                                    <label for="support-subject">"Subject"</label>
                                    <input id="support-subject" name="subject" maxlength="120" required />
                                    {error_for("subject")}
                                    <label for="support-body">"Message"</label>
                                    <textarea id="support-body" name="body" rows="6" maxlength="4000" required></textarea>
                                    {error_for("body")}
                                    <button type="submit" data-testid="support-submit">"Send"</button>
                                </ActionForm>
                                <h2>"Your requests"</h2>
                                <ul class="support-requests">
                                    {page
                                        .requests
                                        .into_iter()
                                        .map(|request| {
                                            view! {
                                                <li data-testid="support-request" data-priority=request.priority.to_string()>
                                                    <strong>{request.subject}</strong>
                                                    {format!(" — {} · {}", format_time(request.created_at), request.status)}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
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

/// `/admin/plans`: plan editor, subscribers and MRR per plan, open invoices, support queue.
#[component]
pub fn AdminPlansPage() -> impl IntoView {
    crate::layout::admin_page(
        "Plans — Mercato admin",
        "Plans and subscriptions",
        "admin-plans",
        "/admin/plans",
        super::api::get_plans_admin,
        |admin| view! { <PlansAdminView admin /> }.into_any(),
    )
}

#[component]
fn PlansAdminView(admin: super::api::PlansAdmin) -> impl IntoView {
    let query = use_query_map();
    let save = ServerAction::<SavePlan>::new();
    let resolve = ServerAction::<ResolveSupportRequest>::new();
    let mrr_total: i64 = admin.versions.iter().map(|v| v.mrr_cents).sum();
    let per_plan: Vec<(String, i64, i64)> = admin
        .plans
        .iter()
        .map(|plan| {
            let versions = admin.versions.iter().filter(|v| v.plan == plan.key);
            let (subscribers, mrr) = versions.fold((0, 0), |(n, m), v| (n + v.subscribers, m + v.mrr_cents));
            let subscribers = if plan.is_free() { admin.free_accounts } else { subscribers };
            (plan.name.clone(), subscribers, mrr)
        })
        .collect();
    let message = move || {
        let query = query.read();
        if let Some(error) = query.get("error") {
            return Some(("form-error", error));
        }
        if let Some(id) = query.get("paid") {
            return Some(("notice", format!("Invoice #{id} is recorded as paid.")));
        }
        if let Some(id) = query.get("answered") {
            return Some(("notice", format!("Support request #{id} is closed.")));
        }
        query.get("saved").map(|key| {
            (
                "notice",
                format!(
                    "Saved {key} as version {}. Current subscribers keep theirs.",
                    query.get("version").unwrap_or_default()
                ),
            )
        })
    };
    view! {
        {move || message().map(|(class, text)| view! { <p class=class role="status">{text}</p> })}
        <section class="card">
            <h2>"Subscribers and MRR"</h2>
            <p class="kpi">
                "Monthly recurring revenue: " <strong data-testid="mrr">{Money::from_cents(mrr_total).to_string()}</strong>
            </p>
            <MrrChart per_plan=per_plan.clone() />
            <table>
                <caption>"Subscribers per plan version"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Plan"</th>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Price"</th>
                        <th scope="col">"Subscribers"</th>
                        <th scope="col">"Leaving at period end"</th>
                        <th scope="col">"MRR"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        <td>"free"</td>
                        <td>"current"</td>
                        <td>{Money::ZERO.to_string()}</td>
                        <td data-testid="subscribers-free">{admin.free_accounts}</td>
                        <td>"–"</td>
                        <td>{Money::ZERO.to_string()}</td>
                    </tr>
                    {admin
                        .versions
                        .iter()
                        .map(|v| {
                            view! {
                                <tr data-testid=format!("subscribers-{}-v{}", v.plan, v.version)>
                                    <td>{v.plan.clone()}</td>
                                    <td>{v.version}</td>
                                    <td>{Money::from_cents(v.price_cents).to_string()}</td>
                                    <td>{v.subscribers}</td>
                                    <td>{v.leaving}</td>
                                    <td>{Money::from_cents(v.mrr_cents).to_string()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        {admin
            .plans
            .into_iter()
            .map(|plan| {
                let key = plan.key.clone();
                let price = format!("{}.{:02}", plan.price_cents / 100, plan.price_cents % 100);
                let section_id = format!("plan-{key}");
                let (name_id, price_id, save_id) =
                    (format!("plan-name-{key}"), format!("plan-price-{key}"), format!("save-plan-{key}"));
                view! {
                    <section class="card" id=section_id>
                        <h2>{format!("{} (version {})", plan.name, plan.version)}</h2>
                        <ActionForm action=save attr:class="plan-form">
                            <input type="hidden" name="key" value=key.clone() />
                            <label for=name_id.clone()>"Name"</label>
                            <input id=name_id name="name" value=plan.name.clone() maxlength="40" required />
                            <label for=price_id.clone()>"Price per month (€)"</label>
                            <input
                                id=price_id
                                name="price"
                                value=price
                                inputmode="decimal"
                                readonly=plan.is_free()
                            />
                            <fieldset>
                                <legend>"Features"</legend>
                                {Feature::ALL
                                    .into_iter()
                                    .map(|feature| {
                                        let id = format!("plan-{key}-{}", feature.key());
                                        let label_for = id.clone();
                                        view! {
                                            <label for=label_for class="checkbox">
                                                <input
                                                    id=id
                                                    type="checkbox"
                                                    name=feature.key()
                                                    value="on"
                                                    checked=plan.includes(feature)
                                                />
                                                {feature.label()}
                                            </label>
                                        }
                                    })
                                    .collect_view()}
                            </fieldset>
                            <button type="submit" data-testid=save_id>"Save as new version"</button>
                        </ActionForm>
                    </section>
                }
            })
            .collect_view()}
        <section class="card">
            <InvoiceTable invoices=admin.open_invoices admin=true />
        </section>
        <section class="card" id="support">
            <h2>"Support queue"</h2>
            <p class="muted">"Priority (premium) requests first, then oldest first."</p>
            <ol class="support-queue">
                {admin
                    .support_queue
                    .into_iter()
                    .map(|request| {
                        let id = request.id;
                        view! {
                            <li data-testid="support-queue-item" data-priority=request.priority.to_string()>
                                {request.priority.then(|| view! { <span class="tag">"Priority"</span> " " })}
                                <strong>{request.subject}</strong>
                                {format!(" — {} · {}", request.email, format_time(request.created_at))}
                                <p class="support-body">{request.body}</p>
                                <ActionForm action=resolve>
                                    <input type="hidden" name="id" value=id />
                                    <button type="submit">"Mark answered"</button>
                                </ActionForm>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
        <section class="card">
            <h2>"Recent subscription changes"</h2>
            <table>
                <caption>"Audit log"</caption>
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Detail"</th>
                    </tr>
                </thead>
                <tbody>
                    {admin
                        .audit
                        .into_iter()
                        .map(|(at, email, action, detail)| {
                            view! {
                                <tr>
                                    <td>{format_time(at)}</td>
                                    <td>{email}</td>
                                    <td>{action}</td>
                                    <td>{detail}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// Subscribers and MRR per plan as horizontal bars (SVG), the table above it holds the
/// same numbers.
#[component]
fn MrrChart(per_plan: Vec<(String, i64, i64)>) -> impl IntoView {
    const WIDTH: i64 = 420;
    const ROW: i64 = 30;
    const LEFT: i64 = 90;
    let height = ROW * per_plan.len() as i64 + 10;
    let max_subscribers = per_plan.iter().map(|(_, n, _)| *n).max().unwrap_or(0).max(1);
    let description = per_plan
        .iter()
        .map(|(name, n, mrr)| format!("{name}: {n} subscribers, {} MRR", Money::from_cents(*mrr)))
        .collect::<Vec<_>>()
        .join("; ");
    view! {
        <svg class="chart" data-testid="mrr-chart" viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-labelledby="mrr-chart-title mrr-chart-desc">
            <title id="mrr-chart-title">"Subscribers per plan"</title>
            <desc id="mrr-chart-desc">{description}</desc>
            {per_plan
                .into_iter()
                .enumerate()
                .map(|(i, (name, subscribers, mrr))| {
                    let y = 6 + ROW * i as i64;
                    let width = (WIDTH - LEFT - 110) * subscribers / max_subscribers;
                    view! {
                        <g>
                            <text x=4 y=y + 15 class="label">{name}</text>
                            <rect x=LEFT y=y width=width.max(1) height=ROW - 10 class="bar" />
                            <text x=LEFT + width + 6 y=y + 15 class="label">
                                {format!("{subscribers} · {}", Money::from_cents(mrr))}
                            </text>
                        </g>
                    }
                })
                .collect_view()}
        </svg>
    }
}
