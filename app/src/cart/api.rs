//! Cart and checkout server functions. Each form action answers a plain form post with a
//! redirect (success page, or the form page with `?error=<code>`), so the flows work with
//! JavaScript off exactly as with it on.

#[cfg(feature = "ssr")]
use super::domain::CartNotice;
use super::domain::{Cart, Order};
use crate::accounts::domain::SessionInfo;
use crate::shared::AppError;
use leptos::prelude::*;

/// Who is logged in and how many items are in the cart (the header).
#[server(prefix = "/rpc")]
pub async fn get_session_info() -> Result<SessionInfo, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let cart_count = super::ssr::cart_count(&state.db, &super::ssr::CartOwner::of(&identity)).await?;
    let flags = crate::flags::ssr::for_request(&state).await?;
    Ok(SessionInfo { flags: flags.values(), user: identity.user, cart_count })
}

#[server(prefix = "/rpc")]
pub async fn get_cart() -> Result<Cart, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    super::ssr::get_cart(&state.db, &super::ssr::CartOwner::of(&identity)).await
}

/// Adds to the cart. A refusal the shopper can act on (sold out, too many) is not an error
/// of the call: it answers with a redirect to the product page carrying the reason, which
/// works the same with and without JavaScript.
#[server(prefix = "/rpc")]
pub async fn add_to_cart(sku: String, quantity: Option<String>) -> Result<(), AppError> {
    use crate::shared::{Quantity, Sku};
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let sku = Sku::parse(&sku).map_err(|message| AppError::invalid("sku", message))?;
    let back = |notice: CartNotice| crate::state::redirect(&format!("/products/{sku}?error={}", notice.code()));
    let quantity = match quantity.as_deref().unwrap_or("1").trim().parse::<i64>().map(Quantity::parse) {
        Ok(Ok(quantity)) => quantity,
        _ => {
            back(CartNotice::BadQuantity);
            return Ok(());
        }
    };
    match super::ssr::add_item(&state.db, &super::ssr::CartOwner::of(&identity), &identity.visitor_id, &sku, quantity)
        .await
    {
        Ok(_) => Ok(()),
        Err(AppError::Conflict(message)) if message.contains("out of stock") => {
            back(CartNotice::OutOfStock);
            Ok(())
        }
        Err(AppError::Conflict(_)) => {
            back(CartNotice::NotEnoughStock);
            Ok(())
        }
        Err(AppError::Invalid { .. }) => {
            back(CartNotice::BadQuantity);
            Ok(())
        }
        Err(error) => Err(error),
    }
}

#[server(prefix = "/rpc")]
pub async fn remove_from_cart(sku: String) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let sku = crate::shared::Sku::parse(&sku).map_err(|message| AppError::invalid("sku", message))?;
    super::ssr::remove_item(&state.db, &super::ssr::CartOwner::of(&identity), &sku).await?;
    Ok(())
}

/// Places the order if the total is still the one the shopper saw, then shows it. A changed
/// price or stock sends the shopper back to checkout with the reason (and the new total).
#[server(prefix = "/rpc")]
pub async fn place_order(expected_total_cents: String, redeem_points: Option<String>) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        crate::state::redirect("/login?next=/checkout");
        return Ok(());
    };
    let back = |notice: CartNotice| crate::state::redirect(&format!("/checkout?error={}", notice.code()));
    let Ok(expected_total_cents) = expected_total_cents.trim().parse::<i64>() else {
        back(CartNotice::PriceChanged);
        return Ok(());
    };
    let redeem_points = match redeem_points.as_deref().map(str::trim).filter(|raw| !raw.is_empty()) {
        None => 0,
        Some(raw) => match raw.parse::<i64>() {
            Ok(points) => points,
            Err(_) => {
                back(CartNotice::Points);
                return Ok(());
            }
        },
    };
    if redeem_points > 0 {
        let flag = crate::flags::domain::keys::POINTS_REDEMPTION;
        if !crate::flags::ssr::for_request(&state).await?.is_on(flag) {
            back(CartNotice::Points);
            return Ok(());
        }
    }
    match super::ssr::checkout(
        &state.db,
        &state.loyalty,
        user.id,
        &identity.visitor_id,
        expected_total_cents,
        redeem_points,
    )
    .await
    {
        Ok(order) => {
            crate::state::redirect(&format!("/orders/{}", order.id));
            Ok(())
        }
        Err(AppError::PriceChanged { .. }) => {
            back(CartNotice::PriceChanged);
            Ok(())
        }
        Err(AppError::Invalid { field, .. }) if field == "redeem_points" => {
            back(CartNotice::Points);
            Ok(())
        }
        Err(AppError::Conflict(message)) => {
            back(if message.contains("empty") { CartNotice::EmptyCart } else { CartNotice::StockChanged });
            Ok(())
        }
        Err(error) => Err(error),
    }
}

