//! Pricing admin server functions. Every one checks the admin role on the server.

// `save_pricing_rules` takes one argument per form field (what a plain HTML form posts), and
// the `#[server]` macro generates code an item-level `allow` does not reach.
#![allow(clippy::too_many_arguments)]

use super::domain::RuleSet;
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A product as the pricing admin sees it (cost included: admins only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PricedProduct {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub base_cents: i64,
    pub cost_cents: i64,
    pub stock: i64,
    pub price_cents: i64,
}

/// One point of a product's price history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PricePoint {
    pub price_cents: i64,
    pub reason: String,
    /// stock, velocity, competitor or manual; `None` for the listing price and older rows.
    pub cause: Option<String>,
    pub created_at: i64,
}

/// One recent price change anywhere in the shop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PriceChangeRow {
    pub sku: String,
    pub price_cents: i64,
    pub reason: String,
    pub cause: Option<String>,
    pub created_at: i64,
}

/// One competitor's current offer for a product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OfferView {
    pub source: String,
    pub price_cents: i64,
    pub observed_at: i64,
}

/// The last 30 days of one product replayed under the rules in force and under a proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SimulationReport {
    pub sku: String,
    pub n_events: usize,
    pub current: super::domain::Simulation,
    pub proposed: super::domain::Simulation,
}

/// One row of the pricing audit log, with who made the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub scope: String,
    pub who: Option<String>,
    pub created_at: i64,
    pub before: Option<RuleSet>,
    pub after: Option<RuleSet>,
}

/// Everything `/admin/pricing` shows for one scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingAdmin {
    pub scope: String,
    /// The rules in force for the scope (own or inherited).
    pub rules: RuleSet,
    /// Whether the scope has rules of its own (and so can be reset).
    pub is_override: bool,
    pub categories: Vec<(String, String)>,
    pub products: Vec<PricedProduct>,
    /// The product whose history and preview are shown.
    pub sample: Option<PricedProduct>,
    pub history: Vec<PricePoint>,
    pub audit: Vec<AuditEntry>,
    /// The latest price changes across the shop, with reason and cause.
    pub recent: Vec<PriceChangeRow>,
    /// The sample product's current competitor offers.
    pub offers: Vec<OfferView>,
    /// The sample product under the proposed rules, when a simulation was asked for.
    pub simulation: Option<SimulationReport>,
    /// Post-purchase offers over the last 30 days: (shown, clicked, added to the order).
    pub post_purchase: (i64, i64, i64),
}

/// Replays the last 30 days of `sku` under the rules in force for it and under `proposed`.
#[cfg(feature = "ssr")]
pub async fn simulate_for(db: &crate::db::Db, sku: &str, proposed: &RuleSet) -> Result<SimulationReport, AppError> {
    use super::domain::simulate;
    if let Err(problems) = proposed.validate() {
        let (field, message) = problems.into_iter().next().unwrap_or(("rules", "invalid".into()));
        return Err(AppError::invalid(field, message));
    }
    let current_rules = super::ssr::rules_in_force(db, &super::ssr::Scope::Product(sku.to_string())).await?;
    let (start, events) = super::signals::simulation_inputs(db, sku, crate::shared::now_ms()).await?;
    Ok(SimulationReport {
        sku: sku.to_string(),
        n_events: events.len(),
        current: simulate(&start, &events, &current_rules),
        proposed: simulate(&start, &events, proposed),
    })
}

