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
pub struct PricePoint {
    pub price_cents: i64,
    pub reason: String,
    pub created_at: i64,
}

/// One row of the pricing audit log, with who made the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
}

#[server(prefix = "/rpc")]
pub async fn get_pricing_admin(scope: Option<String>, sku: Option<String>) -> Result<PricingAdmin, AppError> {
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
    Ok(PricingAdmin { scope: scope.key(), rules, is_override, categories, products, sample, history, audit })
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