#[server(prefix = "/rpc")]
pub async fn get_order(id: i64) -> Result<Order, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let user = identity.require_user()?;
    super::ssr::get_order(&state.db, user.id, id).await
}

/// What an order's confirmation page offers after the purchase.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PostPurchase {
    /// Cross-sells of the order's products (the recommendations' eligibility: in stock, not
    /// in the order, not owned).
    pub offers: Vec<crate::catalog::domain::Product>,
    /// Until when (epoch ms) a one-click add-on joins this order; `None` once it cannot.
    pub addon_until: Option<i64>,
}

/// The post-purchase offers of one of the caller's orders; records that they were shown.
#[server(prefix = "/rpc")]
pub async fn get_post_purchase(order_id: i64) -> Result<PostPurchase, AppError> {
    use crate::recommendations::domain::Kind;
    use crate::recommendations::ssr::{recommend, Viewer};
    const N_OFFERS: usize = 4;
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let user = identity.require_user()?;
    let order = super::ssr::get_order(&state.db, user.id, order_id).await?;
    let viewer = Viewer::of(&identity);
    let mut offers: Vec<crate::catalog::domain::Product> = Vec::new();
    for line in &order.lines {
        for product in
            recommend(&state.db, &state.recommendations, Kind::CrossSell, Some(&line.sku), &viewer, 8).await?
        {
            let fresh = !offers.iter().any(|offer| offer.sku == product.sku);
            if fresh && !order.lines.iter().any(|line| line.sku == product.sku) && offers.len() < N_OFFERS {
                offers.push(product);
            }
        }
    }
    let now = crate::shared::now_ms();
    let addon_until = super::domain::addon_open(&order.status, order.created_at, now, state.addon_window_ms)
        .then_some(order.created_at + state.addon_window_ms);
    if !offers.is_empty() {
        let skus: Vec<&str> = offers.iter().map(|offer| offer.sku.as_str()).collect();
        state.events.publish(
            crate::events::kind::POST_PURCHASE_SHOWN,
            format!("order:{order_id}"),
            serde_json::json!({ "order_id": order_id, "skus": skus, "visitor_id": identity.visitor_id }),
        );
    }
    Ok(PostPurchase { offers, addon_until })
}

/// One-click add-on from the confirmation page: one unit of `sku` joins order `order_id` at
/// the current price. Answers with a redirect to the order page, carrying `?added=` or the
/// `?addon=` refusal code.
#[server(prefix = "/rpc", endpoint = "add_to_order")]
pub async fn add_to_order(order_id: String, sku: String) -> Result<(), AppError> {
    use crate::shared::Sku;
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let user = identity.require_user()?;
    let order_id: i64 = order_id.trim().parse().map_err(|_| AppError::invalid("order_id", "Unknown order."))?;
    let sku = Sku::parse(&sku).map_err(|message| AppError::invalid("sku", message))?;
    match super::ssr::add_to_order(
        &state.db,
        user.id,
        &identity.visitor_id,
        order_id,
        &sku,
        state.addon_window_ms,
        &state.loyalty,
    )
    .await?
    {
        Ok(_) => crate::state::redirect(&format!("/orders/{order_id}?added={sku}")),
        Err(refusal) => crate::state::redirect(&format!("/orders/{order_id}?addon={}", refusal.code())),
    }
    Ok(())
}
