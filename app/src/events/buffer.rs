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

#[tracing::instrument(name = "events.write_batch", skip_all, fields(n_events = events.len()))]
async fn write_batch(db: &Db, events: &[Pending]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    for (kind, aggregate, payload) in events {
        super::publish(&mut tx, kind, aggregate, payload).await?;
    }
    tx.commit().await?;
    db.wake_outbox();
    Ok(())
}
