//! The hero and banner on the home page, the browser-side mirror of assignments, and the
//! experiments admin page with its charts.

use super::domain::{Banner, Hero};
use leptos::prelude::*;

/// The home hero. Its variant comes from the server (the same in SSR and hydration); the
/// image has fixed dimensions so nothing moves when it loads.
#[component]
pub fn HeroSection(hero: Hero) -> impl IntoView {
    let Hero { experiment, variant, content } = hero;
    view! {
        <section class="hero" data-testid="hero" data-experiment=experiment data-variant=variant>
            <div class="hero-text">
                <h1>{content.headline}</h1>
                <p>{content.subcopy}</p>
                <a class="button" href=content.cta_href data-testid="hero-cta" data-track="hero-cta">
                    {content.cta_label}
                </a>
            </div>
            <img class="hero-image" src=content.image alt="" width="480" height="320" />
        </section>
    }
}

/// The banner for the visitor's segment (computed on the server from their orders).
#[component]
pub fn SegmentBanner(banner: Banner) -> impl IntoView {
    let Banner { segment, content } = banner;
    view! {
        <aside class="banner" data-testid="banner" data-segment=segment.as_str()>
            <strong>{content.headline}</strong>
            <span>{content.body}</span>
            <a href=content.cta_href>{content.cta_label}</a>
        </aside>
    }
}

/// Inline script run in `<head>` before the page paints. When the visitor cookie is not the
/// one this browser remembers in localStorage, cookies were cleared: it restores the visitor
/// id and the assignments into cookies and reloads once, so the server renders the variant
/// the visitor saw before (never a swap after paint). It gives up when cookies do not stick.
pub const RESTORE_SCRIPT: &str = r#"(function(){try{
var ls=window.localStorage,ss=window.sessionStorage;
var get=function(n){var m=document.cookie.match(new RegExp("(?:^|; )"+n+"=([^;]*)"));return m?m[1]:null;};
var vid=JSON.parse(ls.getItem("mercato_vid")||"null"),ab=JSON.parse(ls.getItem("mercato_ab")||"null");
if(typeof vid!=="string"||!/^[0-9a-f]{8,64}$/.test(vid)||!ab||typeof ab!=="object")return;
var current=get("mercato_vid");if(current===vid||ss.getItem("mercato_restore_tried")===current)return;
var clean={};for(var k in ab){if(/^[a-z0-9_-]{1,64}$/.test(k)&&typeof ab[k]==="string"&&/^[a-z0-9_-]{1,64}$/.test(ab[k]))clean[k]=ab[k];}
var tail="; Path=/; Max-Age=31536000; SameSite=Lax"+(location.protocol==="https:"?"; Secure":"");
ss.setItem("mercato_restore_tried",current||"");
document.cookie="mercato_vid="+vid+tail;document.cookie="mercato_ab="+JSON.stringify(clean)+tail;
if(get("mercato_vid")===vid)location.reload();
}catch(e){}})();"#;

/// Mirrors the visitor id and assignment cookies into localStorage (gloo-storage) after
/// hydration, so that [`RESTORE_SCRIPT`] can bring them back if cookies are cleared.
#[component]
pub fn AssignmentMirror() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        mirror_assignments();
    });
}

#[cfg(feature = "hydrate")]
fn mirror_assignments() {
    use gloo_storage::{LocalStorage, Storage};
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(html) = document.dyn_into::<web_sys::HtmlDocument>() else {
        return;
    };
    let cookies = html.cookie().unwrap_or_default();
    let read = |name: &str| {
        cookies
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, v)| v.to_string())
    };
    if let Some(visitor) = read("mercato_vid").filter(|v| v.len() >= 8 && v.bytes().all(|b| b.is_ascii_hexdigit())) {
        let _ = LocalStorage::set("mercato_vid", visitor);
    }
    if let Some(raw) = read(super::domain::ASSIGNMENTS_KEY) {
        let assignments = super::domain::Assignments::parse(&raw);
        if !assignments.0.is_empty() {
            // Merge: localStorage may remember experiments this cookie no longer carries.
            let mut stored: super::domain::Assignments =
                LocalStorage::get(super::domain::ASSIGNMENTS_KEY).unwrap_or_default();
            for (experiment, variant) in assignments.0 {
                stored.set(&experiment, &variant);
            }
            let _ = LocalStorage::set(super::domain::ASSIGNMENTS_KEY, &stored);
        }
    }
}

