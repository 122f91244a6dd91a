//! Live prices in the browser: one `EventSource` on `/api/v1/prices/stream` feeds a map of
//! SKU → latest price that every `PriceTag` reads. The map starts empty, so the hydrated
//! page renders exactly what the server rendered; updates arrive after hydration.

use crate::catalog::domain::PriceView;
use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Clone, Copy)]
pub struct LivePrices(pub RwSignal<HashMap<String, PriceView>>);

/// One `price` event of the stream.
#[cfg(feature = "hydrate")]
#[derive(Deserialize)]
struct LivePrice {
    sku: String,
    amount_cents: i64,
    base_cents: i64,
    lowest_30d_cents: Option<i64>,
    reason: String,
}

pub fn provide_live_prices() {
    let prices = LivePrices(RwSignal::new(HashMap::new()));
    provide_context(prices);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| connect(prices));
}

#[cfg(feature = "hydrate")]
fn connect(prices: LivePrices) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Ok(source) = web_sys::EventSource::new("/api/v1/prices/stream") else {
        return;
    };
    let on_price = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        let Some(data) = event.data().as_string() else {
            return;
        };
        if let Ok(live) = serde_json::from_str::<LivePrice>(&data) {
            let view = PriceView::new(live.amount_cents, live.base_cents, live.lowest_30d_cents, live.reason);
            prices.0.update(|map| {
                map.insert(live.sku, view);
            });
        }
    });
    let _ = source.add_event_listener_with_callback("price", on_price.as_ref().unchecked_ref());
    // The page lives as long as the stream; the browser reconnects it by itself.
    on_price.forget();
    std::mem::forget(source);
}

#[cfg(not(feature = "hydrate"))]
fn connect(_prices: LivePrices) {}
