//! Catalog server functions: thin wrappers over `ssr` that the pages call.

use super::domain::{Category, Product};
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the home page shows, in one round trip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    pub categories: Vec<Category>,
    pub popular: Vec<Product>,
    /// The hero variant this visitor is assigned (the same one on every render).
    pub hero: crate::experiments::domain::Hero,
    /// The banner for the visitor's segment, when the shop has one.
    pub banner: Option<crate::experiments::domain::Banner>,
}

#[server(prefix = "/rpc")]
pub async fn get_home() -> Result<HomeData, AppError> {
    use crate::experiments::ssr::{banner, request_assignments, segment_of};
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let assignments = request_assignments().await;
    let segment = segment_of(&state.db, identity.user.as_ref().map(|u| u.id), state.high_value_cents).await?;
    let hero = state.experiments.hero(&state.events, &identity.visitor_id, segment, &assignments);
    let banner = banner(&state.db, segment).await?;
    let categories = super::ssr::list_categories(&state.db).await?;
    let popular = without_descriptions(super::ssr::popular_products(&state.db, 8).await?);
    Ok(HomeData { categories, popular, hero, banner })
}

#[server(prefix = "/rpc")]
pub async fn get_categories() -> Result<Vec<Category>, AppError> {
    let state = crate::state::state()?;
    super::ssr::list_categories(&state.db).await
}

/// A category page: the category and its products, optionally narrowed by a search.
#[server(prefix = "/rpc")]
pub async fn get_category_page(slug: String, q: Option<String>) -> Result<(Category, Vec<Product>), AppError> {
    let state = crate::state::state()?;
    let category = super::ssr::get_category(&state.db, &slug).await?;
    let search = super::domain::parse_search(q.as_deref());
    let products = super::ssr::list_products(&state.db, Some(&category.slug), search.as_deref()).await?;
    Ok((category, without_descriptions(products)))
}

#[server(prefix = "/rpc")]
pub async fn search_products(q: Option<String>) -> Result<Vec<Product>, AppError> {
    let state = crate::state::state()?;
    let search = super::domain::parse_search(q.as_deref());
    Ok(without_descriptions(super::ssr::list_products(&state.db, None, search.as_deref()).await?))
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
    let sku = crate::shared::Sku::parse(&sku).map_err(|_| AppError::NotFound(format!("product '{sku}'")))?;
    let product = super::ssr::get_product(&state.db, &sku).await?;
    super::ssr::record_view(&state.events, &sku, &identity.visitor_id);
    Ok(product)
}