/// Sends page views, heartbeats and clicks on `[data-track]` elements to `POST /api/v1/events`
/// in batches, with `sendBeacon` so a batch survives the page being hidden or left. Must sit
/// inside the router (it follows client-side navigation). Nothing runs without JavaScript.
#[component]
pub fn EventTracker() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let location = leptos_router::hooks::use_location();
        tracker::install();
        Effect::new(move |_| {
            let path = location.pathname.get();
            tracker::push(serde_json::json!({ "kind": "page_view", "path": path }));
        });
    }
}

#[cfg(feature = "hydrate")]
mod tracker {
    use std::cell::{Cell, RefCell};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    const ENDPOINT: &str = "/api/v1/events";
    /// A full batch is sent at once; otherwise batches leave with the heartbeat or on hide.
    const BATCH: usize = 20;
    const HEARTBEAT_MS: i32 = 15_000;

    thread_local! {
        static QUEUE: RefCell<Vec<serde_json::Value>> = const { RefCell::new(Vec::new()) };
        static INSTALLED: Cell<bool> = const { Cell::new(false) };
        static VISIBLE_SINCE: Cell<f64> = const { Cell::new(0.0) };
    }

    fn now() -> f64 {
        web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
    }

    fn path() -> String {
        web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_else(|| "/".into())
    }

    fn is_visible() -> bool {
        web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
    }

    pub fn push(event: serde_json::Value) {
        let full = QUEUE.with(|queue| {
            let mut queue = queue.borrow_mut();
            queue.push(event);
            queue.len() >= BATCH
        });
        if full {
            flush();
        }
    }

    /// Time visible since the last heartbeat, as a heartbeat event.
    fn heartbeat() {
        let now = now();
        let since = VISIBLE_SINCE.with(|v| v.replace(now));
        let visible_ms = (now - since).clamp(0.0, 3_600_000.0) as u32;
        if visible_ms > 0 {
            push(serde_json::json!({ "kind": "heartbeat", "path": path(), "visible_ms": visible_ms }));
        }
    }

    pub fn flush() {
        let batch: Vec<serde_json::Value> = QUEUE.with(|queue| std::mem::take(&mut *queue.borrow_mut()));
        if batch.is_empty() {
            return;
        }
        let body = serde_json::json!({ "events": batch }).to_string();
        let Some(window) = web_sys::window() else {
            return;
        };
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("application/json");
        let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(&body));
        if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) {
            let _ = window.navigator().send_beacon_with_opt_blob(ENDPOINT, Some(&blob));
        }
    }

    pub fn install() {
        if INSTALLED.with(|installed| installed.replace(true)) {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        let Some(document) = window.document() else {
            return;
        };
        VISIBLE_SINCE.with(|v| v.set(now()));
        let on_visibility = Closure::<dyn FnMut()>::new(move || {
            if is_visible() {
                VISIBLE_SINCE.with(|v| v.set(now()));
            } else {
                heartbeat();
                flush();
            }
        });
        let _ = document.add_event_listener_with_callback("visibilitychange", on_visibility.as_ref().unchecked_ref());
        on_visibility.forget();
        let on_hide = Closure::<dyn FnMut()>::new(flush);
        let _ = window.add_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
        on_hide.forget();
        let on_interval = Closure::<dyn FnMut()>::new(move || {
            if is_visible() {
                heartbeat();
                flush();
            }
        });
        let _ = window
            .set_interval_with_callback_and_timeout_and_arguments_0(on_interval.as_ref().unchecked_ref(), HEARTBEAT_MS);
        on_interval.forget();
        let on_click = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let Some(element) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
                return;
            };
            let Ok(Some(tracked)) = element.closest("[data-track]") else {
                return;
            };
            let mut click = serde_json::json!({
                "kind": "click",
                "path": path(),
                "target": tracked.get_attribute("data-track").unwrap_or_default(),
            });
            if let Ok(Some(experiment)) = tracked.closest("[data-experiment]") {
                if let (Some(key), Some(variant), serde_json::Value::Object(map)) =
                    (experiment.get_attribute("data-experiment"), experiment.get_attribute("data-variant"), &mut click)
                {
                    map.insert("experiment".into(), key.into());
                    map.insert("variant".into(), variant.into());
                }
            }
            push(click);
            // The click may leave the page; a beacon outlives it.
            flush();
        });
        let _ = document.add_event_listener_with_callback_and_bool("click", on_click.as_ref().unchecked_ref(), true);
        on_click.forget();
    }
}

