//! The shop owner's area (`/admin/*`). Every server function behind it checks the admin
//! role on the server; the pages only decide what to show.

use crate::accounts::api::get_account;
use crate::accounts::domain::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

/// `/admin`: the owner's start page, linking to each tool.
#[component]
pub fn AdminHome() -> impl IntoView {
    let account = Resource::new(|| (), |_| get_account());
    view! {
        <Title text="Admin — Mercato" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(Some((user, _))) if user.role == Role::Admin => {
                        view! {
                            <section class="admin-home">
                                <h1>"Shop admin"</h1>
                                <ul class="admin-tools">
                                    <li>
                                        <A href="/admin/pricing">"Dynamic pricing"</A>
                                        " — rules and guardrails, preview, price history, audit log"
                                    </li>
                                    <li>
                                        <A href="/admin/loyalty">"Loyalty and orders"</A>
                                        " — ship, cancel or refund orders, points over time, adjustments, badges, challenges"
                                    </li>
                                    <li>
                                        <A href="/admin/reviews">"Reviews and Q&A"</A>
                                        " — moderation queue, auto-approval and blocklist, replies, sponsorship, featured answers"
                                    </li>
                                    <li>
                                        <A href="/admin/plans">"Plans and subscriptions"</A>
                                        " — plan editor, subscribers and MRR, invoices, support queue"
                                    </li>
                                    <li>
                                        <A href="/admin/experiments">"Experiments and banners"</A>
                                        " — hero A/B test, results with confidence intervals, banner per segment"
                                    </li>
                                </ul>
                            </section>
                        }
                            .into_any()
                    }
                    Ok(Some(_)) => {
                        view! { <crate::layout::ErrorView error=crate::shared::AppError::Forbidden /> }.into_any()
                    }
                    Ok(None) => view! { <Redirect path="/login?next=/admin" /> }.into_any(),
                    Err(error) => view! { <crate::layout::ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
