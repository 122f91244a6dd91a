//! Cart, checkout and order storage (server only).

use super::domain::{Cart, CartLine, Order, OrderLine};
use crate::db::Db;
use crate::events;
use crate::shared::{now_ms, AppError, Quantity, Sku};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

/// Who a cart belongs to: a visitor (cookie `mercato_vid`) until they log in, then the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CartOwner {
    Visitor(String),
    User(i64),
}

impl CartOwner {
    /// The cart a request works on: the user's when logged in, else the visitor's.
    pub fn of(identity: &crate::accounts::ssr::Identity) -> CartOwner {
        match &identity.user {
            Some(user) => CartOwner::User(user.id),
            None => CartOwner::Visitor(identity.visitor_id.clone()),
        }
    }

    pub fn key(&self) -> String {
        match self {
            CartOwner::Visitor(visitor_id) => format!("v:{visitor_id}"),
            CartOwner::User(user_id) => format!("u:{user_id}"),
        }
    }
}

async fn load_cart(conn: &mut AnyConnection, owner: &CartOwner, lock: &str) -> Result<Cart, AppError> {
    // Ordered by SKU so that two transactions lock products in the same order (no deadlock).
    let rows = sqlx::query(&format!(
        "SELECT c.sku, p.name, p.image, c.quantity, p.price_cents, p.base_cents, p.stock \
         FROM cart_items c JOIN products p ON p.sku = c.sku \
         WHERE c.owner = $1 ORDER BY c.sku{lock}"
    ))
    .bind(owner.key())
    .fetch_all(&mut *conn)
    .await?;
    let lines = rows
        .iter()
        .map(|row| {
            Ok(CartLine {
                sku: row.try_get("sku")?,
                name: row.try_get("name")?,
                image: row.try_get("image")?,
                quantity: row.try_get("quantity")?,
                unit_cents: row.try_get("price_cents")?,
                base_cents: row.try_get("base_cents")?,
                line_cents: 0,
                stock: row.try_get("stock")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Cart::from_lines(lines).ok_or_else(|| AppError::Conflict("The cart total is too large.".into()))
}

#[tracing::instrument(name = "cart.get", skip(db))]
pub async fn get_cart(db: &Db, owner: &CartOwner) -> Result<Cart, AppError> {
    let mut conn = db.pool().acquire().await?;
    load_cart(&mut conn, owner, "").await
}

/// Units in the cart, for the header badge (one cheap query).
pub async fn cart_count(db: &Db, owner: &CartOwner) -> Result<i64, AppError> {
    let count: Option<i64> =
        sqlx::query_scalar("SELECT CAST(SUM(quantity) AS BIGINT) FROM cart_items WHERE owner = $1")
            .bind(owner.key())
            .fetch_one(db.pool())
            .await?;
    Ok(count.unwrap_or(0))
}

/// Adds `quantity` units of `sku` (on top of what is already in the cart).
#[tracing::instrument(name = "cart.add_item", skip(db))]
///
/// `visitor_id` is the browser's visitor cookie, carried on the `cart_item_added` event so that
/// experiments can attribute the conversion.
pub async fn add_item(
    db: &Db,
    owner: &CartOwner,
    visitor_id: &str,
    sku: &Sku,
    quantity: Quantity,
) -> Result<Cart, AppError> {
    let mut tx = db.begin_write().await?;
    let stock: Option<i64> = sqlx::query_scalar("SELECT stock FROM products WHERE sku = $1")
        .bind(sku.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let Some(stock) = stock else {
        return Err(AppError::NotFound(format!("product '{sku}'")));
    };
    if stock <= 0 {
        return Err(AppError::Conflict(format!("{sku} is out of stock.")));
    }
    let in_cart: Option<i64> = sqlx::query_scalar("SELECT quantity FROM cart_items WHERE owner = $1 AND sku = $2")
        .bind(owner.key())
        .bind(sku.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let wanted = in_cart.unwrap_or(0) + i64::from(quantity);
    if wanted > stock {
        return Err(AppError::Conflict(format!("Only {stock} of {sku} in stock.")));
    }
    let wanted = Quantity::parse(wanted).map_err(|message| AppError::invalid("quantity", message))?;
    sqlx::query(
        "INSERT INTO cart_items (owner, sku, quantity, added_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (owner, sku) DO UPDATE SET quantity = $3",
    )
    .bind(owner.key())
    .bind(sku.as_str())
    .bind(i64::from(wanted))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let cart = load_cart(&mut tx, owner, "").await?;
    events::publish(
        &mut tx,
        events::kind::CART_ITEM_ADDED,
        sku.as_str(),
        &serde_json::json!({ "sku": sku.as_str(), "quantity": i64::from(quantity), "visitor_id": visitor_id }),
    )
    .await?;
    tx.commit().await?;
    db.wake_outbox();
    Ok(cart)
}

#[tracing::instrument(name = "cart.remove_item", skip(db))]
pub async fn remove_item(db: &Db, owner: &CartOwner, sku: &Sku) -> Result<Cart, AppError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM cart_items WHERE owner = $1 AND sku = $2")
        .bind(owner.key())
        .bind(sku.as_str())
        .execute(&mut *tx)
        .await?;
    let cart = load_cart(&mut tx, owner, "").await?;
    tx.commit().await?;
    Ok(cart)
}

/// Moves a visitor's cart into the user's on login. Quantities of a product in both add up.
pub async fn merge_into_user(conn: &mut AnyConnection, visitor_id: &str, user_id: i64) -> Result<(), sqlx::Error> {
    let from = CartOwner::Visitor(visitor_id.to_string()).key();
    let to = CartOwner::User(user_id).key();
    sqlx::query(
        "INSERT INTO cart_items (owner, sku, quantity, added_at) \
         SELECT $1, sku, quantity, added_at FROM cart_items WHERE owner = $2 \
         ON CONFLICT (owner, sku) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity",
    )
    .bind(&to)
    .bind(&from)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM cart_items WHERE owner = $1").bind(&from).execute(&mut *conn).await?;
    Ok(())
}

#[derive(Serialize)]
struct OrderPlaced<'a> {
    order_id: i64,
    user_id: i64,
    /// The browser the order was placed from (experiment attribution).
    visitor_id: &'a str,
    total_cents: i64,
    /// The total less what points paid.
    paid_cents: i64,
    points_redeemed: i64,
    /// The same lines at base prices: what dynamic pricing changed (analytics).
    base_total_cents: i64,
    lines: &'a [OrderLine],
}

/// Places an order for the user's cart.
///
/// One write transaction: lock the cart's products (PostgreSQL `FOR UPDATE`, SQLite's
/// exclusive writer), compare the total with what the shopper saw, decrement stock with
/// `stock >= quantity` guards, write the order, empty the cart, publish `order_placed` and
/// `stock_changed`. Any refusal rolls everything back.
///
/// Points: `redeem_points` are checked against the balance (locked) and the order's limit,
/// and spent in the same transaction; the order's earn is written as pending. A refused
/// order spends and earns nothing.
#[tracing::instrument(name = "cart.checkout", skip(db, rules))]
pub async fn checkout(
    db: &Db,
    rules: &crate::loyalty::domain::LoyaltyRules,
    user_id: i64,
    visitor_id: &str,
    expected_total_cents: i64,
    redeem_points: i64,
) -> Result<Order, AppError> {
    let owner = CartOwner::User(user_id);
    let mut tx = db.begin_write().await?;
    let cart = load_cart(&mut tx, &owner, db.for_update()).await?;
    if cart.items.is_empty() {
        return Err(AppError::Conflict("Your cart is empty.".into()));
    }
    if cart.total_cents != expected_total_cents {
        return Err(AppError::PriceChanged { total_cents: cart.total_cents });
    }
    let redemption = crate::loyalty::ssr::redeem_for_order(
        &mut tx,
        db.for_update(),
        rules,
        user_id,
        redeem_points,
        cart.total_cents,
    )
    .await?;
    for line in &cart.items {
        let updated =
            sqlx::query("UPDATE products SET stock = stock - $1, updated_at = $2 WHERE sku = $3 AND stock >= $1")
                .bind(line.quantity)
                .bind(now_ms())
                .bind(&line.sku)
                .execute(&mut *tx)
                .await?;
        if updated.rows_affected() != 1 {
            return Err(AppError::Conflict(format!(
                "Only {} of {} left; please update your cart.",
                line.stock.max(0),
                line.name
            )));
        }
    }
    let now = now_ms();
    let order_id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (user_id, total_cents, status, created_at, points_redeemed, discount_cents) \
         VALUES ($1, $2, 'placed', $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(cart.total_cents)
    .bind(now)
    .bind(redemption.points)
    .bind(redemption.discount_cents)
    .fetch_one(&mut *tx)
    .await?;
    let lines: Vec<OrderLine> = cart
        .items
        .iter()
        .map(|line| OrderLine {
            sku: line.sku.clone(),
            name: line.name.clone(),
            quantity: line.quantity,
            unit_cents: line.unit_cents,
        })
        .collect();
    for line in &lines {
        sqlx::query("INSERT INTO order_lines (order_id, sku, name, quantity, unit_cents) VALUES ($1, $2, $3, $4, $5)")
            .bind(order_id)
            .bind(&line.sku)
            .bind(&line.name)
            .bind(line.quantity)
            .bind(line.unit_cents)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM cart_items WHERE owner = $1").bind(owner.key()).execute(&mut *tx).await?;
    let paid_cents = cart.total_cents - redemption.discount_cents;
    let points_earned =
        crate::loyalty::ssr::record_order_points(&mut tx, rules, user_id, order_id, redemption.points, paid_cents, now)
            .await?;
    events::publish(
        &mut tx,
        events::kind::ORDER_PLACED,
        &format!("order:{order_id}"),
        &OrderPlaced {
            order_id,
            user_id,
            visitor_id,
            total_cents: cart.total_cents,
            paid_cents,
            points_redeemed: redemption.points,
            base_total_cents: cart.items.iter().map(|line| line.base_cents * line.quantity).sum(),
            lines: &lines,
        },
    )
    .await?;
    for line in &cart.items {
        events::publish(
            &mut tx,
            events::kind::STOCK_CHANGED,
            &line.sku,
            &serde_json::json!({
                "sku": line.sku, "previous": line.stock, "stock": line.stock - line.quantity, "source": "checkout"
            }),
        )
        .await?;
    }
    tx.commit().await?;
    db.wake_outbox();
    metrics::counter!("mercato_orders_total").increment(1);
    Ok(Order {
        id: order_id,
        total_cents: cart.total_cents,
        status: "placed".into(),
        created_at: now,
        lines,
        points_redeemed: redemption.points,
        discount_cents: redemption.discount_cents,
        points_earned,
    })
}

/// Adds one unit of `sku` to the user's order `order_id` from its confirmation page, charged
/// at the current price, while [`super::domain::addon_open`] (placed, within `window_ms`).
///
/// One write transaction: lock the order and the product (PostgreSQL `FOR UPDATE`, SQLite's
/// single writer), check the window, decrement stock with a `stock >= 1` guard, add the
/// line, raise the order's total, write the add-on's pending points, and publish
/// `order_addon_added` (sales velocity, product stats, analytics) and `stock_changed`
/// (pricing). Any refusal rolls everything back.
#[tracing::instrument(name = "cart.add_to_order", skip(db))]
pub async fn add_to_order(
    db: &Db,
    user_id: i64,
    visitor_id: &str,
    order_id: i64,
    sku: &Sku,
    window_ms: i64,
    rules: &crate::loyalty::domain::LoyaltyRules,
) -> Result<Result<Order, super::domain::AddonRefusal>, AppError> {
    use super::domain::{addon_open, AddonRefusal};
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let lock = db.for_update();
    let row = sqlx::query(&format!("SELECT status, created_at FROM orders WHERE id = $1 AND user_id = $2{lock}"))
        .bind(order_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("order {order_id}")))?;
    let (status, created_at): (String, i64) = (row.try_get("status")?, row.try_get("created_at")?);
    if !addon_open(&status, created_at, now, window_ms) {
        return Ok(Err(AddonRefusal::Closed));
    }
    let in_order: Option<i64> = sqlx::query_scalar("SELECT quantity FROM order_lines WHERE order_id = $1 AND sku = $2")
        .bind(order_id)
        .bind(sku.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if in_order.is_some() {
        return Ok(Err(AddonRefusal::InOrder));
    }
    let product = sqlx::query(&format!("SELECT name, price_cents, stock FROM products WHERE sku = $1{lock}"))
        .bind(sku.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("product '{sku}'")))?;
    let (name, unit_cents, stock): (String, i64, i64) =
        (product.try_get("name")?, product.try_get("price_cents")?, product.try_get("stock")?);
    let updated = sqlx::query("UPDATE products SET stock = stock - 1, updated_at = $1 WHERE sku = $2 AND stock >= 1")
        .bind(now)
        .bind(sku.as_str())
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() != 1 {
        return Ok(Err(AddonRefusal::SoldOut));
    }
    let line = OrderLine { sku: sku.as_str().to_string(), name, quantity: 1, unit_cents };
    sqlx::query("INSERT INTO order_lines (order_id, sku, name, quantity, unit_cents) VALUES ($1, $2, $3, $4, $5)")
        .bind(order_id)
        .bind(&line.sku)
        .bind(&line.name)
        .bind(line.quantity)
        .bind(line.unit_cents)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE orders SET total_cents = total_cents + $1 WHERE id = $2")
        .bind(unit_cents)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    crate::loyalty::ssr::record_addon_points(&mut tx, rules, user_id, order_id, sku.as_str(), unit_cents, now).await?;
    events::publish(
        &mut tx,
        events::kind::ORDER_ADDON_ADDED,
        &format!("order:{order_id}"),
        &serde_json::json!({
            "order_id": order_id, "user_id": user_id, "visitor_id": visitor_id, "sku": sku.as_str(),
            "unit_cents": unit_cents, "lines": [&line],
        }),
    )
    .await?;
    events::publish(
        &mut tx,
        events::kind::STOCK_CHANGED,
        sku.as_str(),
        &serde_json::json!({ "sku": sku.as_str(), "previous": stock, "stock": stock - 1, "source": "addon" }),
    )
    .await?;
    tx.commit().await?;
    db.wake_outbox();
    metrics::counter!("mercato_post_purchase_addons_total").increment(1);
    Ok(Ok(get_order(db, user_id, order_id).await?))
}

/// Post-purchase offers since `since` (epoch ms): (times shown, clicks, add-ons). Shown and
/// clicked come from the batched browser-side events (merged ones carry a `count`).
pub async fn post_purchase_stats(db: &Db, since: i64) -> Result<(i64, i64, i64), AppError> {
    let counted = |payloads: Vec<String>| -> i64 {
        payloads
            .iter()
            .map(|raw| {
                serde_json::from_str::<serde_json::Value>(raw).ok().and_then(|v| v["count"].as_i64()).unwrap_or(1)
            })
            .sum()
    };
    let shown: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM domain_events WHERE kind = $1 AND created_at >= $2")
            .bind(events::kind::POST_PURCHASE_SHOWN)
            .bind(since)
            .fetch_all(db.pool())
            .await?;
    let clicked: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM domain_events WHERE kind = $1 AND created_at >= $2 AND payload LIKE $3",
    )
    .bind(events::kind::RECOMMENDATION_CLICKED)
    .bind(since)
    .bind("%\"from\":\"post-purchase\"%")
    .fetch_all(db.pool())
    .await?;
    let added: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM domain_events WHERE kind = $1 AND created_at >= $2")
        .bind(events::kind::ORDER_ADDON_ADDED)
        .bind(since)
        .fetch_one(db.pool())
        .await?;
    Ok((counted(shown), counted(clicked), added))
}

/// An order's row (`id, total_cents, status, created_at, points_redeemed, discount_cents`),
/// without its lines.
fn order_from_row(row: &sqlx::any::AnyRow) -> Result<Order, sqlx::Error> {
    Ok(Order {
        id: row.try_get("id")?,
        total_cents: row.try_get("total_cents")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        lines: Vec::new(),
        points_redeemed: row.try_get("points_redeemed")?,
        discount_cents: row.try_get("discount_cents")?,
        points_earned: 0,
    })
}

/// One of the user's orders; another user's order is "not found", never "forbidden", so ids
/// do not leak.
#[tracing::instrument(name = "cart.get_order", skip(db))]
pub async fn get_order(db: &Db, user_id: i64, order_id: i64) -> Result<Order, AppError> {
    let row = sqlx::query(
        "SELECT id, total_cents, status, created_at, points_redeemed, discount_cents FROM orders \
         WHERE id = $1 AND user_id = $2",
    )
    .bind(order_id)
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| AppError::NotFound(format!("order {order_id}")))?;
    let lines = sqlx::query("SELECT sku, name, quantity, unit_cents FROM order_lines WHERE order_id = $1 ORDER BY sku")
        .bind(order_id)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|line| {
            Ok(OrderLine {
                sku: line.try_get("sku")?,
                name: line.try_get("name")?,
                quantity: line.try_get("quantity")?,
                unit_cents: line.try_get("unit_cents")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // What the order and its add-ons earn (pending until it ships).
    let points_earned: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM points_ledger WHERE user_id = $1 \
         AND bucket = 'pending' AND kind = 'earn' AND (source = $2 OR source LIKE $3)",
    )
    .bind(user_id)
    .bind(format!("order:{order_id}:earn"))
    .bind(format!("{}%", crate::loyalty::ssr::addon_source_prefix(order_id)))
    .fetch_one(db.pool())
    .await?;
    Ok(Order { lines, points_earned, ..order_from_row(&row)? })
}

/// The user's most recent orders, newest first (without lines).
#[tracing::instrument(name = "cart.list_orders", skip(db))]
pub async fn list_orders(db: &Db, user_id: i64, limit: i64) -> Result<Vec<Order>, AppError> {
    let rows = sqlx::query(
        "SELECT id, total_cents, status, created_at, points_redeemed, discount_cents FROM orders WHERE user_id = $1 \
         ORDER BY id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(order_from_row).collect::<Result<Vec<_>, sqlx::Error>>().map_err(AppError::from)
}

/// What the owner does with a placed order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderAction {
    /// Shipped: the order's points become spendable.
    Fulfil,
    /// Called off before shipping: stock goes back, points earned are taken back and points
    /// paid with are returned.
    Cancel,
    /// Money returned after shipping: points earned are taken back (as far as they are still
    /// there) and points paid with are returned.
    Refund,
}

impl OrderAction {
    pub fn parse(raw: &str) -> Option<OrderAction> {
        match raw {
            "fulfil" => Some(OrderAction::Fulfil),
            "cancel" => Some(OrderAction::Cancel),
            "refund" => Some(OrderAction::Refund),
            _ => None,
        }
    }

    /// (status it applies to, status it leads to, event).
    fn transition(self) -> (&'static str, &'static str, &'static str) {
        match self {
            OrderAction::Fulfil => ("placed", "fulfilled", events::kind::ORDER_FULFILLED),
            OrderAction::Cancel => ("placed", "cancelled", events::kind::ORDER_CANCELLED),
            OrderAction::Refund => ("fulfilled", "refunded", events::kind::ORDER_REFUNDED),
        }
    }
}

/// Applies an owner's action to an order, with its points and stock, in one transaction.
#[tracing::instrument(name = "cart.order_action", skip(db))]
pub async fn order_action(db: &Db, order_id: i64, action: OrderAction, admin_id: i64) -> Result<(), AppError> {
    let (from, to, kind) = action.transition();
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(&format!(
        "SELECT user_id, status, points_redeemed, total_cents FROM orders WHERE id = $1{}",
        db.for_update()
    ))
    .bind(order_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("order {order_id}")))?;
    let (user_id, status, redeemed, total_cents): (i64, String, i64, i64) =
        (row.try_get("user_id")?, row.try_get("status")?, row.try_get("points_redeemed")?, row.try_get("total_cents")?);
    if status != from {
        return Err(AppError::Conflict(format!("Order #{order_id} is {status}; only a {from} order can be {to}.")));
    }
    sqlx::query("UPDATE orders SET status = $1, status_changed_at = $2 WHERE id = $3")
        .bind(to)
        .bind(now)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    match action {
        OrderAction::Fulfil => crate::loyalty::ssr::post_order_points(&mut tx, user_id, order_id, now).await?,
        OrderAction::Cancel | OrderAction::Refund => {
            crate::loyalty::ssr::reverse_order_points(&mut tx, user_id, order_id, redeemed, now).await?
        }
    }
    if action == OrderAction::Cancel {
        let lines = sqlx::query("SELECT sku, quantity FROM order_lines WHERE order_id = $1 ORDER BY sku")
            .bind(order_id)
            .fetch_all(&mut *tx)
            .await?;
        for line in lines {
            let (sku, quantity): (String, i64) = (line.try_get("sku")?, line.try_get("quantity")?);
            let previous: i64 =
                sqlx::query_scalar(&format!("SELECT stock FROM products WHERE sku = $1{}", db.for_update()))
                    .bind(&sku)
                    .fetch_one(&mut *tx)
                    .await?;
            sqlx::query("UPDATE products SET stock = stock + $1, updated_at = $2 WHERE sku = $3")
                .bind(quantity)
                .bind(now)
                .bind(&sku)
                .execute(&mut *tx)
                .await?;
            events::publish(
                &mut tx,
                events::kind::STOCK_CHANGED,
                &sku,
                &serde_json::json!({ "sku": sku, "previous": previous, "stock": previous + quantity, "source": "cancel" }),
            )
            .await?;
        }
    }
    events::publish(
        &mut tx,
        kind,
        &format!("order:{order_id}"),
        &serde_json::json!({ "order_id": order_id, "user_id": user_id, "total_cents": total_cents, "by": admin_id }),
    )
    .await?;
    tx.commit().await?;
    db.wake_outbox();
    Ok(())
}

/// Recent orders of every shopper, newest first, for the owner's order list.
pub async fn recent_orders(db: &Db, limit: i64) -> Result<Vec<(Order, String)>, AppError> {
    let rows = sqlx::query(
        "SELECT o.id, o.total_cents, o.status, o.created_at, o.points_redeemed, o.discount_cents, u.email \
         FROM orders o JOIN users u ON u.id = o.user_id ORDER BY o.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((order_from_row(row)?, row.try_get("email")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}
