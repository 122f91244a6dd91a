//! Catalog storage (server only).

use super::domain::{Category, Filters, PriceView, Product, Sort};
use crate::db::Db;
use crate::events::{self, Event};
use crate::shared::{now_ms, AppError, Sku};
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// The consumer that keeps per-product counters (views, units sold) for recommendations,
/// pricing velocity and analytics.
pub const STATS_CONSUMER: &str = "product_stats";

pub(crate) const PRODUCT_COLUMNS: &str = "p.sku, p.name, p.category_slug, p.description, p.image, p.tags, \
     p.stock, p.price_cents, p.base_cents, p.price_reason, p.reference_30d_cents";

pub(crate) fn product_from_row(row: &AnyRow) -> Result<Product, sqlx::Error> {
    let tags: String = row.try_get("tags")?;
    Ok(Product {
        sku: row.try_get("sku")?,
        name: row.try_get("name")?,
        category: row.try_get("category_slug")?,
        description: row.try_get("description")?,
        image: row.try_get("image")?,
        tags: tags.split(',').filter(|t| !t.is_empty()).map(str::to_string).collect(),
        stock: row.try_get("stock")?,
        price: PriceView::new(
            row.try_get("price_cents")?,
            row.try_get("base_cents")?,
            row.try_get("reference_30d_cents")?,
            row.try_get("price_reason")?,
        ),
    })
}

/// Escapes `%`, `_` and `\` so a shopper's search text is matched literally.
fn like_pattern(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('%');
    escaped
}

#[tracing::instrument(name = "catalog.list_categories", skip(db))]
pub async fn list_categories(db: &Db) -> Result<Vec<Category>, AppError> {
    let rows = sqlx::query("SELECT slug, name, description FROM categories ORDER BY position, name")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Category {
                slug: row.try_get("slug")?,
                name: row.try_get("name")?,
                description: row.try_get("description")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

#[tracing::instrument(name = "catalog.get_category", skip(db))]
pub async fn get_category(db: &Db, slug: &str) -> Result<Category, AppError> {
    let row = sqlx::query("SELECT slug, name, description FROM categories WHERE slug = $1")
        .bind(slug)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("category '{slug}'")))?;
    Ok(Category { slug: row.try_get("slug")?, name: row.try_get("name")?, description: row.try_get("description")? })
}

/// Products, optionally in one category and/or matching a text search on name, description
/// and tags, narrowed and ordered by `filters`. Default order: category then name, so pages
/// are stable.
#[tracing::instrument(name = "catalog.list_products", skip(db))]
pub async fn list_products(
    db: &Db,
    category: Option<&str>,
    search: Option<&str>,
    filters: &Filters,
) -> Result<Vec<Product>, AppError> {
    let mut sql =
        format!("SELECT {PRODUCT_COLUMNS} FROM products p LEFT JOIN product_stats s ON s.sku = p.sku WHERE 1 = 1");
    let mut n_params = 0;
    let mut param = || {
        n_params += 1;
        format!("${n_params}")
    };
    if category.is_some() {
        sql.push_str(&format!(" AND p.category_slug = {}", param()));
    }
    if search.is_some() {
        let n = param();
        sql.push_str(&format!(
            " AND (LOWER(p.name) LIKE {n} ESCAPE '\\' OR LOWER(p.description) LIKE {n} ESCAPE '\\' \
             OR LOWER(p.tags) LIKE {n} ESCAPE '\\')"
        ));
    }
    if filters.min_price_cents.is_some() {
        sql.push_str(&format!(" AND p.price_cents >= {}", param()));
    }
    if filters.max_price_cents.is_some() {
        sql.push_str(&format!(" AND p.price_cents <= {}", param()));
    }
    if filters.min_rating.is_some() {
        // Integer comparison: average >= n  ⇔  total >= n × count (no float, no rounding).
        sql.push_str(&format!(
            " AND COALESCE(s.rating_count, 0) > 0 AND s.rating_total >= {} * s.rating_count",
            param()
        ));
    }
    if filters.in_stock_only {
        sql.push_str(" AND p.stock > 0");
    }
    sql.push_str(match filters.sort {
        Sort::Name => " ORDER BY p.category_slug, p.name",
        Sort::PriceAsc => " ORDER BY p.price_cents, p.sku",
        Sort::PriceDesc => " ORDER BY p.price_cents DESC, p.sku",
        Sort::Rating => {
            " ORDER BY CASE WHEN COALESCE(s.rating_count, 0) = 0 THEN 0 \
             ELSE s.rating_total * 1000 / s.rating_count END DESC, COALESCE(s.rating_count, 0) DESC, p.sku"
        }
        Sort::Popular => " ORDER BY COALESCE(s.units_sold, 0) DESC, COALESCE(s.views, 0) DESC, p.sku",
        Sort::Newest => " ORDER BY p.created_at DESC, p.sku",
    });
    let mut query = sqlx::query(&sql);
    if let Some(category) = category {
        query = query.bind(category.to_string());
    }
    if let Some(search) = search {
        query = query.bind(like_pattern(search));
    }
    for value in [filters.min_price_cents, filters.max_price_cents, filters.min_rating].into_iter().flatten() {
        query = query.bind(value);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(product_from_row).collect::<Result<_, _>>().map_err(AppError::from)
}

#[tracing::instrument(name = "catalog.get_product", skip(db), fields(sku = %sku))]
pub async fn get_product(db: &Db, sku: &Sku) -> Result<Product, AppError> {
    let row = sqlx::query(&format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.sku = $1"))
        .bind(sku.as_str())
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("product '{sku}'")))?;
    Ok(product_from_row(&row)?)
}

