//! Recommendation queries (server only).

use crate::catalog::domain::Product;
use crate::catalog::ssr::{product_from_row, PRODUCT_COLUMNS};
use crate::db::Db;
use crate::shared::AppError;

/// Picks for one shopper: in-stock products of the categories they bought from (weighted by
/// units), best sellers first, leaving out what they already bought or have in the cart;
/// topped up with the shop's best sellers when their history is short. Reads per-product
/// counters kept by the outbox, never a scan of all orders.
#[tracing::instrument(name = "recommendations.for_you", skip(db))]
pub async fn for_you(db: &Db, user_id: i64, limit: i64) -> Result<Vec<Product>, AppError> {
    let owner = crate::cart::ssr::CartOwner::User(user_id).key();
    let rows = sqlx::query(&format!(
        "WITH mine AS (SELECT DISTINCT l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.user_id = $1), \
         taste AS (SELECT p.category_slug, SUM(l.quantity) AS units FROM order_lines l \
                   JOIN orders o ON o.id = l.order_id JOIN products p ON p.sku = l.sku \
                   WHERE o.user_id = $1 GROUP BY p.category_slug) \
         SELECT {PRODUCT_COLUMNS} FROM products p \
         LEFT JOIN product_stats s ON s.sku = p.sku \
         LEFT JOIN taste t ON t.category_slug = p.category_slug \
         WHERE p.stock > 0 AND p.sku NOT IN (SELECT sku FROM mine) \
           AND p.sku NOT IN (SELECT sku FROM cart_items WHERE owner = $2) \
         ORDER BY COALESCE(t.units, 0) DESC, COALESCE(s.units_sold, 0) DESC, COALESCE(s.views, 0) DESC, p.sku \
         LIMIT $3"
    ))
    .bind(user_id)
    .bind(owner)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut products = rows.iter().map(product_from_row).collect::<Result<Vec<_>, _>>()?;
    for product in &mut products {
        product.description.clear();
    }
    Ok(products)
}
