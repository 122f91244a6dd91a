//! Recommendation server functions: the product page's and the cart's blocks (HTML rendered
//! by `fragment`), and adding recommended products to the cart from a plain form.

use crate::shared::AppError;
use leptos::prelude::*;

/// How many products a block shows.
pub const BLOCK_SIZE: i64 = 4;

/// "Frequently bought together" and "Upgrade to" for a product page, as HTML.
#[server(prefix = "/rpc")]
pub async fn get_product_recs_html(sku: String) -> Result<String, AppError> {
    use super::domain::Kind;
    use super::ssr::{recommend, Viewer};
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let sku = crate::shared::Sku::parse(&sku).map_err(|_| AppError::NotFound(format!("product '{sku}'")))?;
    let viewer = Viewer::of(&identity);
    let flag = crate::flags::domain::keys::FREQUENTLY_BOUGHT_TOGETHER;
    let together = if crate::flags::ssr::for_request(&state).await?.is_on(flag) {
        recommend(&state.db, &state.recommendations, Kind::FrequentlyBoughtTogether, Some(sku.as_str()), &viewer, 3)
            .await?
    } else {
        Vec::new()
    };
    let upsell =
        recommend(&state.db, &state.recommendations, Kind::Upsell, Some(sku.as_str()), &viewer, BLOCK_SIZE).await?;
    super::ssr::record_shown(
        &state.events,
        &identity.visitor_id,
        Some(sku.as_str()),
        &[(Kind::FrequentlyBoughtTogether, together.len()), (Kind::Upsell, upsell.len())],
    );
    Ok(super::fragment::product_blocks(sku.as_str(), together, upsell))
}

/// Cross-sells for what is in the cart, as HTML (empty when the cart is).
#[server(prefix = "/rpc")]
pub async fn get_cart_recs_html() -> Result<String, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let viewer = super::ssr::Viewer::of(&identity);
    let products = super::ssr::for_cart(&state.db, &state.recommendations, &viewer, BLOCK_SIZE).await?;
    super::ssr::record_shown(
        &state.events,
        &identity.visitor_id,
        None,
        &[(super::domain::Kind::CrossSell, products.len())],
    );
    Ok(super::fragment::cart_block(products))
}

/// Puts recommended products in the cart (one each), counts the add for the block's
/// click-through, and goes to the cart. Products out of stock by now are skipped.
#[server(prefix = "/rpc", endpoint = "add_recommended")]
pub async fn add_recommended(skus: Option<Vec<String>>, kind: String, from: String) -> Result<(), AppError> {
    use crate::shared::{Quantity, Sku};
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let kind = super::domain::Kind::parse(&kind).ok_or_else(|| AppError::invalid("kind", "Unknown recommendation."))?;
    let skus = skus.unwrap_or_default();
    if skus.is_empty() || skus.len() > 10 {
        return Err(AppError::invalid("skus", "Add 1 to 10 products."));
    }
    let owner = crate::cart::ssr::CartOwner::of(&identity);
    let one = Quantity::parse(1).map_err(|message| AppError::invalid("quantity", message))?;
    let mut added = Vec::new();
    for raw in &skus {
        let sku = Sku::parse(raw).map_err(|message| AppError::invalid("skus", message))?;
        match crate::cart::ssr::add_item(&state.db, &owner, &identity.visitor_id, &sku, one).await {
            Ok(_) => added.push(sku.as_str().to_string()),
            // Sold out since the page was drawn: the rest still go in.
            Err(AppError::Conflict(_)) => {}
            Err(error) => return Err(error),
        }
    }
    let from: String = from.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect();
    state.events.publish(
        crate::events::kind::RECOMMENDATION_ADDED,
        from.clone(),
        serde_json::json!({ "kind": kind.key(), "skus": added, "from": from, "visitor_id": identity.visitor_id }),
    );
    crate::state::redirect("/cart");
    Ok(())
}