/// `simulate`: the proposed rules as JSON (the page parses the draft form into it); the
/// simulation runs on the sample product and saves nothing.
#[server(prefix = "/rpc")]
pub async fn get_pricing_admin(
    scope: Option<String>,
    sku: Option<String>,
    simulate: Option<String>,
) -> Result<PricingAdmin, AppError> {
    use super::ssr::{self as pricing, Scope};
    use sqlx::Row;
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let scope = scope.as_deref().and_then(Scope::parse).unwrap_or(Scope::Global);
    let rules = pricing::rules_in_force(&state.db, &scope).await?;
    let is_override = pricing::saved_rules(&state.db, &scope).await?.is_some();
    let categories = crate::catalog::ssr::list_categories(&state.db)
        .await?
        .into_iter()
        .map(|category| (category.slug, category.name))
        .collect();
    let rows = sqlx::query(
        "SELECT sku, name, category_slug, base_cents, cost_cents, stock, price_cents FROM products ORDER BY sku",
    )
    .fetch_all(state.db.pool())
    .await?;
    let products = rows
        .iter()
        .map(|row| {
            Ok(PricedProduct {
                sku: row.try_get("sku")?,
                name: row.try_get("name")?,
                category: row.try_get("category_slug")?,
                base_cents: row.try_get("base_cents")?,
                cost_cents: row.try_get("cost_cents")?,
                stock: row.try_get("stock")?,
                price_cents: row.try_get("price_cents")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // The sample: the asked-for product, else the scope's product, else the first in scope.
    let wanted = sku.or(match &scope {
        Scope::Product(sku) => Some(sku.clone()),
        _ => None,
    });
    let sample = wanted.and_then(|sku| products.iter().find(|p| p.sku == sku).cloned()).or_else(|| match &scope {
        Scope::Category(slug) => products.iter().find(|p| &p.category == slug).cloned(),
        _ => products.first().cloned(),
    });
    let history = match &sample {
        Some(product) => pricing::price_history(&state.db, &product.sku, 200).await?,
        None => Vec::new(),
    };
    let audit = pricing::audit_log(&state.db, 20).await?;
    let recent = pricing::recent_changes(&state.db, 20).await?;
    let offers = match &sample {
        Some(product) => super::signals::offers_for(&state.db, &product.sku).await?,
        None => Vec::new(),
    };
    let proposed: Option<RuleSet> = simulate.as_deref().and_then(|raw| serde_json::from_str(raw).ok());
    let simulation = match (&sample, proposed) {
        (Some(product), Some(proposed)) => Some(simulate_for(&state.db, &product.sku, &proposed).await?),
        _ => None,
    };
    let post_purchase = crate::cart::ssr::post_purchase_stats(
        &state.db,
        crate::shared::now_ms() - super::signals::SIMULATION_WINDOW_MS,
    )
    .await?;
    Ok(PricingAdmin {
        post_purchase,
        scope: scope.key(),
        rules,
        is_override,
        categories,
        products,
        sample,
        history,
        audit,
        recent,
        offers,
        simulation,
    })
}

/// Imports competitor offers from CSV text (`sku,source,price_cents,observed_at`). All or
/// nothing: any bad line sends the form back with every problem and its line.
#[server(prefix = "/rpc", endpoint = "import_competitor_csv")]
pub async fn import_competitor_csv(csv: String) -> Result<(), AppError> {
    use super::offers::{parse_csv, OfferProblem};
    use super::signals::{import_offers, ImportError};
    use crate::accounts::api::url_escape;
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let back_with = |problems: Vec<OfferProblem>| {
        // At most 20 problems travel back: enough to fix a file, short enough for a URL.
        let text: Vec<String> =
            problems.iter().take(20).map(|p| format!("{}\t{}\t{}", p.row, p.field, p.message)).collect();
        crate::state::redirect(&format!("/admin/pricing?csv_problems={}", url_escape(&text.join("\n"))));
    };
    let offers = match parse_csv(&csv, crate::shared::now_ms()) {
        Ok(offers) => offers,
        Err(problems) => {
            back_with(problems);
            return Ok(());
        }
    };
    match import_offers(&state.db, &offers).await {
        Ok(summary) => crate::state::redirect(&format!(
            "/admin/pricing?imported={}&repriced={}",
            summary.imported, summary.repriced
        )),
        // Offers are data rows; the header is line 1 of the file, so a row is line row + 1.
        Err(ImportError::Row(problem)) => {
            back_with(vec![OfferProblem { row: offers_line(&csv, problem.row), ..problem }])
        }
        Err(ImportError::App(error)) => return Err(error),
    }
    Ok(())
}

/// The line of the file that holds the `row`-th offer (blank lines are skipped by the parser).
#[cfg(feature = "ssr")]
fn offers_line(csv: &str, row: usize) -> usize {
    csv.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .nth(row)
        .map(|(index, _)| index + 1)
        .unwrap_or(row)
}

/// Saves the rules for a scope. Invalid input goes back to the form with `?error=<field>`
/// and the typed values, so nothing is lost.
#[server(prefix = "/rpc")]
pub async fn save_pricing_rules(
    scope: String,
    low_stock_below: String,
    low_stock_markup_pct: String,
    high_stock_above: String,
    high_stock_discount_pct: String,
    min_margin_pct: String,
    ceiling_pct: String,
    max_step_pct: String,
    rounding: String,
    cooldown_minutes: String,
    velocity_window_days: String,
    fast_cover_days_below: String,
    fast_markup_pct: String,
    slow_no_sale_days: String,
    slow_cover_days_above: String,
    slow_discount_pct: String,
    competitor: String,
    competitor_pct: String,
    competitor_max_age_hours: String,
) -> Result<(), AppError> {
    use super::form::RuleForm;
    use super::ssr::{save_rules, Scope};
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let admin = identity.require_admin()?;
    let scope = Scope::parse(&scope).ok_or_else(|| AppError::invalid("scope", "Unknown scope."))?;
    let form = RuleForm {
        low_stock_below,
        low_stock_markup_pct,
        high_stock_above,
        high_stock_discount_pct,
        min_margin_pct,
        ceiling_pct,
        max_step_pct,
        rounding,
        cooldown_minutes,
        velocity_window_days,
        fast_cover_days_below,
        fast_markup_pct,
        slow_no_sale_days,
        slow_cover_days_above,
        slow_discount_pct,
        competitor,
        competitor_pct,
        competitor_max_age_hours,
    };
    let query = |extra: &str| {
        let mut query = format!("scope={}", crate::accounts::api::url_escape(&scope.key()));
        for field in super::form::FIELDS {
            query.push_str(&format!("&{field}={}", crate::accounts::api::url_escape(&form.value(field))));
        }
        query.push_str(extra);
        query
    };
    match form.parse() {
        Ok(rules) => {
            save_rules(&state.db, &scope, &rules, Some(admin.id)).await?;
            crate::state::redirect(&format!(
                "/admin/pricing?scope={}&saved=1",
                crate::accounts::api::url_escape(&scope.key())
            ));
        }
        Err(problems) => {
            let field = problems.first().map(|(field, _)| *field).unwrap_or("form");
            crate::state::redirect(&format!("/admin/pricing?{}", query(&format!("&error={field}"))));
        }
    }
    Ok(())
}

/// Removes a category or product override.
#[server(prefix = "/rpc")]
pub async fn reset_pricing_rules(scope: String) -> Result<(), AppError> {
    use super::ssr::{delete_rules, Scope};
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let admin = identity.require_admin()?;
    let scope = Scope::parse(&scope).ok_or_else(|| AppError::invalid("scope", "Unknown scope."))?;
    delete_rules(&state.db, &scope, Some(admin.id)).await?;
    crate::state::redirect(&format!("/admin/pricing?scope={}", crate::accounts::api::url_escape(&scope.key())));
    Ok(())
}
