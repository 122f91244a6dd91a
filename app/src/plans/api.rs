//! Plan server functions: the pricing page, plan changes, the account's plan and invoices,
//! and the owner's plan editor. Admin functions check the admin role on the server.

// The `#[server]` macro generates code an item-level `allow` does not reach.
#![allow(clippy::too_many_arguments)]

use super::domain::{InvoiceRow, Plan, SubscriptionView, VersionStats};
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// `/pricing`: the plans on sale and, for a logged-in shopper, their subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingPage {
    pub plans: Vec<Plan>,
    pub current: Option<SubscriptionView>,
}

#[server(prefix = "/rpc")]
pub async fn get_pricing_page() -> Result<PricingPage, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let plans = state.plans.plans(&state.db).await?.as_ref().clone();
    let current = match &identity.user {
        Some(user) => Some(super::ssr::subscription_view(&state.db, user.id).await?),
        None => None,
    };
    Ok(PricingPage { plans, current })
}

/// The pricing page's buttons: subscribe, upgrade, downgrade, cancel or resume. Goes back to
/// `/pricing` saying what happened (or why nothing did).
#[server(prefix = "/rpc")]
pub async fn change_plan(plan: String) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        crate::state::redirect("/login?next=/pricing");
        return Ok(());
    };
    match super::ssr::change_plan(&state.db, state.payments.as_ref(), user.id, Some(user.id), plan.trim()).await {
        Ok(outcome) => {
            let change = serde_json::to_value(outcome.change)
                .ok()
                .and_then(|value| value.as_str().map(str::to_string))
                .unwrap_or_default();
            crate::state::redirect(&format!("/pricing?changed={change}&plan={}", outcome.plan));
            Ok(())
        }
        Err(AppError::Conflict(_)) => {
            crate::state::redirect("/pricing?error=unchanged");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// The account page's plan block. `None` when logged out.
#[server(prefix = "/rpc")]
pub async fn get_my_plan() -> Result<Option<(SubscriptionView, Vec<InvoiceRow>)>, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        return Ok(None);
    };
    let view = super::ssr::subscription_view(&state.db, user.id).await?;
    let invoices = super::ssr::invoices(&state.db, Some(user.id), 12).await?;
    Ok(Some((view, invoices)))
}

/// Everything `/admin/plans` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlansAdmin {
    pub plans: Vec<Plan>,
    pub versions: Vec<VersionStats>,
    /// Accounts on the free plan (shoppers without a paid subscription).
    pub free_accounts: i64,
    pub open_invoices: Vec<InvoiceRow>,
    /// (time, e-mail, action, detail), newest first.
    pub audit: Vec<(i64, String, String, String)>,
    pub support_queue: Vec<super::support::SupportRequest>,
}

#[server(prefix = "/rpc")]
pub async fn get_plans_admin() -> Result<PlansAdmin, AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let plans = state.plans.plans(&state.db).await?.as_ref().clone();
    let versions = super::ssr::version_stats(&state.db).await?;
    let shoppers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'shopper'").fetch_one(state.db.pool()).await?;
    let paying: i64 = versions.iter().map(|v| v.subscribers).sum();
    Ok(PlansAdmin {
        plans,
        versions,
        free_accounts: (shoppers - paying).max(0),
        open_invoices: super::ssr::invoices(&state.db, None, 50).await?,
        audit: super::ssr::recent_audit(&state.db, 20).await?,
        support_queue: super::support::store::list(&state.db, None, 50).await?,
    })
}

/// Saves a plan from the editor's form (one checkbox per feature). Creates a new version.
#[server(prefix = "/rpc")]
pub async fn save_plan(
    key: String,
    name: String,
    price: String,
    basic_search: Option<String>,
    view_products: Option<String>,
    advanced_filters: Option<String>,
    wishlist: Option<String>,
    personalized_recommendations: Option<String>,
    priority_support: Option<String>,
) -> Result<(), AppError> {
    use super::domain::{validate_plan_edit, Feature};
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    let checked = [
        (Feature::BasicSearch, basic_search),
        (Feature::ViewProducts, view_products),
        (Feature::AdvancedFilters, advanced_filters),
        (Feature::Wishlist, wishlist),
        (Feature::PersonalizedRecommendations, personalized_recommendations),
        (Feature::PrioritySupport, priority_support),
    ];
    let features: Vec<Feature> =
        checked.into_iter().filter(|(_, value)| value.is_some()).map(|(feature, _)| feature).collect();
    let back = |query: String| crate::state::redirect(&format!("/admin/plans?{query}#plan-{key}"));
    let Some(price) = crate::shared::Money::parse(&price) else {
        back(format!("error={}&key={key}", crate::accounts::api::url_escape("Enter a price like 4.99.")));
        return Ok(());
    };
    match validate_plan_edit(&key, &name, price.cents(), &features) {
        Ok(edit) => {
            let plan = super::ssr::save_plan(&state, &key, &edit, admin.id).await?;
            back(format!("saved={key}&version={}", plan.version));
        }
        Err(AppError::Invalid { message, .. }) => {
            back(format!("error={}&key={key}", crate::accounts::api::url_escape(&message)));
        }
        Err(error) => return Err(error),
    }
    Ok(())
}

/// Records the payment of an open invoice (the built-in provider's "mark paid").
#[server(prefix = "/rpc")]
pub async fn mark_invoice_paid(id: i64) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    super::ssr::record_payment(&state.db, id, Some(admin.id)).await?;
    crate::state::redirect(&format!("/admin/plans?paid={id}#invoices"));
    Ok(())
}

/// Closes a support request.
#[server(prefix = "/rpc")]
pub async fn resolve_support_request(id: i64) -> Result<(), AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    super::support::store::resolve(&state.db, id).await?;
    crate::state::redirect(&format!("/admin/plans?answered={id}#support"));
    Ok(())
}
