//! Events waiting to be published. Page renders and the browser-event endpoint hand events over
//! without waiting for a database write; [`run_flusher`] publishes them in batches, one
//! transaction per batch.
//!
//! **Rationale:** views, exposures and browser events are analytics, not money. Writing one
//! outbox event per page view made every page a serialized SQLite write (1.7k pages/s, p99
//! ~0.5 s); batching makes it one write per batch. A crash loses at most the events of the
//! last flush interval. Events that move money or stock are published in the transaction of
//! the change instead ([`super::publish`]).

use crate::db::Db;
use tokio::sync::mpsc;

/// One event to publish: kind, aggregate and JSON payload.
pub type Pending = (&'static str, String, serde_json::Value);

#[derive(Clone)]
pub struct EventBuffer {
    sender: mpsc::Sender<Pending>,
}

/// Events queued at most; beyond this, new events are dropped (and counted) rather than
/// slowing pages down.
const QUEUE: usize = 20_000;
/// Events written per transaction at most.
const BATCH: usize = 1_000;
/// How long an event may wait for its batch.
const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

impl EventBuffer {
    pub fn new() -> (EventBuffer, mpsc::Receiver<Pending>) {
        let (sender, receiver) = mpsc::channel(QUEUE);
        (EventBuffer { sender }, receiver)
    }

    /// Queues an event; returns false (and counts it) when the queue is full.
    pub fn publish(&self, kind: &'static str, aggregate: String, payload: serde_json::Value) -> bool {
        if self.sender.try_send((kind, aggregate, payload)).is_err() {
            metrics::counter!("mercato_events_dropped_total", "kind" => kind).increment(1);
            return false;
        }
        true
    }
}

/// Publishes queued events until every [`EventBuffer`] is dropped, then publishes what is left.
pub async fn run_flusher(db: Db, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        let deadline = tokio::time::Instant::now() + FLUSH_INTERVAL;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(event)) => batch.push(event),
                Ok(None) | Err(_) => break,
            }
        }
        if let Err(error) = write_batch(&db, &batch).await {
            tracing::warn!(%error, n_events = batch.len(), "could not publish buffered events");
        }
        batch.clear();
    }
}

/// Merges identical events of one batch into one carrying `"count": n` (n > 1), in order of
/// first appearance.
///
/// **Rationale:** a busy product page is one visitor reloading or many requests from one
/// browser; publishing each as its own event made the outbox worker, which applies one
/// delivery per transaction, fall minutes behind under load. Consumers read `count`
/// (absent means one).
pub fn coalesce(events: &[Pending]) -> Vec<Pending> {
    let mut merged: Vec<(Pending, i64)> = Vec::with_capacity(events.len());
    let mut index: std::collections::HashMap<(&str, &str, String), usize> = std::collections::HashMap::new();
    for event in events {
        let (kind, aggregate, payload) = event;
        let key = (*kind, aggregate.as_str(), payload.to_string());
        match index.get(&key) {
            Some(&i) => merged[i].1 += 1,
            None => {
                index.insert(key, merged.len());
                merged.push((event.clone(), 1));
            }
        }
    }
    merged
        .into_iter()
        .map(|((kind, aggregate, mut payload), count)| {
            if let (true, serde_json::Value::Object(map)) = (count > 1, &mut payload) {
                map.insert("count".into(), count.into());
            }
            (kind, aggregate, payload)
        })
        .collect()
}

#[tracing::instrument(name = "events.write_batch", skip_all, fields(n_events = events.len()))]
async fn write_batch(db: &Db, events: &[Pending]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    for (kind, aggregate, payload) in coalesce(events) {
        super::publish(&mut tx, kind, &aggregate, &payload).await?;
    }
    tx.commit().await?;
    db.wake_outbox();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::coalesce;
    use serde_json::json;

    #[test]
    fn identical_events_merge_into_one_with_a_count_and_others_stay_apart() {
        let view = |visitor: &str| {
            ("product_viewed", "COF-001".to_string(), json!({ "sku": "COF-001", "visitor_id": visitor }))
        };
        let merged = coalesce(&[view("a"), view("b"), view("a"), view("a")]);
        assert_eq!(
            merged,
            vec![
                ("product_viewed", "COF-001".to_string(), json!({ "sku": "COF-001", "visitor_id": "a", "count": 3 })),
                ("product_viewed", "COF-001".to_string(), json!({ "sku": "COF-001", "visitor_id": "b" })),
            ]
        );
    }
}
