//! Live prices in the browser: one `EventSource` on `/api/v1/prices/stream` feeds a map of
//! SKU → latest price that every `PriceTag` reads. The map starts empty, so the hydrated
//! page renders exactly what the server rendered; updates arrive after hydration.

use crate::catalog::domain::PriceView;
use leptos::prelude::*;
use std::collections::HashMap;

#[derive(Clone, Copy)]
pub struct LivePrices(pub RwSignal<HashMap<String, PriceView>>);

pub fn provide_live_prices() {
    let prices = LivePrices(RwSignal::new(HashMap::new()));
    provide_context(prices);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| connect(prices));
}

#[cfg(feature = "hydrate")]
fn connect(prices: LivePrices) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Ok(source) = web_sys::EventSource::new("/api/v1/prices/stream") else {
        return;
    };
    let on_price = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        let Some(data) = event.data().as_string() else {
            return;
        };
        if let Ok(live) = serde_json::from_str::<crate::catalog::domain::LivePrice>(&data) {
            let view = PriceView::new(live.amount_cents, live.base_cents, live.lowest_30d_cents, live.reason);
            prices.0.update(|map| {
                map.insert(live.sku, view);
            });
        }
    });
    let _ = source.add_event_listener_with_callback("price", on_price.as_ref().unchecked_ref());
    // The page lives as long as the stream; the browser reconnects it by itself.
    on_price.forget();
    std::mem::forget(source);
}

#[cfg(not(feature = "hydrate"))]
fn connect(_prices: LivePrices) {}

/// `/admin/pricing`: the rules per scope, a preview of "price at stock N" before saving, the
/// sample product's price history as a chart, and the audit log.
#[component]
pub fn AdminPricingPage() -> impl IntoView {
    use leptos_router::hooks::use_query_map;
    let query = use_query_map();
    // A simulation is asked for by the rules form's "Simulate" button: the draft, parsed
    // here exactly as the server would, travels as JSON and nothing is saved.
    let simulate = move || {
        let query = query.read();
        query.get("simulate")?;
        let draft = super::form::RuleForm::from_lookup(|name| query.get(name))?;
        serde_json::to_string(&draft.parse().ok()?).ok()
    };
    let data = Resource::new(
        move || {
            (
                query.read().get("scope"),
                query.read().get("sku"),
                query.read().get("saved"),
                query.read().get("imported"),
                // Tracked so that a refused import, which comes back to the same page with
                // only its problems in the query, re-renders the form with them.
                query.read().get("csv_problems"),
                simulate(),
            )
        },
        |(scope, sku, _, _, _, simulate)| super::api::get_pricing_admin(scope, sku, simulate),
    );
    view! {
        <leptos_meta::Title text="Pricing — Mercato admin" />
        <section class="admin-pricing">
            <h1>"Dynamic pricing"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    crate::layout::admin_view(data.await, "/admin/pricing", |admin| {
                        let draft = super::form::RuleForm::from_lookup(|name| query.read_untracked().get(name));
                        let saved = query.read_untracked().get("saved").is_some();
                        let imported = query
                            .read_untracked()
                            .get("imported")
                            .map(|n| (n, query.read_untracked().get("repriced").unwrap_or_default()));
                        let csv_problems = query.read_untracked().get("csv_problems");
                        view! {
                            <PricingEditor admin draft saved />
                            <CompetitorImport imported csv_problems />
                        }
                            .into_any()
                    })
                })}
            </Suspense>
        </section>
    }
}

const PREVIEW_STOCKS: [i64; 12] = [0, 2, 4, 5, 10, 25, 50, 100, 101, 150, 200, 500];

