//! Storage of the brand insights (server only): the facts [`super::insights::build`]
//! aggregates, read for one product or category (and, for a brand's key, only that brand's
//! products), and the brand API keys, stored as SHA-256 hashes and shown once.

use super::insights::{build, Insights, QuestionFact, ReviewFact, Scope};
use crate::db::Db;
use crate::shared::{now_ms, AppError};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A brand key as the owner's list shows it (never the key or its hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BrandKey {
    pub id: i64,
    pub brand: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// Brand keys start with this, so a leaked one is recognisable in logs and scanners.
pub const KEY_PREFIX: &str = "mbk_";

fn key_hash(key: &str) -> String {
    crate::accounts::ssr::token_hash(key)
}

/// The insights of `scope`, limited to `brand`'s products when a brand asks. A product or
/// category with no product the caller may see is not found, whether or not it exists, so
/// a brand learns nothing about others' catalogues.
#[tracing::instrument(name = "insights.read", skip(db))]
pub async fn insights(db: &Db, scope: Scope, brand: Option<&str>) -> Result<Insights, AppError> {
    let (column, key) = match &scope {
        Scope::Product(sku) => ("sku", sku.as_str()),
        Scope::Category(slug) => ("category_slug", slug.as_str()),
    };
    // `brand` is NULL for the owner, who sees every product.
    let products: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT sku FROM products WHERE {column} = $1 AND ($2 IS NULL OR brand = $2) ORDER BY sku"
    ))
    .bind(key)
    .bind(brand)
    .fetch_all(db.pool())
    .await?;
    if products.is_empty() {
        return Err(AppError::NotFound(format!("no products for {column} {key}")));
    }
    // SKUs come from the products table, so listing them in the SQL is safe.
    let skus = products.iter().map(|sku| format!("'{}'", sku.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
    let review_rows = sqlx::query(&format!(
        "SELECT user_id, rating, created_at, title, body FROM reviews WHERE status = 'approved' AND sku IN ({skus})"
    ))
    .fetch_all(db.pool())
    .await?;
    let reviews = review_rows
        .iter()
        .map(|row| {
            Ok(ReviewFact {
                contributor: row.try_get("user_id")?,
                rating: row.try_get("rating")?,
                created_at: row.try_get("created_at")?,
                text: format!("{}\n{}", row.try_get::<String, _>("title")?, row.try_get::<String, _>("body")?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let question_rows =
        sqlx::query(&format!("SELECT user_id, sku, body FROM questions WHERE status = 'approved' AND sku IN ({skus})"))
            .fetch_all(db.pool())
            .await?;
    let questions = question_rows
        .iter()
        .map(|row| {
            Ok(QuestionFact {
                contributor: row.try_get("user_id")?,
                sku: row.try_get("sku")?,
                text: row.try_get("body")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(build(scope, products, &reviews, &questions))
}

/// The brands of the catalogue, for the owner's key form.
pub async fn brands(db: &Db) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar("SELECT DISTINCT brand FROM products WHERE brand IS NOT NULL ORDER BY brand")
        .fetch_all(db.pool())
        .await?)
}

/// A new key for `brand`: returns its id and the key, which is not stored and cannot be
/// shown again.
pub async fn create_key(db: &Db, brand: &str, label: &str) -> Result<(i64, String), AppError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 80 {
        return Err(AppError::invalid("label", "Name the key in 1 to 80 characters."));
    }
    let known: Option<String> = sqlx::query_scalar("SELECT brand FROM products WHERE brand = $1 LIMIT 1")
        .bind(brand)
        .fetch_optional(db.pool())
        .await?;
    if known.is_none() {
        return Err(AppError::invalid("brand", "No product has this brand."));
    }
    let key = format!("{KEY_PREFIX}{}", crate::accounts::ssr::random_token());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO brand_keys (brand, label, key_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(brand)
    .bind(label)
    .bind(key_hash(&key))
    .bind(now_ms())
    .fetch_one(db.pool())
    .await?;
    Ok((id, key))
}

/// Revokes a key; false when there was no such live key.
pub async fn revoke_key(db: &Db, id: i64) -> Result<bool, AppError> {
    let revoked = sqlx::query("UPDATE brand_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(revoked.rows_affected() == 1)
}

pub async fn keys(db: &Db) -> Result<Vec<BrandKey>, AppError> {
    let rows = sqlx::query("SELECT id, brand, label, created_at, revoked_at FROM brand_keys ORDER BY id DESC")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(BrandKey {
                id: row.try_get("id")?,
                brand: row.try_get("brand")?,
                label: row.try_get("label")?,
                created_at: row.try_get("created_at")?,
                revoked_at: row.try_get("revoked_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// The brand a live key belongs to.
pub async fn brand_of_key(db: &Db, key: &str) -> Result<Option<String>, AppError> {
    if !key.starts_with(KEY_PREFIX) || key.len() > 100 {
        return Ok(None);
    }
    // Looked up by hash: the comparison never touches the key itself, so its timing says
    // nothing about it.
    Ok(sqlx::query_scalar("SELECT brand FROM brand_keys WHERE key_hash = $1 AND revoked_at IS NULL")
        .bind(key_hash(key))
        .fetch_optional(db.pool())
        .await?)
}
