//! Full-text search of user content (approved reviews, questions, answers and community
//! posts) behind one interface, [`UgcSearch`], with a backend per database: SQLite's FTS5
//! ([`Fts5Search`], the `ugc_fts` external-content table over `ugc_index`, kept by triggers)
//! and PostgreSQL's text search ([`PostgresSearch`], the generated `document` tsvector with
//! its GIN index, `websearch_to_tsquery`, `ts_rank`, `ts_headline`).
//!
//! **Architecture Invariant:** only approved items are searchable. `ugc_index` holds a row
//! for an item exactly while it is approved: every storage function that changes the status
//! of a review, question, answer or post calls [`reindex`] in the same transaction, which
//! deletes the row and inserts it again only if the item (and its question or topic) is
//! approved. The search never looks at the source tables' statuses.
//!
//! Both backends get the user's query as plain terms ([`query_terms`]), so no input is query
//! syntax, and mark matches with [`MARK_START`]/[`MARK_END`], which the page turns into
//! `<mark>` elements (never HTML from the database).

use super::domain::{
    fts5_query, websearch_query, SearchHit, SearchPage, SearchQuery, UgcKind, MARK_END, MARK_START, SEARCH_PAGE,
};
use crate::db::{Backend, Db};
use crate::shared::AppError;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::future::Future;

/// A full-text search over the approved user content.
pub trait UgcSearch {
    /// One page of results, best first, with highlighted titles and snippets.
    fn search<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        query: &'a SearchQuery,
    ) -> impl Future<Output = Result<SearchPage, sqlx::Error>> + Send + 'a;
}

/// SQLite FTS5, ranked by `bm25` (title weighs four times the body).
pub struct Fts5Search;

/// PostgreSQL text search, ranked by `ts_rank` (title weight A, body B).
pub struct PostgresSearch;

/// Searches with the backend of `db`.
#[tracing::instrument(name = "community.search", skip(db, query), fields(terms = query.terms.len()))]
pub async fn search(db: &Db, query: &SearchQuery) -> Result<SearchPage, AppError> {
    let mut conn = db.pool().acquire().await?;
    let page = match db.backend() {
        Backend::Sqlite => Fts5Search.search(&mut conn, query).await?,
        Backend::Postgres => PostgresSearch.search(&mut conn, query).await?,
    };
    Ok(page)
}

/// A value bound to a numbered placeholder.
enum Bind {
    Text(String),
    Int(i64),
}

