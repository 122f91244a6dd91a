//! `/admin/insights`: the brand insights' downloads (JSON and CSV for a product or category)
//! and the brand API keys: create (the key shown once), list, revoke.
//!
//! **Rationale:** a new key travels to the next page load in a one-minute `HttpOnly` cookie
//! that the page reads and clears, never in a URL (URLs end up in logs and histories), so it
//! is shown once with JavaScript and without.

use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The cookie that carries a new key to the page that shows it.
pub const NEW_KEY_COOKIE: &str = "mercato_new_brand_key";

/// A brand key as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: i64,
    pub brand: String,
    pub label: String,
    pub created_at: i64,
    pub revoked: bool,
}

/// Everything `/admin/insights` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsightsAdmin {
    pub brands: Vec<String>,
    pub categories: Vec<String>,
    pub keys: Vec<KeyRow>,
    /// A key created just before this page load, shown this once.
    pub new_key: Option<String>,
}

#[server(prefix = "/rpc")]
pub async fn get_insights_admin() -> Result<InsightsAdmin, AppError> {
    use super::insights_store as store;
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let headers: http::HeaderMap = leptos_axum::extract().await.map_err(|_| AppError::Internal)?;
    let new_key = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == NEW_KEY_COOKIE && value.starts_with(store::KEY_PREFIX))
        .map(|(_, value)| value.to_string());
    if new_key.is_some() {
        crate::state::set_cookie(&format!(
            "{NEW_KEY_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
            if state.secure_cookies { "; Secure" } else { "" }
        ));
    }
    let categories: Vec<String> = sqlx::query_scalar("SELECT slug FROM categories ORDER BY slug")
        .fetch_all(state.db.pool())
        .await
        .map_err(AppError::from)?;
    Ok(InsightsAdmin {
        brands: store::brands(&state.db).await?,
        categories,
        keys: store::keys(&state.db)
            .await?
            .into_iter()
            .map(|key| KeyRow {
                id: key.id,
                brand: key.brand,
                label: key.label,
                created_at: key.created_at,
                revoked: key.revoked_at.is_some(),
            })
            .collect(),
        new_key,
    })
}

#[server(prefix = "/rpc", endpoint = "create_brand_key")]
pub async fn create_brand_key(brand: String, label: String) -> Result<(), AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let result = super::insights_store::create_key(&state.db, &brand, &label).await.map(|(_, key)| {
        crate::state::set_cookie(&format!(
            "{NEW_KEY_COOKIE}={key}; Path=/; HttpOnly; SameSite=Strict; Max-Age=60{}",
            if state.secure_cookies { "; Secure" } else { "" }
        ));
        format!("Key created for {brand}.")
    });
    crate::state::admin_redirect("/admin/insights", result)
}

#[server(prefix = "/rpc", endpoint = "revoke_brand_key")]
pub async fn revoke_brand_key(id: i64) -> Result<(), AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let result = super::insights_store::revoke_key(&state.db, id).await.and_then(|revoked| {
        if revoked {
            Ok("Key revoked.".to_string())
        } else {
            Err(AppError::NotFound("such live key".into()))
        }
    });
    crate::state::admin_redirect("/admin/insights", result)
}

#[component]
pub fn AdminInsightsPage() -> impl IntoView {
    crate::layout::admin_page(
        "Insights — Mercato admin",
        "Brand insights",
        "admin-plans admin-insights",
        "/admin/insights",
        get_insights_admin,
        |admin| view! { <InsightsAdminView admin /> }.into_any(),
    )
}

#[component]
fn InsightsAdminView(admin: InsightsAdmin) -> impl IntoView {
    let create = ServerAction::<CreateBrandKey>::new();
    let revoke = ServerAction::<RevokeBrandKey>::new();
    let k = super::insights::K;
    view! {
        <crate::layout::AdminMessage />
        {admin
            .new_key
            .map(|key| {
                view! {
                    <section class="card" data-testid="new-brand-key">
                        <h2>"New key"</h2>
                        <p>"Copy it now: it is stored only as a hash and cannot be shown again."</p>
                        <input readonly data-testid="brand-key-value" value=key aria-label="New brand key" />
                    </section>
                }
            })}
        <section class="card">
            <h2>"Download insights"</h2>
            <p class="muted">
                {format!(
                    "Rating distribution, reviews per month, top terms and questions asked, from published items only. \
                     Anything fewer than {k} people stand behind is left out."
                )}
            </p>
            <form method="get" action="/api/v1/admin/insights" class="plan-form" data-testid="insights-form">
                <label for="insights-category">"Category"</label>
                <select id="insights-category" name="category">
                    {admin
                        .categories
                        .iter()
                        .map(|slug| view! { <option value=slug.clone()>{slug.clone()}</option> })
                        .collect_view()}
                </select>
                <label for="insights-format">"Format"</label>
                <select id="insights-format" name="format">
                    <option value="csv">"CSV"</option>
                    <option value="json">"JSON"</option>
                </select>
                <button type="submit" data-testid="insights-download">"Download"</button>
            </form>
            <p class="muted">
                "One product: /api/v1/admin/insights?product=SKU&format=csv. Brands call /api/v1/insights with their key as a bearer token."
            </p>
        </section>
        <section class="card">
            <h2>"Brand keys"</h2>
            <ActionForm action=create attr:class="plan-form">
                <label for="key-brand">"Brand"</label>
                <select id="key-brand" name="brand">
                    {admin
                        .brands
                        .iter()
                        .map(|brand| view! { <option value=brand.clone()>{brand.clone()}</option> })
                        .collect_view()}
                </select>
                <label for="key-label">"Label"</label>
                <input id="key-label" name="label" maxlength="80" required />
                <button type="submit" data-testid="brand-key-create">"Create key"</button>
            </ActionForm>
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Brand"</th>
                        <th scope="col">"Label"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Action"</th>
                    </tr>
                </thead>
                <tbody>
                    {admin
                        .keys
                        .into_iter()
                        .map(|key| {
                            let id = key.id;
                            view! {
                                <tr data-testid="brand-key" data-key-id=id>
                                    <td>{key.brand}</td>
                                    <td>{key.label}</td>
                                    <td>{crate::shared::format_utc_date(key.created_at)}</td>
                                    <td>{if key.revoked { "revoked" } else { "live" }}</td>
                                    <td>
                                        {(!key.revoked)
                                            .then(|| {
                                                view! {
                                                    <ActionForm action=revoke attr:class="inline-form">
                                                        <input type="hidden" name="id" value=id />
                                                        <button type="submit" data-testid="brand-key-revoke">"Revoke"</button>
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
        </section>
    }
}
