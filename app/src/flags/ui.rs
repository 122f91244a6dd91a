//! `/admin/flags`: every flag with its kill switch and rule editor, a preview of what an
//! account or plan gets, a form for a new flag, and the audit log.

use super::api::{FlagView, FlagsAdmin, SaveFlag, SwitchFlag};
use super::domain::FlagKind;
use crate::shared::format_time;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AdminFlagsPage() -> impl IntoView {
    crate::layout::admin_page(
        "Feature flags — Mercato admin",
        "Feature flags",
        "admin-plans admin-flags",
        "/admin/flags",
        super::api::get_flags_admin,
        |admin| view! { <FlagsAdminView admin /> }.into_any(),
    )
}

const RULES_HELP: &str =
    "One rule per line, first match wins: plan in basic, premium => true · user in 12, 15 => true · \
     email in ada@example.com => true · segment in new, returning, high_value => true · \
     variant hero = variant_a => true · rollout 20% => true · everyone => false";

#[component]
fn FlagsAdminView(admin: FlagsAdmin) -> impl IntoView {
    let save = ServerAction::<SaveFlag>::new();
    let switch = ServerAction::<SwitchFlag>::new();
    view! {
        <crate::layout::AdminMessage />
        <Preview plans=admin.plans.clone() />
        {admin
            .flags
            .into_iter()
            .map(|flag| view! { <FlagCard flag save switch /> })
            .collect_view()}
        <section class="card" id="new-flag">
            <h2>"New flag"</h2>
            <ActionForm action=save attr:class="plan-form">
                <label for="new-key">"Key"</label>
                <input id="new-key" name="key" required pattern="[a-z][a-z0-9_-]{0,63}" data-testid="new-flag-key" />
                <label for="new-description">"What it switches"</label>
                <input id="new-description" name="description" maxlength="300" />
                <label for="new-kind">"Values"</label>
                <select id="new-kind" name="kind">
                    <option value="boolean">"true / false"</option>
                    <option value="json">"JSON (a variant)"</option>
                </select>
                <label class="checkbox" for="new-on">
                    <input id="new-on" type="checkbox" name="on" value="on" />
                    "On"
                </label>
                <label for="new-default">"Value when no rule matches"</label>
                <input id="new-default" name="default" value="false" required />
                <label for="new-off">"Value when switched off"</label>
                <input id="new-off" name="off" value="false" required />
                <label for="new-rules">"Rules"</label>
                <textarea id="new-rules" name="rules" rows="4" data-testid="new-flag-rules"></textarea>
                <p class="hint">{RULES_HELP}</p>
                <button type="submit" data-testid="new-flag-submit">"Create flag"</button>
            </ActionForm>
        </section>
        <section class="card" id="audit">
            <h2>"Changes"</h2>
            <table data-testid="flag-audit">
                <thead>
                    <tr>
                        <th scope="col">"When (UTC)"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Flag"</th>
                        <th scope="col">"Version"</th>
                        <th scope="col">"What"</th>
                    </tr>
                </thead>
                <tbody>
                    {admin
                        .audit
                        .into_iter()
                        .map(|(at, who, key, version, action, detail)| {
                            view! {
                                <tr>
                                    <td>{format_time(at)}</td>
                                    <td>{who}</td>
                                    <td>{key}</td>
                                    <td>{version}</td>
                                    <td>{format!("{action}: {detail}")}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn FlagCard(flag: FlagView, save: ServerAction<SaveFlag>, switch: ServerAction<SwitchFlag>) -> impl IntoView {
    let FlagView { key, description, kind, on, default, off, rules, version } = flag;
    let id = {
        let key = key.clone();
        move |field: &str| format!("flag-{key}-{field}")
    };
    let kind = match kind {
        FlagKind::Boolean => "boolean",
        FlagKind::Json => "json",
    };
    let state = if on { "on" } else { "off" };
    let (switch_key, save_key) = (key.clone(), key.clone());
    let shown_description = description.clone();
    view! {
        <section class="card flag" data-testid="flag" data-key=key.clone() data-on=state>
            <h2>
                <code>{key.clone()}</code>
                {format!(" — {state}, version {version}")}
            </h2>
            <p>{shown_description}</p>
            <ActionForm action=switch attr:class="inline-form">
                <input type="hidden" name="key" value=switch_key.clone() />
                <input type="hidden" name="on" value=if on { "off" } else { "on" } />
                <button type="submit" data-testid="flag-switch" class=if on { "danger" } else { "" }>
                    {if on { "Switch off for everyone" } else { "Switch on" }}
                </button>
            </ActionForm>
            <details>
                <summary>"Edit rules and values"</summary>
                <ActionForm action=save attr:class="plan-form">
                    <input type="hidden" name="key" value=save_key.clone() />
                    <input type="hidden" name="kind" value=kind />
                    <label for=id("description")>"What it switches"</label>
                    <input id=id("description") name="description" maxlength="300" value=description.clone() />
                    <label class="checkbox" for=id("on")>
                        <input id=id("on") type="checkbox" name="on" value="on" checked=on />
                        "On"
                    </label>
                    <label for=id("default")>"Value when no rule matches"</label>
                    <input id=id("default") name="default" value=default.clone() required />
                    <label for=id("off")>"Value when switched off"</label>
                    <input id=id("off") name="off" value=off.clone() required />
                    <label for=id("rules")>"Rules"</label>
                    <textarea id=id("rules") name="rules" rows="5" data-testid="flag-rules">
                        {rules.clone()}
                    </textarea>
                    <p class="hint">{RULES_HELP}</p>
                    <button type="submit" data-testid="flag-save">"Save"</button>
                </ActionForm>
            </details>
        </section>
    }
}

/// What an account (by e-mail) or an anonymous visitor gets, optionally as if on a plan. A
/// plain GET form: the answer is part of the page for that address.
#[component]
fn Preview(plans: Vec<String>) -> impl IntoView {
    let query = use_query_map();
    let asked = move || {
        let query = query.read();
        (query.get("as_email"), query.get("as_plan"))
    };
    let answer = Resource::new(asked, |(email, plan)| async move {
        if email.is_none() && plan.is_none() {
            return Ok(None);
        }
        super::api::preview_flags(email, plan).await.map(Some)
    });
    view! {
        <section class="card" id="preview">
            <h2>"Preview"</h2>
            <form method="get" action="/admin/flags" class="inline-form">
                <label>"Account e-mail " <input name="as_email" type="email" placeholder="anonymous visitor" /></label>
                <label>
                    "as if on "
                    <select name="as_plan">
                        <option value="">"their own plan"</option>
                        {plans.into_iter().map(|plan| view! { <option value=plan.clone()>{plan.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" data-testid="preview-submit">"Preview"</button>
            </form>
            <p class="hint">"Rollouts are computed for a stand-in visitor id: a real browser's share depends on its own id."</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match answer.await {
                        Ok(None) => ().into_any(),
                        Ok(Some(values)) => {
                            view! {
                                <table data-testid="preview-result">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Flag"</th>
                                            <th scope="col">"Value"</th>
                                            <th scope="col">"Why"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {values
                                            .into_iter()
                                            .map(|(key, evaluation)| {
                                                view! {
                                                    <tr data-key=key.clone()>
                                                        <td>{key.clone()}</td>
                                                        <td data-testid="preview-value">{evaluation.value.to_string()}</td>
                                                        <td>{evaluation.reason}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