/// `/admin/experiments`.
#[component]
pub fn AdminExperimentsPage() -> impl IntoView {
    crate::layout::admin_page(
        "Experiments — Mercato admin",
        "Experiments and personalization",
        "admin-experiments",
        "/admin/experiments",
        super::api::get_experiments_admin,
        |admin| view! { <ExperimentsAdminView admin /> }.into_any(),
    )
}

#[component]
fn ExperimentsAdminView(admin: super::api::ExperimentsAdmin) -> impl IntoView {
    use leptos_router::hooks::use_query_map;
    let query = use_query_map();
    let error = move || query.read().get("error");
    let error_key = move || query.read().get("key").unwrap_or_default();
    let create = ServerAction::<super::api::CreateExperiment>::new();
    let high_value = crate::shared::Money::from_cents(admin.high_value_cents).to_string();
    view! {
        {admin
            .experiments
            .into_iter()
            .map(|(experiment, results)| {
                let key = experiment.key.clone();
                let problem = move || error().filter(|_| error_key() == key);
                view! { <ExperimentCard experiment results problem=Signal::derive(problem) /> }
            })
            .collect_view()}
        <section class="card">
            <h2>"New experiment"</h2>
            <p class="hint">"Starts as a draft with a control and one variant showing the current hero."</p>
            <ActionForm action=create attr:class="inline-form">
                <label>"Key" <input name="key" required pattern="[a-z0-9_-]{1,64}" /></label>
                <label>"Name" <input name="name" required maxlength="80" /></label>
                <button type="submit">"Create"</button>
            </ActionForm>
        </section>
        <section class="card" id="banners">
            <h2>"Banner by segment"</h2>
            <p class="hint">
                "New: no orders (and every visitor not logged in). Returning: at least one order. High value: lifetime spend of "
                {high_value} " or more."
            </p>
            {admin.banners.into_iter().map(|banner| view! { <BannerForm banner /> }).collect_view()}
        </section>
    }
}

