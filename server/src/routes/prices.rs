//! `GET /api/v1/prices/stream`: Server-Sent Events of price changes.
//!
//! One tailer per server reads new `price_changed` events from the database and fans them
//! out to this server's subscribers. Reading the shared event log (rather than an in-memory
//! channel fed by the consumer) means every server streams every change, whichever server
//! applied it.

use super::ApiState;
use app::db::Db;
use app::pricing::ssr::{last_event_id, price_changes_since, PriceChanged};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How often the tailer looks for new price changes.
const TAIL_INTERVAL: Duration = Duration::from_millis(100);

pub type PriceFeed = broadcast::Sender<(i64, PriceChanged)>;

pub fn new_feed() -> PriceFeed {
    broadcast::channel(1024).0
}

/// Follows the event log until `stop` turns true.
pub async fn run_tailer(db: Db, feed: PriceFeed, mut stop: watch::Receiver<bool>) {
    let mut last_id = last_event_id(&db).await.unwrap_or(0);
    let applied = db.applied_wakeup();
    loop {
        // Registered before the query, so a delivery applied while it runs is not missed.
        let woken = applied.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        match price_changes_since(&db, last_id, 500).await {
            Ok(changes) => {
                for (id, change) in changes {
                    last_id = id;
                    // No subscribers is fine: nobody is watching right now.
                    let _ = feed.send((id, change));
                }
            }
            Err(error) => tracing::warn!(%error, "price tailer query failed"),
        }
        // Woken at once when this server applied a delivery; the interval catches changes
        // applied by other servers.
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => break,
            _ = &mut woken => {},
            _ = tokio::time::sleep(TAIL_INTERVAL) => {},
        }
    }
}

/// The JSON of one SSE `price` event: the product's new price block plus its SKU.
fn event_json(change: &PriceChanged) -> String {
    let live = app::catalog::domain::LivePrice {
        sku: change.sku.clone(),
        amount_cents: change.amount_cents,
        base_cents: change.base_cents,
        currency: app::shared::money::CURRENCY.to_string(),
        lowest_30d_cents: change.lowest_30d_cents,
        reason: change.reason.clone(),
    };
    serde_json::to_string(&live).unwrap_or_default()
}

#[utoipa::path(get, path = "/prices/stream", tag = "catalog", responses((status = 200, description = "Server-Sent Events: an `event: price` with the product's SKU and new price for every price change, until the server shuts down.", content_type = "text/event-stream", body = String)))]
pub async fn stream(State(state): State<ApiState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.prices.subscribe();
    let shutdown = state.shutdown.clone();
    let events = futures::stream::unfold((receiver, shutdown), |(mut receiver, mut shutdown)| async move {
        loop {
            let received = tokio::select! {
                _ = shutdown.wait_for(|stopping| *stopping) => None,
                received = receiver.recv() => Some(received),
            };
            match received {
                Some(Ok((id, change))) => {
                    let event = Event::default().event("price").id(id.to_string()).data(event_json(&change));
                    return Some((Ok(event), (receiver, shutdown)));
                }
                // A slow client missed some changes; it goes on with the next ones.
                Some(Err(broadcast::error::RecvError::Lagged(_))) => continue,
                Some(Err(broadcast::error::RecvError::Closed)) | None => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
