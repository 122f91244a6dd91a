//! Recommendation storage and queries (server only). The `recommendations` outbox consumer
//! keeps co-purchase counts per product pair and the units each account bought of each
//! product (from `order_placed`), and each visitor's recent views (from `product_viewed`);
//! every query reads those small tables and per-product counters, never the orders, so it
//! costs the same at a million order lines and for a customer with a long history.

use super::domain::{order_pairs, Kind, RecRules};
use crate::accounts::ssr::Identity;
use crate::catalog::domain::Product;
use crate::catalog::ssr::{product_from_row, PRODUCT_COLUMNS};
use crate::db::Db;
use crate::events::{kind as event_kind, Event};
use crate::shared::AppError;
use serde::Deserialize;
use sqlx::AnyConnection;

/// The consumer that keeps `co_purchases` and `visitor_views`.
pub const RECOMMENDATIONS_CONSUMER: &str = "recommendations";
/// Recent views kept per visitor.
const VIEWS_KEPT: i64 = 20;

#[derive(Deserialize)]
struct OrderPlaced {
    user_id: i64,
    lines: Vec<Line>,
}

#[derive(Deserialize)]
struct Line {
    sku: String,
    quantity: i64,
}

#[derive(Deserialize)]
struct AddonAdded {
    user_id: i64,
    sku: String,
}

#[derive(Deserialize)]
struct Viewed {
    sku: String,
    visitor_id: String,
}

