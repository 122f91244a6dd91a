//! The event outbox: every state change that other playbooks care about is appended to
//! `domain_events` in the same transaction as the change, and the [`worker`] delivers it to
//! each subscribed consumer at least once. A consumer applies an event in the transaction
//! that marks its delivery done, so each event is applied exactly once per consumer.
//!
//! Invariants:
//! - An event exists if and only if the change that caused it committed.
//! - `(event_id, consumer)` is applied at most once, even with several app servers on one
//!   PostgreSQL or after a `kill -9` in the middle of a batch.

pub mod buffer;
pub mod worker;

use crate::shared::now_ms;
use serde::Serialize;
use sqlx::AnyConnection;

/// Event kinds. Strings, because they are stored and read by other tools (analytics).
pub mod kind {
    pub const ORDER_PLACED: &str = "order_placed";
    pub const STOCK_CHANGED: &str = "stock_changed";
    pub const PRODUCT_VIEWED: &str = "product_viewed";
    pub const USER_REGISTERED: &str = "user_registered";
    pub const PRICE_CHANGED: &str = "price_changed";
    pub const PRICING_RULES_CHANGED: &str = "pricing_rules_changed";
    pub const CART_ITEM_ADDED: &str = "cart_item_added";
    pub const EXPERIMENT_EXPOSED: &str = "experiment_exposed";
    pub const EXPERIMENT_CHANGED: &str = "experiment_changed";
    /// Batched events from the hydrated app (`POST /api/v1/events`): page views, heartbeats,
    /// clicks. Stored in the event log for analytics; never trusted for money or attribution.
    pub const CLIENT_EVENT: &str = "client_event";
    /// A subscription started, changed plan, was scheduled to change, renewed or ended.
    pub const SUBSCRIPTION_CHANGED: &str = "subscription_changed";
    pub const INVOICE_PAID: &str = "invoice_paid";
    /// The owner saved a new version of a plan.
    pub const PLAN_CHANGED: &str = "plan_changed";
    /// The owner shipped, cancelled or refunded an order.
    pub const ORDER_FULFILLED: &str = "order_fulfilled";
    pub const ORDER_CANCELLED: &str = "order_cancelled";
    pub const ORDER_REFUNDED: &str = "order_refunded";
    /// A review was approved by moderation (payload: `user_id`, `review_id`).
    pub const REVIEW_APPROVED: &str = "review_approved";
    /// A review was written or rewritten (payload: `user_id`, `review_id`, `sku`, `rating`).
    pub const REVIEW_SUBMITTED: &str = "review_submitted";
    /// An answer to a product question was published (payload: `user_id` of the answerer,
    /// `asker_id`, `question_id`, `answer_id`, `sku`).
    pub const QUESTION_ANSWERED: &str = "question_answered";
    /// A community topic or reply was written (payload: `user_id`, `post_id`, `topic_id`,
    /// `opening`).
    pub const COMMUNITY_POST_SUBMITTED: &str = "community_post_submitted";
    /// A community post was published for the first time (same payload).
    pub const COMMUNITY_POST_APPROVED: &str = "community_post_approved";
    /// A shopper followed a recommendation (payload: `kind`, `sku`, `from`, `visitor_id`).
    pub const RECOMMENDATION_CLICKED: &str = "recommendation_clicked";
    /// A shopper added products to the cart from a recommendation (payload: `kind`, `skus`,
    /// `from`, `visitor_id`).
    pub const RECOMMENDATION_ADDED: &str = "recommendation_added";
    /// Recommendation blocks were shown (payload: `kinds`, `sku`, `visitor_id`): the
    /// denominator of their click-through rate.
    pub const RECOMMENDATION_SHOWN: &str = "recommendation_shown";
    /// A shopper added a product to a placed order from its confirmation page (payload:
    /// `order_id`, `user_id`, `visitor_id`, `sku`, `unit_cents`, `lines` as in `order_placed`).
    pub const ORDER_ADDON_ADDED: &str = "order_addon_added";
    /// Post-purchase offers were shown on an order page (payload: `order_id`, `skus`,
    /// `visitor_id`): the denominator of their click-through rate.
    pub const POST_PURCHASE_SHOWN: &str = "post_purchase_shown";
    /// A referred friend's first paid order was fulfilled and both sides were paid (payload:
    /// `user_id` of the referrer, `referee_id`, `referral_id`, `order_id`).
    pub const REFERRAL_CONVERTED: &str = "referral_converted";
}

