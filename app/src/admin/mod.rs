//! The shop owner's area (`/admin/*`) and its analytics: daily rollups kept from the event
//! log by an outbox consumer, and the dashboard over them. Every server function behind it
//! checks the admin role on the server; the pages only decide what to show.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod fragment;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// `/admin`: the owner's dashboard (KPIs and charts for a date range, rendered on the
/// server) and the way to each tool.
#[component]
pub fn AdminHome() -> impl IntoView {
    let query = use_query_map();
    let dashboard = Resource::new(
        move || {
            let query = query.read();
            (query.get("from"), query.get("to"), query.get("days"))
        },
        |(from, to, days)| api::get_dashboard_html(from, to, days),
    );
    view! {
        <Title text="Admin — Mercato" />
        <section class="admin-home">
            <h1>"Shop admin"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    crate::layout::admin_view(
                        dashboard.await,
                        "/admin",
                        |html| {
                            view! {
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
                                        <A href="/admin/insights">"Brand insights"</A>
                                        " — anonymized review and question insights, brand API keys"
                                    </li>
                                    <li>
                                        <A href="/admin/plans">"Plans and subscriptions"</A>
                                        " — plan editor, subscribers and MRR, invoices, support queue"
                                    </li>
                                    <li>
                                        <A href="/admin/flags">"Feature flags"</A>
                                        " — roll features out by plan, account, segment, experiment or percentage; kill switch"
                                    </li>
                                    <li>
                                        <A href="/admin/experiments">"Experiments and banners"</A>
                                        " — hero A/B test, results with confidence intervals, banner per segment"
                                    </li>
                                </ul>
                                <div inner_html=html></div>
                            }
                                .into_any()
                        },
                    )
                })}
            </Suspense>
        </section>
    }
}