/// Applies one event. An order adds one to each pair of its distinct products (both
/// directions) and to the order total; a view moves the product to the top of the visitor's
/// recent views.
pub async fn apply_recommendations(conn: &mut AnyConnection, event: &Event) -> Result<(), sqlx::Error> {
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    match event.kind.as_str() {
        event_kind::ORDER_PLACED => {
            let order: OrderPlaced = serde_json::from_value(event.payload.clone()).map_err(decode)?;
            for line in &order.lines {
                sqlx::query(
                    "INSERT INTO user_products (user_id, sku, units) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, sku) DO UPDATE SET units = user_products.units + excluded.units",
                )
                .bind(order.user_id)
                .bind(&line.sku)
                .bind(line.quantity)
                .execute(&mut *conn)
                .await?;
            }
            let skus: Vec<String> = order.lines.into_iter().map(|line| line.sku).collect();
            add_order(conn, &skus).await?;
        }
        // What the shopper now owns, so it is not offered again. Not a co-purchase: the
        // add-on was picked from these very recommendations, and counting it would feed
        // them their own output.
        event_kind::ORDER_ADDON_ADDED => {
            let addon: AddonAdded = serde_json::from_value(event.payload.clone()).map_err(decode)?;
            sqlx::query(
                "INSERT INTO user_products (user_id, sku, units) VALUES ($1, $2, 1) \
                 ON CONFLICT (user_id, sku) DO UPDATE SET units = user_products.units + 1",
            )
            .bind(addon.user_id)
            .bind(&addon.sku)
            .execute(&mut *conn)
            .await?;
        }
        event_kind::PRODUCT_VIEWED => {
            let view: Viewed = serde_json::from_value(event.payload.clone()).map_err(decode)?;
            sqlx::query(
                "INSERT INTO visitor_views (visitor_id, sku, viewed_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (visitor_id, sku) DO UPDATE SET viewed_at = excluded.viewed_at",
            )
            .bind(&view.visitor_id)
            .bind(&view.sku)
            .bind(event.created_at)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "DELETE FROM visitor_views WHERE visitor_id = $1 AND viewed_at < \
                 (SELECT MIN(viewed_at) FROM (SELECT viewed_at FROM visitor_views WHERE visitor_id = $1 \
                  ORDER BY viewed_at DESC LIMIT $2) AS kept)",
            )
            .bind(&view.visitor_id)
            .bind(VIEWS_KEPT)
            .execute(&mut *conn)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Counts one order into the co-purchase table.
pub async fn add_order(conn: &mut AnyConnection, skus: &[String]) -> Result<(), sqlx::Error> {
    for (a, b) in order_pairs(skus) {
        sqlx::query(
            "INSERT INTO co_purchases (sku_a, sku_b, orders) VALUES ($1, $2, 1) \
             ON CONFLICT (sku_a, sku_b) DO UPDATE SET orders = co_purchases.orders + 1",
        )
        .bind(a)
        .bind(b)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE co_purchase_totals SET orders = orders + 1 WHERE id = 1").execute(&mut *conn).await?;
    Ok(())
}

/// Rebuilds the co-purchase table from all order lines in one statement: for imported
/// history (the seed), which arrives without events. Live orders never take this path.
pub async fn rebuild(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM co_purchases").execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO co_purchases (sku_a, sku_b, orders) \
         SELECT a.sku, b.sku, COUNT(*) FROM order_lines a JOIN order_lines b ON b.order_id = a.order_id AND b.sku <> a.sku \
         GROUP BY a.sku, b.sku",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE co_purchase_totals SET orders = (SELECT COUNT(DISTINCT order_id) FROM order_lines) WHERE id = 1",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM user_products").execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO user_products (user_id, sku, units) SELECT o.user_id, l.sku, CAST(SUM(l.quantity) AS BIGINT) \
         FROM order_lines l JOIN orders o ON o.id = l.order_id GROUP BY o.user_id, l.sku",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Counts the blocks a page showed (those with at least one product): the denominator of
/// each kind's click-through rate on the dashboard.
pub fn record_shown(
    events: &crate::events::buffer::EventBuffer,
    visitor_id: &str,
    sku: Option<&str>,
    blocks: &[(Kind, usize)],
) {
    let kinds: Vec<&str> = blocks.iter().filter(|(_, n)| *n > 0).map(|(kind, _)| kind.key()).collect();
    if !kinds.is_empty() {
        events.publish(
            event_kind::RECOMMENDATION_SHOWN,
            format!("visitor:{visitor_id}"),
            serde_json::json!({ "kinds": kinds, "sku": sku, "visitor_id": visitor_id }),
        );
    }
}

/// Who the recommendations are for: their cart, their purchases, their recent views.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: Option<i64>,
    pub visitor_id: String,
    pub cart_owner: String,
}

impl Viewer {
    pub fn of(identity: &Identity) -> Viewer {
        Viewer {
            user_id: identity.user.as_ref().map(|user| user.id),
            visitor_id: identity.visitor_id.clone(),
            cart_owner: crate::cart::ssr::CartOwner::of(identity).key(),
        }
    }
}

/// The eligibility every kind shares: in stock, not in the cart; `$2` is the cart owner.
const IN_STOCK_NOT_IN_CART: &str = "p.stock > 0 AND p.sku NOT IN (SELECT sku FROM cart_items WHERE owner = $2)";
/// " AND not bought before by the account in parameter `$n`" (-1 for a visitor: nothing), for
/// the kinds that leave owned products out; empty otherwise (PostgreSQL refuses a bound
/// parameter the statement does not use, so the parameter is bound only with the clause).
fn not_purchased(kind: Kind, n: usize) -> String {
    if kind.excludes_purchased() {
        format!(" AND p.sku NOT IN (SELECT sku FROM user_products WHERE user_id = ${n})")
    } else {
        String::new()
    }
}

/// Recommendations of `kind` around `sku` (required for all but `for_you`).
#[tracing::instrument(name = "recommendations.recommend", skip(db, rules, viewer))]
pub async fn recommend(
    db: &Db,
    rules: &RecRules,
    kind: Kind,
    sku: Option<&str>,
    viewer: &Viewer,
    limit: i64,
) -> Result<Vec<Product>, AppError> {
    let user = viewer.user_id.unwrap_or(-1);
    let rows = match (kind, sku) {
        (Kind::ForYou, _) => return for_you(db, viewer, limit).await,
        (_, None) => return Err(AppError::invalid("sku", "Say which product (sku) to recommend around.")),
        (Kind::Upsell, Some(sku)) => {
            let price: Option<i64> = sqlx::query_scalar("SELECT price_cents FROM products WHERE sku = $1")
                .bind(sku)
                .fetch_optional(db.pool())
                .await?;
            let price = price.ok_or_else(|| AppError::NotFound(format!("product '{sku}'")))?;
            let (above, up_to) = rules.upsell_range(price);
            // Same category, dearer within the band; best margin first, then best rated.
            sqlx::query(&format!(
                "SELECT {PRODUCT_COLUMNS} FROM products p LEFT JOIN product_stats s ON s.sku = p.sku \
                 WHERE p.category_slug = (SELECT category_slug FROM products WHERE sku = $1) AND p.sku <> $1 \
                 AND p.price_cents > $3 AND p.price_cents <= $4 AND {IN_STOCK_NOT_IN_CART}{} \
                 ORDER BY p.price_cents - p.cost_cents DESC, \
                 CASE WHEN COALESCE(s.rating_count, 0) > 0 THEN s.rating_total * 100 / s.rating_count ELSE 0 END DESC, \
                 p.sku LIMIT $5",
                not_purchased(kind, 6)
            ))
            .bind(sku)
            .bind(&viewer.cart_owner)
            .bind(above)
            .bind(up_to)
            .bind(limit)
            .bind(user)
            .fetch_all(db.pool())
            .await?
        }
        (Kind::CrossSell | Kind::FrequentlyBoughtTogether, Some(sku)) => {
            // Cross-sell ranks by lift (for a fixed product, lift orders like together / orders
            // of the candidate); frequently bought together by how often, owned or not.
            let order_by = if kind == Kind::CrossSell {
                "c.orders * 1000000 / (CASE WHEN COALESCE(s.orders, 0) > 0 THEN s.orders ELSE 1 END) DESC, c.orders DESC"
            } else {
                "c.orders DESC"
            };
            let sql = format!(
                "SELECT {PRODUCT_COLUMNS} FROM co_purchases c JOIN products p ON p.sku = c.sku_b \
                 LEFT JOIN product_stats s ON s.sku = p.sku \
                 WHERE c.sku_a = $1 AND c.orders >= $3 AND p.sku <> $1 AND {IN_STOCK_NOT_IN_CART}{} \
                 ORDER BY {order_by}, p.sku LIMIT $4",
                not_purchased(kind, 5)
            );
            let query = sqlx::query(&sql).bind(sku).bind(&viewer.cart_owner).bind(rules.min_support).bind(limit);
            let query = if kind.excludes_purchased() { query.bind(user) } else { query };
            query.fetch_all(db.pool()).await?
        }
    };
    to_products(&rows)
}

fn to_products(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Product>, AppError> {
    let mut products = rows.iter().map(product_from_row).collect::<Result<Vec<_>, _>>()?;
    for product in &mut products {
        product.description.clear();
    }
    Ok(products)
}

/// Picks for one shopper: products often bought with what they recently viewed or bought,
/// then more of their preferred categories (views and units bought), then the shop's best
/// sellers, so a new visitor gets the best sellers. Leaves out what they own, have in the
/// cart or just looked at.
#[tracing::instrument(name = "recommendations.for_you", skip(db, viewer))]
pub async fn for_you(db: &Db, viewer: &Viewer, limit: i64) -> Result<Vec<Product>, AppError> {
    let rows = sqlx::query(&format!(
        "WITH seen AS (SELECT sku FROM visitor_views WHERE visitor_id = $1 ORDER BY viewed_at DESC LIMIT 10), \
         mine AS (SELECT sku FROM user_products WHERE user_id = $3), \
         taste AS (SELECT category_slug, SUM(w) AS weight FROM ( \
             SELECT p.category_slug, 1 AS w FROM seen JOIN products p ON p.sku = seen.sku \
             UNION ALL SELECT p.category_slug, u.units AS w FROM user_products u \
             JOIN products p ON p.sku = u.sku WHERE u.user_id = $3) AS signals GROUP BY category_slug), \
         co AS (SELECT c.sku_b AS sku, SUM(c.orders) AS together FROM co_purchases c \
             WHERE c.sku_a IN (SELECT sku FROM seen) OR c.sku_a IN (SELECT sku FROM mine) GROUP BY c.sku_b) \
         SELECT {PRODUCT_COLUMNS} FROM products p \
         LEFT JOIN product_stats s ON s.sku = p.sku \
         LEFT JOIN co ON co.sku = p.sku \
         LEFT JOIN taste t ON t.category_slug = p.category_slug \
         WHERE {IN_STOCK_NOT_IN_CART} AND p.sku NOT IN (SELECT sku FROM mine) AND p.sku NOT IN (SELECT sku FROM seen) \
         ORDER BY COALESCE(co.together, 0) DESC, COALESCE(t.weight, 0) DESC, COALESCE(s.units_sold, 0) DESC, \
         COALESCE(s.views, 0) DESC, p.sku \
         LIMIT $4"
    ))
    .bind(&viewer.visitor_id)
    .bind(&viewer.cart_owner)
    .bind(viewer.user_id.unwrap_or(-1))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    to_products(&rows)
}

/// Cross-sells for a whole cart: products bought with what is in it, ranked by lift summed
/// over the cart's products; same eligibility as a product's cross-sells.
#[tracing::instrument(name = "recommendations.for_cart", skip(db, rules, viewer))]
pub async fn for_cart(db: &Db, rules: &RecRules, viewer: &Viewer, limit: i64) -> Result<Vec<Product>, AppError> {
    let rows = sqlx::query(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM (SELECT c.sku_b AS sku, SUM(c.orders) AS together FROM co_purchases c \
         WHERE c.sku_a IN (SELECT sku FROM cart_items WHERE owner = $1) AND c.orders >= $3 GROUP BY c.sku_b) AS co \
         JOIN products p ON p.sku = co.sku LEFT JOIN product_stats s ON s.sku = p.sku \
         WHERE {IN_STOCK_NOT_IN_CART}{} \
         ORDER BY co.together * 1000000 / (CASE WHEN COALESCE(s.orders, 0) > 0 THEN s.orders ELSE 1 END) DESC, \
         co.together DESC, p.sku LIMIT $4",
        not_purchased(Kind::CrossSell, 5)
    ))
    .bind(&viewer.cart_owner)
    .bind(&viewer.cart_owner)
    .bind(rules.min_support)
    .bind(limit)
    .bind(viewer.user_id.unwrap_or(-1))
    .fetch_all(db.pool())
    .await?;
    to_products(&rows)
}