/// Which consumer receives which event kinds. Adding a consumer is one line here plus its
/// arm in [`worker::apply`].
pub const SUBSCRIPTIONS: &[(&str, &[&str])] = &[
    (crate::catalog::ssr::STATS_CONSUMER, &[kind::PRODUCT_VIEWED, kind::ORDER_PLACED, kind::ORDER_ADDON_ADDED]),
    (crate::pricing::ssr::PRICING_CONSUMER, &[kind::STOCK_CHANGED, kind::PRICING_RULES_CHANGED]),
    (crate::pricing::signals::VELOCITY_CONSUMER, &[kind::ORDER_PLACED, kind::ORDER_ADDON_ADDED]),
    (
        crate::experiments::ssr::EXPERIMENTS_CONSUMER,
        &[kind::EXPERIMENT_EXPOSED, kind::CART_ITEM_ADDED, kind::ORDER_PLACED],
    ),
    (crate::plans::wishlist::store::WISHLIST_CONSUMER, &[kind::STOCK_CHANGED]),
    (
        crate::recommendations::ssr::RECOMMENDATIONS_CONSUMER,
        &[kind::ORDER_PLACED, kind::ORDER_ADDON_ADDED, kind::PRODUCT_VIEWED],
    ),
    (
        crate::loyalty::ssr::LOYALTY_CONSUMER,
        &[
            kind::ORDER_PLACED,
            kind::ORDER_FULFILLED,
            kind::ORDER_CANCELLED,
            kind::ORDER_REFUNDED,
            kind::REVIEW_APPROVED,
            kind::REFERRAL_CONVERTED,
        ],
    ),
    (crate::loyalty::referrals::REFERRALS_CONSUMER, &[kind::ORDER_FULFILLED, kind::ORDER_REFUNDED]),
    (
        crate::admin::ssr::ANALYTICS_CONSUMER,
        &[
            kind::CLIENT_EVENT,
            kind::PRODUCT_VIEWED,
            kind::ORDER_PLACED,
            kind::ORDER_ADDON_ADDED,
            kind::ORDER_CANCELLED,
            kind::ORDER_REFUNDED,
            kind::REVIEW_SUBMITTED,
            kind::REVIEW_APPROVED,
            kind::RECOMMENDATION_SHOWN,
            kind::RECOMMENDATION_CLICKED,
            kind::RECOMMENDATION_ADDED,
        ],
    ),
];

/// Appends an event and its pending deliveries. Call it inside the transaction that makes
/// the change; call [`crate::db::Db::wake_outbox`] after the commit.
#[tracing::instrument(name = "outbox.publish", skip(conn, payload))]
pub async fn publish(
    conn: &mut AnyConnection,
    kind: &str,
    aggregate: &str,
    payload: &impl Serialize,
) -> Result<i64, sqlx::Error> {
    let ids = publish_many(conn, kind, &[(aggregate, payload)]).await?;
    Ok(ids[0])
}

/// Events per multi-row append of [`publish_many`] (four parameters each).
const PUBLISH_CHUNK: usize = 200;

/// Appends one event of `kind` per `(aggregate, payload)` and their pending deliveries, in
/// a few multi-row inserts: a batch that changes thousands of rows (a competitor import)
/// publishes its events in tens of statements, not thousands. Same contract as [`publish`].
#[tracing::instrument(name = "outbox.publish_many", skip(conn, events), fields(n_events = events.len()))]
pub async fn publish_many<P: Serialize>(
    conn: &mut AnyConnection,
    kind: &str,
    events: &[(&str, P)],
) -> Result<Vec<i64>, sqlx::Error> {
    let now = now_ms();
    let consumers: Vec<&str> =
        SUBSCRIPTIONS.iter().filter(|(_, kinds)| kinds.contains(&kind)).map(|(consumer, _)| *consumer).collect();
    let mut ids = Vec::with_capacity(events.len());
    for chunk in events.chunks(PUBLISH_CHUNK) {
        let sql = format!(
            "INSERT INTO domain_events (kind, aggregate, payload, created_at) VALUES {} RETURNING id",
            crate::db::value_rows(1, chunk.len(), 4)
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for (aggregate, payload) in chunk {
            let payload = serde_json::to_string(payload).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            query = query.bind(kind).bind(*aggregate).bind(payload).bind(now);
        }
        let chunk_ids = query.fetch_all(&mut *conn).await?;
        for consumer in &consumers {
            let rows = (0..chunk_ids.len()).map(|row| format!("(${}, $1, $2)", row + 3)).collect::<Vec<_>>().join(", ");
            let sql = format!("INSERT INTO event_deliveries (event_id, consumer, available_at) VALUES {rows}");
            let mut query = sqlx::query(&sql).bind(*consumer).bind(now);
            for id in &chunk_ids {
                query = query.bind(*id);
            }
            query.execute(&mut *conn).await?;
        }
        ids.extend(chunk_ids);
    }
    metrics::counter!("mercato_events_published_total", "kind" => kind.to_string()).increment(events.len() as u64);
    Ok(ids)
}

/// An event as a consumer sees it.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: i64,
    pub kind: String,
    pub aggregate: String,
    pub payload: serde_json::Value,
    pub created_at: i64,
}
