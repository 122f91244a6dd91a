//! Catalog server functions: thin wrappers over `ssr` that the pages call. Each checks the
//! plan feature it serves (search, product pages, advanced filters, picks for you).

// The `#[server]` macro generates code an item-level `allow` does not reach.
#![allow(clippy::too_many_arguments)]

use super::domain::{Category, FilterQuery, Product};
use crate::plans::domain::Gate;
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The home page's product shelf: picks for this shopper, or the shop's best sellers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shelf {
    /// `for_you` or `popular`.
    pub kind: String,
    pub products: Vec<Product>,
    /// Whether "for you" is locked for this shopper (and which plan unlocks it).
    pub for_you: Gate,
}

/// Everything the home page shows, in one round trip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    pub categories: Vec<Category>,
    pub shelf: Shelf,
    /// The hero variant this visitor is assigned (the same one on every render).
    pub hero: crate::experiments::domain::Hero,
    /// The banner for the visitor's segment, when the shop has one.
    pub banner: Option<crate::experiments::domain::Banner>,
}

#[server(prefix = "/rpc")]
pub async fn get_home() -> Result<HomeData, AppError> {
    use crate::experiments::ssr::{banner, request_assignments, segment_of};
    use crate::plans::domain::Feature;
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let assignments = request_assignments().await;
    let segment = segment_of(&state.db, identity.user.as_ref().map(|u| u.id), state.high_value_cents).await?;
    let hero = state.experiments.hero(&state.events, &identity.visitor_id, segment, &assignments);
    let banner = banner(&state.db, segment).await?;
    let categories = super::ssr::list_categories(&state.db).await?;
    let for_you = crate::plans::ssr::gate(&state, &identity, Feature::PersonalizedRecommendations, false).await?;
    let shelf = match (&for_you, &identity.user) {
        (Gate::Open, Some(_)) => Shelf {
            kind: "for_you".into(),
            products: crate::recommendations::ssr::for_you(
                &state.db,
                &crate::recommendations::ssr::Viewer::of(&identity),
                8,
            )
            .await?,
            for_you,
        },
        _ => Shelf {
            kind: "popular".into(),
            products: without_descriptions(super::ssr::popular_products(&state.db, 8).await?),
            for_you,
        },
    };
    Ok(HomeData { categories, shelf, hero, banner })
}

#[server(prefix = "/rpc")]
pub async fn get_categories() -> Result<Vec<Category>, AppError> {
    let state = crate::state::state()?;
    super::ssr::list_categories(&state.db).await
}

/// The filter panel of a listing: whether filters may be used, what was asked for (to
/// refill the form) and the first problem with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterState {
    pub gate: Gate,
    pub query: FilterQuery,
    /// Filters were asked for but not applied (locked or invalid).
    pub ignored: bool,
    /// (field, message) of an invalid filter.
    pub error: Option<(String, String)>,
}

/// Applies the filters when they parse and the plan allows them; otherwise lists without
/// them and says why (a page never fails over a filter).
#[cfg(feature = "ssr")]
async fn filters_for(
    state: &crate::state::AppState,
    identity: &crate::accounts::ssr::Identity,
    entitlements: &crate::plans::domain::Entitlements,
    query: FilterQuery,
) -> Result<(super::domain::Filters, FilterState), AppError> {
    use super::domain::Filters;
    use crate::plans::domain::Feature;
    let gate = crate::plans::ssr::gate_of(state, identity, entitlements, Feature::AdvancedFilters, false).await?;
    let (filters, error) = match query.parse() {
        Ok(filters) => (filters, None),
        Err(AppError::Invalid { field, message }) => (Filters::default(), Some((field, message))),
        Err(error) => return Err(error),
    };
    let allowed = gate.is_open() || filters.is_empty();
    let ignored = error.is_some() || !allowed;
    let applied = if allowed { filters } else { Filters::default() };
    Ok((applied, FilterState { gate, query, ignored, error }))
}

/// A category page: the category and its products, optionally narrowed by a search and
/// the advanced filters.
#[server(prefix = "/rpc")]
pub async fn get_category_page(
    slug: String,
    q: Option<String>,
    min_price: Option<String>,
    max_price: Option<String>,
    min_rating: Option<String>,
    in_stock: Option<String>,
    sort: Option<String>,
) -> Result<(Category, Vec<Product>, FilterState), AppError> {
    use crate::plans::domain::Feature;
    use crate::plans::ssr::ensure;
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let entitlements = crate::plans::ssr::entitlements(&state, &identity).await?;
    ensure(&state, &entitlements, Feature::ViewProducts).await?;
    let category = super::ssr::get_category(&state.db, &slug).await?;
    let search = super::domain::parse_search(q.as_deref());
    if search.is_some() {
        ensure(&state, &entitlements, Feature::BasicSearch).await?;
    }
    let query = FilterQuery { min_price, max_price, min_rating, in_stock, sort, ..Default::default() };
    let (filters, filter_state) = filters_for(&state, &identity, &entitlements, query).await?;
    let products = super::ssr::list_products(&state.db, Some(&category.slug), search.as_deref(), &filters).await?;
    Ok((category, without_descriptions(products), filter_state))
}

/// The search page: matching products (none without a search), filtered like a category.
#[server(prefix = "/rpc")]
pub async fn search_products(
    q: Option<String>,
    min_price: Option<String>,
    max_price: Option<String>,
    min_rating: Option<String>,
    in_stock: Option<String>,
    sort: Option<String>,
) -> Result<(Vec<Product>, FilterState), AppError> {
    use crate::plans::domain::Feature;
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let search = super::domain::parse_search(q.as_deref());
    let entitlements = crate::plans::ssr::require(&state, &identity, Feature::BasicSearch).await?;
    let query = FilterQuery { min_price, max_price, min_rating, in_stock, sort, ..Default::default() };
    let (filters, filter_state) = filters_for(&state, &identity, &entitlements, query).await?;
    let products = super::ssr::list_products(&state.db, None, search.as_deref(), &filters).await?;
    Ok((without_descriptions(products), filter_state))
}

/// Product tiles do not show descriptions; leaving them out keeps listing pages (and the
/// data they carry for hydration) a third smaller.
#[cfg(feature = "ssr")]
fn without_descriptions(mut products: Vec<Product>) -> Vec<Product> {
    for product in &mut products {
        product.description.clear();
    }
    products
}

/// A product page; counts as a view (an outbox event).
#[server(prefix = "/rpc")]
pub async fn get_product_page(sku: String) -> Result<Product, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    crate::plans::ssr::require(&state, &identity, crate::plans::domain::Feature::ViewProducts).await?;
    let sku = crate::shared::Sku::parse(&sku).map_err(|_| AppError::NotFound(format!("product '{sku}'")))?;
    let product = super::ssr::get_product(&state.db, &sku).await?;
    super::ssr::record_view(&state.events, &sku, &identity.visitor_id);
    Ok(product)
}