#[component]
fn PricingEditor(admin: super::api::PricingAdmin, draft: Option<super::form::RuleForm>, saved: bool) -> impl IntoView {
    use super::form::{RuleForm, FIELDS};
    use crate::shared::Money;
    let save = ServerAction::<super::api::SavePricingRules>::new();
    let reset = ServerAction::<super::api::ResetPricingRules>::new();
    let form = draft.clone().unwrap_or_else(|| RuleForm::from_rules(&admin.rules));
    let parsed = form.parse();
    let problems: Vec<(&'static str, String)> = parsed.clone().err().unwrap_or_default();
    let preview_rules = parsed.clone().unwrap_or_else(|_| admin.rules.clone());
    let is_draft = draft.is_some() && parsed.is_ok() && parsed.as_ref().ok() != Some(&admin.rules);
    let message_for = move |field: &str| problems.iter().find(|(f, _)| *f == field).map(|(_, message)| message.clone());
    let labels: [(&str, &str, &str); 18] = [
        ("low_stock_below", "Scarcity: stock below", "units"),
        ("low_stock_markup_pct", "Scarcity markup", "% of base price"),
        ("high_stock_above", "Overstock: stock above", "units"),
        ("high_stock_discount_pct", "Overstock discount", "% of base price"),
        ("min_margin_pct", "Floor: minimum margin over unit cost", "%"),
        ("ceiling_pct", "Ceiling", "% of base price"),
        ("max_step_pct", "Largest move per repricing", "% of current price (0 = no limit)"),
        ("rounding", "Rounding", "cents or charm99"),
        ("cooldown_minutes", "Cooldown after an automatic change", "minutes (0 = none)"),
        ("velocity_window_days", "Sales velocity window", "days"),
        ("fast_cover_days_below", "Fast seller: days of cover below", "days (0 = off)"),
        ("fast_markup_pct", "Fast-seller markup", "% of base price"),
        ("slow_no_sale_days", "Slow mover: no sale for", "days (0 = off)"),
        ("slow_cover_days_above", "Slow mover: days of cover above", "days (0 = off)"),
        ("slow_discount_pct", "Slow-mover discount", "% of base price"),
        ("competitor", "Competitor prices", "off, match, beat or within"),
        ("competitor_pct", "Beat by / stay within", "% of the lowest competitor price"),
        ("competitor_max_age_hours", "Ignore competitor offers older than", "hours"),
    ];
    let scope = admin.scope.clone();
    let sample = admin.sample.clone();
    let sample_sku = sample.as_ref().map(|product| product.sku.clone());
    let preview = sample
        .as_ref()
        .map(|product| super::domain::preview(product.base_cents, product.cost_cents, &PREVIEW_STOCKS, &preview_rules));
    view! {
        {saved.then(|| view! { <p class="notice" role="status">"Saved. Prices in this scope are being recomputed."</p> })}
        <form method="get" action="/admin/pricing" class="scope-picker">
            <label for="scope">"Rules for"</label>
            <select id="scope" name="scope">
                <option value="global" selected=scope == "global">"The whole shop"</option>
                {admin
                    .categories
                    .iter()
                    .map(|(slug, name)| {
                        let key = format!("category:{slug}");
                        view! { <option value=key.clone() selected=scope == key>{format!("Category: {name}")}</option> }
                    })
                    .collect_view()}
                {admin
                    .products
                    .iter()
                    .map(|product| {
                        let key = format!("product:{}", product.sku);
                        view! {
                            <option value=key.clone() selected=scope == key>
                                {format!("Product: {} {}", product.sku, product.name)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit">"Open"</button>
        </form>
        <p class="muted">
            {if admin.is_override {
                "This scope has its own rules."
            } else {
                "This scope inherits its rules; saving gives it its own."
            }}
        </p>
        <form method="get" action="/admin/pricing" class="rules-form" data-testid="rules-form">
            <input type="hidden" name="scope" value=scope.clone() />
            {labels
                .iter()
                .map(|(name, label, unit)| {
                    let id = format!("rule-{name}");
                    let error = message_for(name);
                    view! {
                        <div class="field">
                            <label for=id.clone()>{*label}</label>
                            <input id=id name=*name value=form.value(name) aria-invalid=error.is_some().to_string() />
                            <span class="hint">{*unit}</span>
                            {error.map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
                        </div>
                    }
                })
                .collect_view()}
            <button type="submit" data-testid="preview-rules">"Preview"</button>
            {sample_sku.map(|sku| view! { <input type="hidden" name="sku" value=sku /> })}
            <button type="submit" name="simulate" value="1" data-testid="simulate-rules">
                "Simulate the last 30 days"
            </button>
        </form>
        {admin.simulation.clone().map(|report| view! { <SimulationView report /> })}
        {parsed
            .is_ok()
            .then(|| {
                let scope = scope.clone();
                view! {
                    <ActionForm action=save attr:class="save-rules">
                        <input type="hidden" name="scope" value=scope />
                        {FIELDS
                            .iter()
                            .map(|name| view! { <input type="hidden" name=*name value=form.value(name) /> })
                            .collect_view()}
                        <button type="submit" data-testid="save-rules">
                            {if is_draft { "Save these rules" } else { "Save" }}
                        </button>
                    </ActionForm>
                }
            })}
        {(admin.is_override && scope != "global")
            .then(|| {
                let scope = scope.clone();
                view! {
                    <ActionForm action=reset attr:class="reset-rules">
                        <input type="hidden" name="scope" value=scope />
                        <button type="submit" class="link-button">"Remove this override"</button>
                    </ActionForm>
                }
            })}
        {sample
            .zip(preview)
            .map(|(product, preview)| {
                view! {
                    <h2>{format!("Preview: {} ({})", product.name, product.sku)}</h2>
                    <p class="muted">
                        {format!(
                            "Base {} · unit cost {} · now {} at stock {}",
                            Money::from_cents(product.base_cents),
                            Money::from_cents(product.cost_cents),
                            Money::from_cents(product.price_cents),
                            product.stock,
                        )}
                    </p>
                    <table class="preview" data-testid="price-preview">
                        <thead>
                            <tr>
                                <th scope="col">"Stock"</th>
                                <th scope="col">"Price"</th>
                                <th scope="col">"Why"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {preview
                                .into_iter()
                                .map(|(stock, quote)| {
                                    view! {
                                        <tr data-stock=stock data-amount-cents=quote.amount_cents>
                                            <td>{stock}</td>
                                            <td>{Money::from_cents(quote.amount_cents).to_string()}</td>
                                            <td>{quote.reason.as_str()}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                    <h2>"Price history"</h2>
                    <PriceHistoryChart points=admin.history.clone() />
                    <CompetitorOffers offers=admin.offers.clone() />
                }
            })}
        <PostPurchaseStats counts=admin.post_purchase />
        <h2>"Recent price changes"</h2>
        <table class="recent-changes" data-testid="recent-price-changes">
            <thead>
                <tr>
                    <th scope="col">"When (UTC)"</th>
                    <th scope="col">"Product"</th>
                    <th scope="col">"Price"</th>
                    <th scope="col">"Rule"</th>
                    <th scope="col">"Cause"</th>
                </tr>
            </thead>
            <tbody>
                {admin
                    .recent
                    .iter()
                    .map(|change| {
                        view! {
                            <tr data-sku=change.sku.clone() data-cause=change.cause.clone().unwrap_or_default()>
                                <td>{crate::shared::format_time(change.created_at)}</td>
                                <td>{change.sku.clone()}</td>
                                <td>{Money::from_cents(change.price_cents).to_string()}</td>
                                <td>{change.reason.clone()}</td>
                                <td>{change.cause.clone().unwrap_or_else(|| "listed".into())}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <h2>"Audit log"</h2>
        <table class="audit" data-testid="pricing-audit">
            <thead>
                <tr>
                    <th scope="col">"When (UTC)"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"Scope"</th>
                    <th scope="col">"Change"</th>
                </tr>
            </thead>
            <tbody>
                {admin
                    .audit
                    .into_iter()
                    .map(|entry| {
                        view! {
                            <tr>
                                <td>{crate::shared::format_time(entry.created_at)}</td>
                                <td>{entry.who.unwrap_or_else(|| "system".into())}</td>
                                <td>{entry.scope}</td>
                                <td>{describe_change(entry.before.as_ref(), entry.after.as_ref())}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// The sample product's current competitor offers (a stale one is still listed; the rules
/// ignore it).
#[component]
fn CompetitorOffers(offers: Vec<super::api::OfferView>) -> impl IntoView {
    use crate::shared::Money;
    if offers.is_empty() {
        return view! { <p class="empty" data-testid="competitor-offers">"No competitor offers imported."</p> }
            .into_any();
    }
    view! {
        <h3>"Competitor offers"</h3>
        <table data-testid="competitor-offers">
            <thead>
                <tr>
                    <th scope="col">"Source"</th>
                    <th scope="col">"Price"</th>
                    <th scope="col">"Observed (UTC)"</th>
                </tr>
            </thead>
            <tbody>
                {offers
                    .into_iter()
                    .map(|offer| {
                        view! {
                            <tr>
                                <td>{offer.source}</td>
                                <td>{Money::from_cents(offer.price_cents).to_string()}</td>
                                <td>{crate::shared::format_time(offer.observed_at)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The simulation of the sample product: both price paths by day (the price at each day's
/// end) and what each rule set would have earned.
#[component]
fn SimulationView(report: super::api::SimulationReport) -> impl IntoView {
    use super::domain::{SimPoint, MS_PER_DAY};
    use crate::layout::chart::{DailyBars, Series};
    use crate::shared::Money;
    let (current, proposed) = (&report.current, &report.proposed);
    let first = current.path.first().map(|point| point.at_ms).unwrap_or(0);
    let first_day = first.div_euclid(MS_PER_DAY);
    let days: Vec<i64> = (first_day..first_day + 30).collect();
    let at_end_of = |path: &[SimPoint], day: i64| {
        path.iter()
            .take_while(|point| point.at_ms < (day + 1) * MS_PER_DAY)
            .last()
            .map(|point| point.price_cents)
            .unwrap_or(0)
    };
    let current_prices = days.iter().map(|day| at_end_of(&current.path, *day)).collect();
    let proposed_prices = days.iter().map(|day| at_end_of(&proposed.path, *day)).collect();
    let revenue_delta = proposed.revenue_cents - current.revenue_cents;
    let margin_delta = proposed.margin_cents - current.margin_cents;
    let signed = |cents: i64| {
        let money = Money::from_cents(cents.abs()).to_string();
        if cents < 0 {
            format!("−{money}")
        } else {
            format!("+{money}")
        }
    };
    view! {
        <section class="simulation" data-testid="simulation">
            <h2>{format!("Simulation: {} over the last 30 days", report.sku)}</h2>
            <p class="muted">
                {format!(
                    "{} recorded events replayed. Units sold are held as observed: the simulation does not \
                     guess how shoppers would have answered other prices. Nothing has been saved.",
                    report.n_events,
                )}
            </p>
            <DailyBars
                id="simulation-chart"
                title="Price at the end of each day: rules in force (1) and proposed (2)"
                days
                bars=vec![Series::money("now", current_prices), Series::money("proposed", proposed_prices)]
            />
            <table data-testid="simulation-totals">
                <thead>
                    <tr>
                        <th scope="col"></th>
                        <th scope="col">"Units"</th>
                        <th scope="col">"Revenue"</th>
                        <th scope="col">"Margin"</th>
                        <th scope="col">"Price changes"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        <th scope="row">"Rules in force"</th>
                        <td>{current.units}</td>
                        <td>{Money::from_cents(current.revenue_cents).to_string()}</td>
                        <td>{Money::from_cents(current.margin_cents).to_string()}</td>
                        <td>{current.path.len().saturating_sub(1)}</td>
                    </tr>
                    <tr>
                        <th scope="row">"Proposed"</th>
                        <td>{proposed.units}</td>
                        <td data-testid="proposed-revenue" data-cents=proposed.revenue_cents>
                            {Money::from_cents(proposed.revenue_cents).to_string()}
                        </td>
                        <td>{Money::from_cents(proposed.margin_cents).to_string()}</td>
                        <td>{proposed.path.len().saturating_sub(1)}</td>
                    </tr>
                    <tr>
                        <th scope="row">"Difference"</th>
                        <td></td>
                        <td data-testid="revenue-difference" data-cents=revenue_delta>{signed(revenue_delta)}</td>
                        <td data-testid="margin-difference" data-cents=margin_delta>{signed(margin_delta)}</td>
                        <td></td>
                    </tr>
                </tbody>
            </table>
        </section>
    }
}

/// The order page's post-purchase offers over the last 30 days: shown, clicked, added, and
/// the click-through and add rates (per mille, shown as percent with one decimal).
#[component]
fn PostPurchaseStats(counts: (i64, i64, i64)) -> impl IntoView {
    let (shown, clicked, added) = counts;
    let rate = |n: i64| {
        if shown == 0 {
            "–".to_string()
        } else {
            let per_mille = n * 1000 / shown;
            format!("{}.{} %", per_mille / 10, per_mille % 10)
        }
    };
    view! {
        <h2>"Post-purchase offers (last 30 days)"</h2>
        <table data-testid="post-purchase-stats">
            <thead>
                <tr>
                    <th scope="col">"Shown"</th>
                    <th scope="col">"Clicked"</th>
                    <th scope="col">"Added to the order"</th>
                    <th scope="col">"Click-through rate"</th>
                    <th scope="col">"Add rate"</th>
                </tr>
            </thead>
            <tbody>
                <tr data-shown=shown data-clicked=clicked data-added=added>
                    <td>{shown}</td>
                    <td>{clicked}</td>
                    <td>{added}</td>
                    <td data-testid="post-purchase-ctr">{rate(clicked)}</td>
                    <td>{rate(added)}</td>
                </tr>
            </tbody>
        </table>
    }
}

/// The CSV upload of competitor offers, with each refused line and why.
#[component]
fn CompetitorImport(imported: Option<(String, String)>, csv_problems: Option<String>) -> impl IntoView {
    let import = ServerAction::<super::api::ImportCompetitorCsv>::new();
    let problems: Vec<(String, String, String)> = csv_problems
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut cells = line.splitn(3, '\t');
            Some((cells.next()?.to_string(), cells.next()?.to_string(), cells.next()?.to_string()))
        })
        .collect();
    let has_problems = !problems.is_empty();
    view! {
        <h2 id="competitor-import">"Competitor prices"</h2>
        {imported
            .map(|(n, repriced)| {
                view! {
                    <p class="notice" role="status" data-testid="csv-imported">
                        {format!("Imported {n} offers; {repriced} prices changed.")}
                    </p>
                }
            })}
        <ActionForm action=import attr:class="competitor-csv" attr:data-testid="competitor-csv">
            <div class="field">
                <label for="competitor-csv-text">"CSV: sku,source,price_cents,observed_at (RFC 3339 or epoch ms)"</label>
                <textarea
                    id="competitor-csv-text"
                    name="csv"
                    rows="6"
                    aria-invalid=has_problems.to_string()
                    aria-describedby=has_problems.then_some("competitor-csv-problems")
                ></textarea>
                {has_problems
                    .then(|| {
                        view! {
                            <ul id="competitor-csv-problems" class="field-error" role="alert">
                                {problems
                                    .into_iter()
                                    .map(|(line, field, message)| {
                                        view! {
                                            <li data-testid="csv-problem" data-line=line.clone() data-field=field.clone()>
                                                {format!("Line {line}, {field}: {message}")}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })}
            </div>
            <button type="submit" data-testid="import-csv">"Import"</button>
        </ActionForm>
    }
}

/// What changed between two rule sets, in the admin's words.
fn describe_change(before: Option<&super::domain::RuleSet>, after: Option<&super::domain::RuleSet>) -> String {
    use super::form::RuleForm;
    match (before, after) {
        (_, None) => "override removed".into(),
        (None, Some(_)) => "own rules created".into(),
        (Some(before), Some(after)) => {
            let (before, after) = (RuleForm::from_rules(before), RuleForm::from_rules(after));
            let changes: Vec<String> = super::form::FIELDS
                .iter()
                .filter(|name| before.value(name) != after.value(name))
                .map(|name| format!("{name}: {} → {}", before.value(name), after.value(name)))
                .collect();
            if changes.is_empty() {
                "saved unchanged".into()
            } else {
                changes.join(", ")
            }
        }
    }
}

/// A step chart of a product's price over time (SVG; no script, no library).
#[component]
pub fn PriceHistoryChart(points: Vec<super::api::PricePoint>) -> impl IntoView {
    use crate::shared::Money;
    const WIDTH: i64 = 640;
    const HEIGHT: i64 = 220;
    const PAD: i64 = 48;
    if points.is_empty() {
        return view! { <p class="empty">"No price changes yet."</p> }.into_any();
    }
    let first_t = points.first().map(|p| p.created_at).unwrap_or(0);
    let last_t = points.last().map(|p| p.created_at).unwrap_or(0).max(first_t + 1);
    let min_p = points.iter().map(|p| p.price_cents).min().unwrap_or(0);
    let max_p = points.iter().map(|p| p.price_cents).max().unwrap_or(0).max(min_p + 1);
    let x = |t: i64| PAD + (t - first_t) * (WIDTH - 2 * PAD) / (last_t - first_t);
    let y = |p: i64| HEIGHT - PAD - (p - min_p) * (HEIGHT - 2 * PAD) / (max_p - min_p);
    let mut path = String::new();
    let mut previous_y = None;
    for point in &points {
        let (px, py) = (x(point.created_at), y(point.price_cents));
        match previous_y {
            None => path.push_str(&format!("M{px},{py}")),
            Some(prev) => path.push_str(&format!(" L{px},{prev} L{px},{py}")),
        }
        previous_y = Some(py);
    }
    if let Some(prev) = previous_y {
        path.push_str(&format!(" L{},{prev}", WIDTH - PAD));
    }
    let n_points = points.len();
    view! {
        <svg
            class="chart"
            data-testid="price-history-chart"
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            role="img"
            aria-label=format!("Price history, {n_points} changes")
        >
            <line x1=PAD y1=HEIGHT - PAD x2=WIDTH - PAD y2=HEIGHT - PAD class="axis" />
            <line x1=PAD y1=PAD x2=PAD y2=HEIGHT - PAD class="axis" />
            <text x=4 y=y(max_p) + 4 class="label">{Money::from_cents(max_p).to_string()}</text>
            <text x=4 y=y(min_p) + 4 class="label">{Money::from_cents(min_p).to_string()}</text>
            <text x=PAD y=HEIGHT - 16 class="label">{crate::shared::format_time(first_t)}</text>
            <text x=WIDTH - PAD y=HEIGHT - 16 text-anchor="end" class="label">{crate::shared::format_time(last_t)}</text>
            <path d=path class="line" />
            {points
                .iter()
                .map(|point| {
                    view! {
                        <circle cx=x(point.created_at) cy=y(point.price_cents) r=3 class="dot">
                            <title>
                                {format!("{} {} ({})", crate::shared::format_time(point.created_at), Money::from_cents(point.price_cents), point.reason)}
                            </title>
                        </circle>
                    }
                })
                .collect_view()}
        </svg>
    }
    .into_any()
}