/// The filter clauses (`AND …`) of `query`, their values pushed to `binds` (placeholders
/// numbered after the ones already there).
fn filters(query: &SearchQuery, binds: &mut Vec<Bind>) -> String {
    let mut sql = String::new();
    let mut add = |clause: &str, bind: Bind, binds: &mut Vec<Bind>| {
        binds.push(bind);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    if let Some(sku) = &query.sku {
        add(" AND i.sku = ?", Bind::Text(sku.clone()), binds);
    }
    if let Some(category) = &query.category {
        add(" AND i.category_slug = ?", Bind::Text(category.clone()), binds);
    }
    if let Some(stars) = query.min_rating {
        add(" AND i.rating >= ?", Bind::Int(stars), binds);
    }
    if query.verified_only {
        add(" AND i.verified_buyer = ?", Bind::Int(1), binds);
    }
    if let Some(from) = query.from {
        add(" AND i.created_at >= ?", Bind::Int(from), binds);
    }
    if let Some(to) = query.to {
        add(" AND i.created_at < ?", Bind::Int(to), binds);
    }
    if let Some(kind) = query.kind {
        add(" AND i.kind = ?", Bind::Text(kind.key().to_string()), binds);
    }
    sql
}

const HIT_COLUMNS: &str =
    "i.kind, i.item_id, i.sku, i.category_slug, i.rating, i.verified_buyer, i.topic_id, i.sponsored_by, \
     i.incentive_points, i.label, i.created_at";

/// Runs a search statement whose last two placeholders are the limit and the offset.
async fn run(
    conn: &mut AnyConnection,
    sql: &str,
    mut binds: Vec<Bind>,
    query: &SearchQuery,
) -> Result<SearchPage, sqlx::Error> {
    binds.push(Bind::Int(SEARCH_PAGE + 1));
    binds.push(Bind::Int(query.offset));
    let sql = format!("{sql} LIMIT ${} OFFSET ${}", binds.len() - 1, binds.len());
    let mut statement = sqlx::query(&sql);
    for bind in binds {
        statement = match bind {
            Bind::Text(text) => statement.bind(text),
            Bind::Int(int) => statement.bind(int),
        };
    }
    let rows = statement.fetch_all(&mut *conn).await?;
    let mut items = rows.iter().map(hit_from_row).collect::<Result<Vec<_>, _>>()?;
    let next_cursor = (items.len() as i64 > SEARCH_PAGE).then(|| (query.offset + SEARCH_PAGE).to_string());
    items.truncate(SEARCH_PAGE as usize);
    Ok(SearchPage { items, next_cursor })
}

fn hit_from_row(row: &AnyRow) -> Result<SearchHit, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    Ok(SearchHit {
        kind: UgcKind::parse(&kind).unwrap_or(UgcKind::Post),
        id: row.try_get("item_id")?,
        sku: row.try_get("sku")?,
        category: row.try_get("category_slug")?,
        rating: row.try_get("rating")?,
        verified_buyer: row.try_get::<i64, _>("verified_buyer")? != 0,
        topic_id: row.try_get("topic_id")?,
        sponsored_by: row.try_get("sponsored_by")?,
        incentive_points: row.try_get("incentive_points")?,
        label: row.try_get("label")?,
        title: row.try_get("title_marked")?,
        snippet: row.try_get("snippet")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Without terms a search lists the filtered items, newest first, without highlights.
fn newest_sql(query: &SearchQuery, binds: &mut Vec<Bind>) -> String {
    format!(
        "SELECT {HIT_COLUMNS}, i.title AS title_marked, substr(i.body, 1, 240) AS snippet FROM ugc_index i \
         WHERE 1 = 1{} ORDER BY i.created_at DESC, i.id DESC",
        filters(query, binds)
    )
}

impl UgcSearch for Fts5Search {
    async fn search<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        query: &'a SearchQuery,
    ) -> Result<SearchPage, sqlx::Error> {
        let mut binds = Vec::new();
        let sql = if query.terms.is_empty() {
            newest_sql(query, &mut binds)
        } else {
            binds.push(Bind::Text(fts5_query(&query.terms)));
            format!(
                "SELECT {HIT_COLUMNS}, highlight(ugc_fts, 0, char(2), char(3)) AS title_marked, \
                     snippet(ugc_fts, 1, char(2), char(3), '…', 24) AS snippet \
                     FROM ugc_fts JOIN ugc_index i ON i.id = ugc_fts.rowid WHERE ugc_fts MATCH $1{} \
                     ORDER BY bm25(ugc_fts, 4.0, 1.0), i.created_at DESC, i.id DESC",
                filters(query, &mut binds)
            )
        };
        run(conn, &sql, binds, query).await
    }
}

impl UgcSearch for PostgresSearch {
    async fn search<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        query: &'a SearchQuery,
    ) -> Result<SearchPage, sqlx::Error> {
        let mut binds = Vec::new();
        let sql = if query.terms.is_empty() {
            newest_sql(query, &mut binds)
        } else {
            binds.push(Bind::Text(websearch_query(&query.terms)));
            binds.push(Bind::Text(format!("StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true")));
            binds.push(Bind::Text(format!(
                "StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, ShortWord=2, \
                     MaxFragments=2, FragmentDelimiter=\" … \""
            )));
            format!(
                "SELECT {HIT_COLUMNS}, ts_headline('english', i.title, q, $2) AS title_marked, \
                     ts_headline('english', i.body, q, $3) AS snippet \
                     FROM ugc_index i, websearch_to_tsquery('english', $1) q WHERE i.document @@ q{} \
                     ORDER BY ts_rank(i.document, q) DESC, i.created_at DESC, i.id DESC",
                filters(query, &mut binds)
            )
        };
        run(conn, &sql, binds, query).await
    }
}

const INSERT_COLUMNS: &str = "INSERT INTO ugc_index \
    (kind, item_id, sku, category_slug, rating, verified_buyer, topic_id, sponsored_by, incentive_points, label, title, \
     body, created_at) ";

/// Puts the item's row in the index if it is approved, and takes it out if not: called in the
/// transaction of every status change (and of every sponsorship, which results show). A question takes its answers with it, and a topic's
/// opening post the topic's replies.
pub async fn reindex(conn: &mut AnyConnection, kind: UgcKind, id: i64) -> Result<(), sqlx::Error> {
    match kind {
        UgcKind::Question => {
            reindex_one(conn, UgcKind::Question, id).await?;
            let answers: Vec<i64> = sqlx::query_scalar("SELECT id FROM answers WHERE question_id = $1")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
            for answer in answers {
                reindex_one(conn, UgcKind::Answer, answer).await?;
            }
        }
        UgcKind::Post => {
            let opening: Option<(i64, i64)> =
                sqlx::query_as("SELECT topic_id, is_opening FROM community_posts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
            match opening {
                Some((topic_id, 1)) => {
                    let posts: Vec<i64> = sqlx::query_scalar("SELECT id FROM community_posts WHERE topic_id = $1")
                        .bind(topic_id)
                        .fetch_all(&mut *conn)
                        .await?;
                    for post in posts {
                        reindex_one(conn, UgcKind::Post, post).await?;
                    }
                }
                _ => reindex_one(conn, UgcKind::Post, id).await?,
            }
        }
        UgcKind::Review | UgcKind::Answer => reindex_one(conn, kind, id).await?,
    }
    Ok(())
}

async fn reindex_one(conn: &mut AnyConnection, kind: UgcKind, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM ugc_index WHERE kind = $1 AND item_id = $2")
        .bind(kind.key())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let select = match kind {
        UgcKind::Review => {
            "SELECT 'review', r.id, r.sku, p.category_slug, r.rating, r.verified_buyer, NULL, r.sponsored_by, \
             r.incentive_points, p.name, r.title, \
             r.body, r.created_at FROM reviews r JOIN products p ON p.sku = r.sku \
             WHERE r.id = $1 AND r.status = 'approved'"
        }
        UgcKind::Question => {
            "SELECT 'question', q.id, q.sku, p.category_slug, NULL, 0, NULL, NULL, 0, p.name, '', q.body, q.created_at \
             FROM questions q JOIN products p ON p.sku = q.sku WHERE q.id = $1 AND q.status = 'approved'"
        }
        UgcKind::Answer => {
            "SELECT 'answer', a.id, q.sku, p.category_slug, NULL, a.verified_buyer, NULL, a.sponsored_by, 0, p.name, '', \
             a.body, \
             a.created_at FROM answers a JOIN questions q ON q.id = a.question_id JOIN products p ON p.sku = q.sku \
             WHERE a.id = $1 AND a.status = 'approved' AND q.status = 'approved'"
        }
        UgcKind::Post => {
            "SELECT 'post', c.id, NULL, t.category_slug, NULL, 0, t.id, c.sponsored_by, 0, t.title, \
             CASE WHEN c.is_opening = 1 THEN t.title ELSE '' END, c.body, c.created_at \
             FROM community_posts c JOIN community_topics t ON t.id = c.topic_id \
             WHERE c.id = $1 AND c.status = 'approved' AND t.status = 'approved'"
        }
    };
    sqlx::query(&format!("{INSERT_COLUMNS}{select}")).bind(id).execute(&mut *conn).await?;
    Ok(())
}
