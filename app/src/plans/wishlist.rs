//! The wishlist, a feature plans sell: products saved for later, flagged when one that was
//! out of stock comes back.

#[cfg(feature = "ssr")]
use super::domain::Feature;
use super::domain::Gate;
use crate::catalog::domain::Product;
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WishlistItem {
    pub product: Product,
    pub added_at: i64,
    /// The product was out of stock while on the list and is available again.
    pub back_in_stock: bool,
}

/// `/wishlist`: the items, or why they cannot be shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WishlistPage {
    pub gate: Gate,
    pub items: Vec<WishlistItem>,
}

/// The wishlist control on a product page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WishlistButton {
    pub gate: Gate,
    pub saved: bool,
}

#[server(prefix = "/rpc")]
pub async fn get_wishlist_page() -> Result<WishlistPage, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let gate = super::ssr::gate(&state, &identity, Feature::Wishlist, true).await?;
    let items = match (&gate, &identity.user) {
        (Gate::Open, Some(user)) => store::list(&state.db, user.id).await?,
        _ => Vec::new(),
    };
    Ok(WishlistPage { gate, items })
}

#[server(prefix = "/rpc")]
pub async fn get_wishlist_button(sku: String) -> Result<WishlistButton, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let gate = super::ssr::gate(&state, &identity, Feature::Wishlist, true).await?;
    let saved = match (&gate, &identity.user) {
        (Gate::Open, Some(user)) => store::contains(&state.db, user.id, &sku).await?,
        _ => false,
    };
    Ok(WishlistButton { gate, saved })
}

/// Saves or unsaves a product (the product page's button), then goes back to `back`.
#[server(prefix = "/rpc")]
pub async fn toggle_wishlist(sku: String, back: Option<String>) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let back = crate::accounts::api::safe_next(back.as_deref());
    let Some(user) = identity.user.as_ref() else {
        crate::state::redirect(&format!("/login?next={}", crate::accounts::api::url_escape(&back)));
        return Ok(());
    };
    super::ssr::require(&state, &identity, Feature::Wishlist).await?;
    let sku = crate::shared::Sku::parse(&sku).map_err(|_| AppError::NotFound(format!("product '{sku}'")))?;
    if !store::remove(&state.db, user.id, &sku).await? {
        store::add(&state.db, user.id, &sku).await?;
    }
    crate::state::redirect(&back);
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod store {
    use super::WishlistItem;
    use crate::catalog::ssr::{product_from_row, PRODUCT_COLUMNS};
    use crate::db::Db;
    use crate::events::{self, Event};
    use crate::shared::{now_ms, AppError, Sku};
    use sqlx::{AnyConnection, Row};

    /// Keeps the back-in-stock flags in step with stock changes.
    pub const WISHLIST_CONSUMER: &str = "wishlist";

    /// At most this many items per account: a list, not a second catalog.
    const MAX_ITEMS: i64 = 200;

    pub async fn list(db: &Db, user_id: i64) -> Result<Vec<WishlistItem>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT {PRODUCT_COLUMNS}, w.added_at, w.back_in_stock_at FROM wishlist_items w \
             JOIN products p ON p.sku = w.sku WHERE w.user_id = $1 ORDER BY w.added_at DESC, p.sku"
        ))
        .bind(user_id)
        .fetch_all(db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let mut product = product_from_row(row)?;
                product.description.clear();
                let back_in_stock_at: Option<i64> = row.try_get("back_in_stock_at")?;
                Ok(WishlistItem {
                    back_in_stock: back_in_stock_at.is_some() && product.stock > 0,
                    product,
                    added_at: row.try_get("added_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(AppError::from)
    }

    pub async fn contains(db: &Db, user_id: i64, sku: &str) -> Result<bool, AppError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM wishlist_items WHERE user_id = $1 AND sku = $2")
            .bind(user_id)
            .bind(sku)
            .fetch_optional(db.pool())
            .await?;
        Ok(found.is_some())
    }

    /// Adds a product (again: no change). A product saved while out of stock is watched.
    pub async fn add(db: &Db, user_id: i64, sku: &Sku) -> Result<(), AppError> {
        let mut tx = db.begin_write().await?;
        let stock: Option<i64> = sqlx::query_scalar("SELECT stock FROM products WHERE sku = $1")
            .bind(sku.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let stock = stock.ok_or_else(|| AppError::NotFound(format!("product '{sku}'")))?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wishlist_items WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        if count >= MAX_ITEMS {
            return Err(AppError::Conflict(format!("A wishlist holds at most {MAX_ITEMS} products.")));
        }
        sqlx::query(
            "INSERT INTO wishlist_items (user_id, sku, added_at, awaiting_stock) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, sku) DO NOTHING",
        )
        .bind(user_id)
        .bind(sku.as_str())
        .bind(now_ms())
        .bind(i64::from(stock == 0))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a product; false when it was not on the list.
    pub async fn remove(db: &Db, user_id: i64, sku: &Sku) -> Result<bool, AppError> {
        let removed = sqlx::query("DELETE FROM wishlist_items WHERE user_id = $1 AND sku = $2")
            .bind(user_id)
            .bind(sku.as_str())
            .execute(db.pool())
            .await?;
        Ok(removed.rows_affected() > 0)
    }

    #[derive(serde::Deserialize)]
    struct StockChanged {
        sku: String,
        previous: i64,
        stock: i64,
    }

    /// Outbox consumer of `stock_changed`: sold out → watch the product on every list that
    /// has it; back from zero → flag it on the lists that watched.
    pub async fn apply_wishlist(conn: &mut AnyConnection, event: &Event) -> Result<(), sqlx::Error> {
        if event.kind != events::kind::STOCK_CHANGED {
            return Ok(());
        }
        let change: StockChanged =
            serde_json::from_value(event.payload.clone()).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        if change.stock == 0 {
            sqlx::query("UPDATE wishlist_items SET awaiting_stock = 1, back_in_stock_at = NULL WHERE sku = $1")
                .bind(&change.sku)
                .execute(&mut *conn)
                .await?;
        } else if change.previous == 0 {
            sqlx::query(
                "UPDATE wishlist_items SET awaiting_stock = 0, back_in_stock_at = $1 WHERE sku = $2 AND awaiting_stock = 1",
            )
            .bind(event.created_at)
            .bind(&change.sku)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}