/// Products sold most (by units, then views): the "popular" shelf every visitor sees.
#[tracing::instrument(name = "catalog.popular_products", skip(db))]
pub async fn popular_products(db: &Db, limit: i64) -> Result<Vec<Product>, AppError> {
    let rows = sqlx::query(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p LEFT JOIN product_stats s ON s.sku = p.sku \
         WHERE p.stock > 0 \
         ORDER BY COALESCE(s.units_sold, 0) DESC, COALESCE(s.views, 0) DESC, p.sku LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(product_from_row).collect::<Result<_, _>>().map_err(AppError::from)
}

/// Records that a visitor looked at a product (an outbox event, published within ~100 ms).
pub fn record_view(events: &crate::events::buffer::EventBuffer, sku: &Sku, visitor_id: &str) {
    events.publish(
        events::kind::PRODUCT_VIEWED,
        sku.as_str().to_string(),
        serde_json::json!({ "sku": sku.as_str(), "visitor_id": visitor_id }),
    );
}

#[derive(Deserialize)]
struct ViewedPayload {
    sku: String,
    /// Identical views coalesced by the event buffer (absent: one).
    #[serde(default = "one")]
    count: i64,
}

fn one() -> i64 {
    1
}

#[derive(Deserialize)]
struct OrderPlacedPayload {
    lines: Vec<OrderPlacedLine>,
}

#[derive(Deserialize)]
struct OrderPlacedLine {
    sku: String,
    quantity: i64,
}

/// Outbox consumer: `product_viewed` → views + its count; `order_placed` → units sold and orders.
/// Increments are not idempotent by themselves; the outbox applies each event once.
pub async fn apply_stats(conn: &mut AnyConnection, event: &Event) -> Result<(), sqlx::Error> {
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    match event.kind.as_str() {
        events::kind::PRODUCT_VIEWED => {
            let payload: ViewedPayload = serde_json::from_value(event.payload.clone()).map_err(decode)?;
            sqlx::query(
                "INSERT INTO product_stats (sku, views) VALUES ($1, $2) \
                 ON CONFLICT (sku) DO UPDATE SET views = product_stats.views + $2",
            )
            .bind(payload.sku)
            .bind(payload.count.max(1))
            .execute(&mut *conn)
            .await?;
        }
        // A post-purchase add-on is a sale of its product like an order's line.
        events::kind::ORDER_PLACED | events::kind::ORDER_ADDON_ADDED => {
            let payload: OrderPlacedPayload = serde_json::from_value(event.payload.clone()).map_err(decode)?;
            for line in payload.lines {
                sqlx::query(
                    "INSERT INTO product_stats (sku, units_sold, orders) VALUES ($1, $2, 1) \
                     ON CONFLICT (sku) DO UPDATE SET units_sold = product_stats.units_sold + $2, \
                     orders = product_stats.orders + 1",
                )
                .bind(line.sku)
                .bind(line.quantity)
                .execute(&mut *conn)
                .await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A product as the seed file describes it.
#[derive(Clone, Debug, Deserialize)]
pub struct SeedProduct {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub base_cents: i64,
    pub cost_cents: i64,
    pub stock: i64,
    pub image: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SeedCatalog {
    pub categories: Vec<Category>,
    pub products: Vec<SeedProduct>,
}

/// Inserts categories and products that are not there yet (by key); existing rows are left
/// alone so re-seeding never resets live prices or stock. Returns the number of new products.
#[tracing::instrument(name = "catalog.seed", skip(db, catalog))]
pub async fn seed_catalog(db: &Db, catalog: &SeedCatalog) -> Result<usize, AppError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    for (position, category) in catalog.categories.iter().enumerate() {
        sqlx::query(
            "INSERT INTO categories (slug, name, description, position) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (slug) DO NOTHING",
        )
        .bind(&category.slug)
        .bind(&category.name)
        .bind(&category.description)
        .bind(position as i64)
        .execute(&mut *tx)
        .await?;
    }
    let mut n_new = 0;
    for product in &catalog.products {
        let inserted = sqlx::query(
            "INSERT INTO products (sku, name, category_slug, description, image, tags, base_cents, \
             cost_cents, price_cents, price_reason, stock, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, 'base', $9, $10, $10) ON CONFLICT (sku) DO NOTHING",
        )
        .bind(&product.sku)
        .bind(&product.name)
        .bind(&product.category)
        .bind(&product.description)
        .bind(&product.image)
        .bind(product.tags.join(","))
        .bind(product.base_cents)
        .bind(product.cost_cents)
        .bind(product.stock)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            n_new += 1;
            sqlx::query("INSERT INTO price_history (sku, price_cents, reason, created_at) VALUES ($1, $2, 'base', $3)")
                .bind(&product.sku)
                .bind(product.base_cents)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
    }
    if n_new > 0 {
        // New products start at their base price; the pricing consumer then applies the
        // rules (scarcity, overstock) like for any other change.
        events::publish(
            &mut tx,
            events::kind::PRICING_RULES_CHANGED,
            "global",
            &serde_json::json!({ "scope": "global" }),
        )
        .await?;
    }
    tx.commit().await?;
    db.wake_outbox();
    Ok(n_new)
}

/// Sets a product's stock (the inventory webhook and admin) and publishes `stock_changed`.
#[tracing::instrument(name = "catalog.set_stock", skip(db), fields(sku = %sku))]
pub async fn set_stock(db: &Db, sku: &Sku, stock: i64) -> Result<Product, AppError> {
    if !(0..=1_000_000).contains(&stock) {
        return Err(AppError::invalid("stock", "Stock must be between 0 and 1000000."));
    }
    let mut tx = db.begin_write().await?;
    let previous: Option<i64> =
        sqlx::query_scalar(&format!("SELECT stock FROM products WHERE sku = $1{}", db.for_update()))
            .bind(sku.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    let Some(previous) = previous else {
        return Err(AppError::NotFound(format!("product '{sku}'")));
    };
    sqlx::query("UPDATE products SET stock = $1, updated_at = $2 WHERE sku = $3")
        .bind(stock)
        .bind(now_ms())
        .bind(sku.as_str())
        .execute(&mut *tx)
        .await?;
    events::publish(
        &mut tx,
        events::kind::STOCK_CHANGED,
        sku.as_str(),
        &serde_json::json!({ "sku": sku.as_str(), "previous": previous, "stock": stock, "source": "inventory" }),
    )
    .await?;
    tx.commit().await?;
    db.wake_outbox();
    get_product(db, sku).await
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn search_wildcards_are_matched_literally() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
        assert_eq!(like_pattern("Mug"), "%mug%");
    }
}