#[component]
fn ExperimentCard(
    experiment: super::domain::Experiment,
    results: super::results::ExperimentResults,
    problem: Signal<Option<String>>,
) -> impl IntoView {
    use super::domain::Segment;
    let settings = ServerAction::<super::api::SaveExperimentSettings>::new();
    let key = experiment.key.clone();
    let coverage = format!("{}", experiment.coverage_bp as f64 / 100.0);
    let status = experiment.status.as_str();
    let variant_keys: Vec<String> = experiment.variants.iter().map(|v| v.key.clone()).collect();
    let winner = experiment.winner.clone().unwrap_or_default();
    let targets = experiment.target_segments.clone();
    let weights_total: i64 = experiment.variants.iter().map(|v| v.weight_bp.max(0)).sum::<i64>().max(1);
    let anchor = format!("experiment-{key}");
    let name = experiment.name.clone();
    let variants = experiment.variants.clone();
    let control_content = experiment.control().map(|v| v.content.clone()).unwrap_or_default();
    let (key_a, key_b, key_c, key_d) = (key.clone(), key.clone(), key.clone(), key.clone());
    view! {
        <article class="card experiment" id=anchor data-testid="experiment" data-key=key_a>
            <h2>{name.clone()} " " <code>{key_b}</code> " "
                <span class=format!("status status-{status}") data-testid="experiment-status">{status}</span>
            </h2>
            {move || problem.get().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <ResultsView results=results.clone() />
            <h3>"Settings"</h3>
            <ActionForm action=settings attr:class="experiment-settings">
                <input type="hidden" name="key" value=key_c />
                <label>"Name" <input name="name" value=name required maxlength="80" /></label>
                <label>
                    "Status"
                    <select name="status">
                        {["draft", "running", "stopped"]
                            .into_iter()
                            .map(|s| view! { <option value=s selected=s == status>{s}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>"Coverage (%)" <input name="coverage_pct" value=coverage inputmode="decimal" /></label>
                <label>
                    "Winner (served to everyone once stopped)"
                    <select name="winner">
                        <option value="" selected=winner.is_empty()>"none"</option>
                        {variant_keys
                            .iter()
                            .map(|v| view! { <option value=v.clone() selected=*v == winner>{v.clone()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <fieldset>
                    <legend>"Only for segments (none checked: everyone)"</legend>
                    {[(Segment::New, "target_new"), (Segment::Returning, "target_returning"), (Segment::HighValue, "target_high_value")]
                        .into_iter()
                        .map(|(segment, name)| {
                            view! {
                                <label class="check">
                                    <input type="checkbox" name=name value="on" checked=targets.contains(&segment) />
                                    {segment.label()}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <button type="submit">"Save settings"</button>
            </ActionForm>
            <h3>"Variants"</h3>
            {variants
                .into_iter()
                .map(|variant| {
                    let share = variant.weight_bp.max(0) as f64 * 100.0 / weights_total as f64;
                    view! { <VariantForm experiment=key.clone() variant share /> }
                })
                .collect_view()}
            <details>
                <summary>"Add a variant"</summary>
                <VariantForm
                    experiment=key_d
                    variant=super::domain::Variant { key: String::new(), weight_bp: 0, content: control_content }
                    share=0.0
                />
            </details>
        </article>
    }
}

#[component]
fn VariantForm(experiment: String, variant: super::domain::Variant, share: f64) -> impl IntoView {
    let save = ServerAction::<super::api::SaveVariant>::new();
    let is_new = variant.key.is_empty();
    let weight = format!("{}", variant.weight_bp as f64 / 100.0);
    let content = variant.content;
    view! {
        <ActionForm action=save attr:class="variant-form">
            <input type="hidden" name="key" value=experiment />
            {if is_new {
                view! { <label>"Variant key" <input name="variant" required pattern="[a-z0-9_-]{1,64}" /></label> }
                    .into_any()
            } else {
                view! {
                    <input type="hidden" name="variant" value=variant.key.clone() />
                    <h4>{variant.key.clone()} " — " {format!("{share:.1}% of traffic")}</h4>
                }
                    .into_any()
            }}
            <label>"Weight (%)" <input name="weight_pct" value=weight inputmode="decimal" /></label>
            <label>"Headline" <input name="headline" value=content.headline required maxlength="120" /></label>
            <label>"Sub-copy" <textarea name="subcopy" maxlength="300">{content.subcopy}</textarea></label>
            <label>"Button label" <input name="cta_label" value=content.cta_label required maxlength="40" /></label>
            <label>"Button link" <input name="cta_href" value=content.cta_href required /></label>
            <label>"Image" <input name="image" value=content.image required /></label>
            <button type="submit">{if is_new { "Add variant" } else { "Save variant" }}</button>
        </ActionForm>
    }
}

#[component]
fn BannerForm(banner: Banner) -> impl IntoView {
    use leptos_router::hooks::use_query_map;
    let query = use_query_map();
    let save = ServerAction::<super::api::SaveBanner>::new();
    let segment = banner.segment;
    let problem = move || {
        query.read().get("banner_error").filter(|_| query.read().get("segment").as_deref() == Some(segment.as_str()))
    };
    let content = banner.content;
    view! {
        <ActionForm action=save attr:class="banner-form" attr:id=format!("banner-{}", segment.as_str())>
            <h3>{segment.label()}</h3>
            {move || problem().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <input type="hidden" name="segment" value=segment.as_str() />
            <label>"Headline" <input name="headline" value=content.headline required maxlength="120" /></label>
            <label>"Text" <textarea name="body" maxlength="300">{content.body}</textarea></label>
            <label>"Link label" <input name="cta_label" value=content.cta_label required maxlength="40" /></label>
            <label>"Link" <input name="cta_href" value=content.cta_href required /></label>
            <button type="submit">"Save banner"</button>
        </ActionForm>
    }
}

fn percent(value: f64) -> String {
    format!("{:.2}%", value * 100.0)
}

/// Results table plus two charts: conversion rate with its 95% interval per variant, and
/// exposures per day.
#[component]
fn ResultsView(results: super::results::ExperimentResults) -> impl IntoView {
    let srm = results.srm_p_value.map(|p| format!("{p:.4}")).unwrap_or_else(|| "n/a".into());
    let flagged = results.srm_flagged;
    let variant_keys: Vec<String> = results.variants.iter().map(|v| v.key.clone()).collect();
    view! {
        <div class="results" data-testid="experiment-results">
            {flagged
                .then(|| {
                    view! {
                        <p class="form-error" role="alert" data-testid="srm-warning">
                            "Sample ratio mismatch (p < 0.001): the traffic split does not match the weights. Do not trust these results until the cause is found."
                        </p>
                    }
                })}
            <table class="table">
                <caption>"Primary metric: purchase. Sample-ratio check p = " {srm}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Variant"</th>
                        <th scope="col">"Visitors"</th>
                        <th scope="col">"Purchases"</th>
                        <th scope="col">"Conversion"</th>
                        <th scope="col">"Added to cart"</th>
                        <th scope="col">"Revenue / visitor"</th>
                        <th scope="col">"Uplift (95% CI)"</th>
                        <th scope="col">"p-value"</th>
                        <th scope="col">"Chance to beat control"</th>
                    </tr>
                </thead>
                <tbody>
                    {results
                        .variants
                        .iter()
                        .map(|v| {
                            let versus = v.versus_control.clone();
                            view! {
                                <tr data-variant=v.key.clone()>
                                    <th scope="row">{v.key.clone()}</th>
                                    <td>{v.visitors}</td>
                                    <td>{v.conversions}</td>
                                    <td>{percent(v.conversion_rate)}</td>
                                    <td>{percent(v.add_to_cart_rate)}</td>
                                    <td>{crate::shared::Money::from_cents(v.revenue_per_visitor_cents.round() as i64).to_string()}</td>
                                    <td>
                                        {versus
                                            .as_ref()
                                            .map(|c| format!("{:+.1}% ({:+.1}% to {:+.1}%)", c.uplift * 100.0, c.uplift_ci_low * 100.0, c.uplift_ci_high * 100.0))
                                            .unwrap_or_else(|| "—".into())}
                                    </td>
                                    <td>{versus.as_ref().map(|c| format!("{:.4}", c.p_value)).unwrap_or_else(|| "—".into())}</td>
                                    <td>{versus.as_ref().map(|c| percent(c.chance_to_beat_control)).unwrap_or_else(|| "—".into())}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <div class="charts">
                <RateChart variants=results.variants.clone() />
                <ExposureChart days=results.daily_exposures.clone() variants=variant_keys />
            </div>
        </div>
    }
}

/// Conversion rate per variant as a dot with its 95% interval (SVG).
#[component]
fn RateChart(variants: Vec<super::results::VariantResult>) -> impl IntoView {
    const WIDTH: f64 = 420.0;
    const ROW: f64 = 34.0;
    const LEFT: f64 = 90.0;
    const RIGHT: f64 = 20.0;
    let height = ROW * variants.len() as f64 + 36.0;
    let max = variants.iter().map(|v| v.conversion_rate_ci_high).fold(0.0_f64, f64::max).max(0.01);
    let x = move |rate: f64| LEFT + (WIDTH - LEFT - RIGHT) * (rate / max).clamp(0.0, 1.0);
    let description = variants
        .iter()
        .map(|v| {
            format!(
                "{}: {} ({} to {})",
                v.key,
                percent(v.conversion_rate),
                percent(v.conversion_rate_ci_low),
                percent(v.conversion_rate_ci_high)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    view! {
        <svg class="chart" data-testid="rate-chart" viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-labelledby="rate-chart-title rate-chart-desc">
            <title id="rate-chart-title">"Conversion rate by variant, with 95% intervals"</title>
            <desc id="rate-chart-desc">{description}</desc>
            <line x1=LEFT y1=height - 24.0 x2=WIDTH - RIGHT y2=height - 24.0 class="axis" />
            <text x=LEFT y=height - 8.0 class="label">"0%"</text>
            <text x=WIDTH - RIGHT y=height - 8.0 text-anchor="end" class="label">{percent(max)}</text>
            {variants
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let y = 20.0 + ROW * i as f64;
                    view! {
                        <g>
                            <text x=4 y=y + 4.0 class="label">{v.key.clone()}</text>
                            <line x1=x(v.conversion_rate_ci_low) y1=y x2=x(v.conversion_rate_ci_high) y2=y class="interval" />
                            <circle cx=x(v.conversion_rate) cy=y r=5 class="dot" />
                        </g>
                    }
                })
                .collect_view()}
        </svg>
    }
}

/// Exposures per day, one bar group per day (SVG).
#[component]
fn ExposureChart(days: Vec<super::results::DailyExposures>, variants: Vec<String>) -> impl IntoView {
    const WIDTH: f64 = 420.0;
    const HEIGHT: f64 = 180.0;
    const PAD: f64 = 28.0;
    if days.is_empty() {
        return view! { <p class="empty" data-testid="exposure-chart">"No exposures yet."</p> }.into_any();
    }
    let max = days.iter().flat_map(|d| d.counts.iter().copied()).max().unwrap_or(1).max(1) as f64;
    let group = (WIDTH - 2.0 * PAD) / days.len() as f64;
    let bar = (group * 0.8 / variants.len().max(1) as f64).max(1.0);
    let description = days
        .iter()
        .map(|d| format!("{}: {}", d.day, d.counts.iter().map(u64::to_string).collect::<Vec<_>>().join(" / ")))
        .collect::<Vec<_>>()
        .join("; ");
    let first = days.first().map(|d| d.day.clone()).unwrap_or_default();
    let last = days.last().map(|d| d.day.clone()).unwrap_or_default();
    view! {
        <svg class="chart" data-testid="exposure-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby="exposure-chart-title exposure-chart-desc">
            <title id="exposure-chart-title">{format!("Visitors exposed per day ({})", variants.join(" / "))}</title>
            <desc id="exposure-chart-desc">{description}</desc>
            <line x1=PAD y1=HEIGHT - PAD x2=WIDTH - PAD y2=HEIGHT - PAD class="axis" />
            <text x=2 y=PAD class="label">{max as u64}</text>
            <text x=PAD y=HEIGHT - 8.0 class="label">{first}</text>
            <text x=WIDTH - PAD y=HEIGHT - 8.0 text-anchor="end" class="label">{last}</text>
            {days
                .iter()
                .enumerate()
                .flat_map(|(i, d)| {
                    d.counts
                        .iter()
                        .enumerate()
                        .map(|(j, count)| {
                            let h = (HEIGHT - 2.0 * PAD) * (*count as f64 / max);
                            let x = PAD + group * i as f64 + group * 0.1 + bar * j as f64;
                            view! {
                                <rect x=x y=HEIGHT - PAD - h width=bar height=h class=format!("bar bar-{j}")>
                                    <title>{format!("{} {}: {}", d.day, variants.get(j).cloned().unwrap_or_default(), count)}</title>
                                </rect>
                            }
                        })
                        .collect::<Vec<_>>()
                })
                .collect_view()}
        </svg>
    }
    .into_any()
}
