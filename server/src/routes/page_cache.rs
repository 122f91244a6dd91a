//! A short-lived cache of rendered pages that are the same for every anonymous visitor.
//!
//! **Rationale:** the home, category, search and product pages of a logged-out visitor with an
//! empty cart depend only on the catalog. Rendering them (database reads plus Leptos SSR) for every
//! request costs two orders of magnitude more than sending bytes; caching them for a second
//! makes the shop's busiest pages cheap without changing what anyone sees. Everything personal
//! bypasses the cache: a session, a cart, any page that is not a plain catalog view.
//!
//! Each response still gets its own CSP nonce: the cached body is kept split at the nonce of
//! the render that produced it, and the request's nonce is spliced in on every hit.

use super::middleware::{cookie, CspNonce, RouteLabel};
use app::accounts::ssr::SESSION_COOKIE;
use app::flags::ssr::FlagSet;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a rendered page may be served. Prices also update live in open pages, and
/// checkout always charges the current price, so a second of staleness costs nothing.
const TTL: Duration = Duration::from_secs(1);
/// Pages larger than this are not cached (a page is ~15 KB).
const MAX_PAGE_BYTES: usize = 512 * 1024;
/// At most this many distinct URLs are kept (search queries are unbounded).
const MAX_ENTRIES: usize = 2048;

/// Set on responses while a visitor's cart is not empty; such visitors bypass the cache.
pub const CART_COOKIE: &str = "mercato_cart";

struct Entry {
    stored_at: Instant,
    /// The body split at each occurrence of the nonce it was rendered with.
    segments: Vec<Bytes>,
    content_type: HeaderValue,
    /// The route that rendered it, so a hit is counted under the same route as a render.
    route: Option<RouteLabel>,
}

#[derive(Clone)]
pub struct PageCache {
    entries: Arc<RwLock<HashMap<String, Arc<Entry>>>>,
    /// A page served from the cache still records its product view or hero exposure.
    state: app::state::AppState,
}

impl PageCache {
    pub fn new(state: app::state::AppState) -> PageCache {
        PageCache { entries: Arc::default(), state }
    }
}

/// Whether this request may be answered from (and stored in) the cache at all: an anonymous
/// GET of a catalog page. Cheap, so everything else passes without reading the flags.
fn is_cacheable(request: &Request) -> bool {
    let path = request.uri().path();
    request.method() == Method::GET
        && (path == "/" || path == "/search" || path.starts_with("/category/") || path.starts_with("/products/"))
        && cookie(request, SESSION_COOKIE).is_none()
        && cookie(request, CART_COOKIE).is_none()
}

/// Whether this request may be answered from (and stored in) the cache, and under which key.
fn cache_key(request: &Request, flags: &FlagSet) -> Option<String> {
    if !is_cacheable(request) {
        return None;
    }
    // A visitor's experiment assignments change the page; they are part of the key (as the
    // server completed them, so a first visit is keyed by the variant it is about to get).
    let assignments = request
        .extensions()
        .get::<app::experiments::ssr::RequestAssignments>()
        .map(|assigned| assigned.0.to_json())
        .unwrap_or_default();
    // A flag rolled out to a share of visitors changes the page per visitor: its value is part
    // of the key too.
    let rolled_out = match (
        request.extensions().get::<app::accounts::ssr::Identity>(),
        request.extensions().get::<app::experiments::ssr::RequestAssignments>(),
    ) {
        (Some(identity), Some(assigned)) => flags.anonymous_key(&identity.visitor_id, &assigned.0),
        _ => String::new(),
    };
    Some(format!("{}|{assignments}|{rolled_out}", request.uri()))
}

/// On a cache hit the page's server function does not run, so what it would have recorded
/// (the product view, the hero exposure) is recorded here: exactly once per request either way.
fn record_page_side_effects(cache: &PageCache, request: &Request) {
    let Some(identity) = request.extensions().get::<app::accounts::ssr::Identity>() else {
        return;
    };
    let path = request.uri().path();
    if path == "/" {
        let Some(assigned) = request.extensions().get::<app::experiments::ssr::RequestAssignments>() else {
            return;
        };
        // Cached pages are anonymous: the visitor is in the `new` segment.
        let segment = app::experiments::domain::Segment::New;
        cache.state.experiments.record_hero_exposure(&cache.state.events, &identity.visitor_id, segment, &assigned.0);
    } else if let Some(Ok(sku)) = path.strip_prefix("/products/").map(app::shared::Sku::parse) {
        app::catalog::ssr::record_view(&cache.state.events, &sku, &identity.visitor_id);
    }
}

fn split_at_nonce(body: &Bytes, nonce: &str) -> Vec<Bytes> {
    let mut segments = Vec::new();
    let needle = nonce.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while !needle.is_empty() && i + needle.len() <= body.len() {
        if &body[i..i + needle.len()] == needle {
            segments.push(body.slice(start..i));
            i += needle.len();
            start = i;
        } else {
            i += 1;
        }
    }
    segments.push(body.slice(start..));
    segments
}

fn assemble(entry: &Entry, nonce: &str) -> Response {
    let n_bytes: usize = entry.segments.iter().map(Bytes::len).sum::<usize>() + nonce.len() * entry.segments.len();
    let mut body = Vec::with_capacity(n_bytes);
    for (i, segment) in entry.segments.iter().enumerate() {
        if i > 0 {
            body.extend_from_slice(nonce.as_bytes());
        }
        body.extend_from_slice(segment);
    }
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, entry.content_type.clone());
    if let Some(route) = entry.route {
        response.extensions_mut().insert(route);
    }
    response
}

pub async fn serve_cached(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    if !is_cacheable(&request) {
        return next.run(request).await;
    }
    // Flags that cannot be read: the page is rendered, not shared.
    let Ok(flags) = cache.state.flags.load(&cache.state.db).await else {
        return next.run(request).await;
    };
    let Some(key) = cache_key(&request, &flags) else {
        return next.run(request).await;
    };
    let nonce = request.extensions().get::<CspNonce>().map(|n| n.0.clone()).unwrap_or_default();
    if let Some(entry) = cache.entries.read().ok().and_then(|entries| entries.get(&key).cloned()) {
        if entry.stored_at.elapsed() < TTL {
            metrics::counter!("mercato_page_cache_total", "result" => "hit").increment(1);
            record_page_side_effects(&cache, &request);
            return assemble(&entry, &nonce);
        }
    }
    metrics::counter!("mercato_page_cache_total", "result" => "miss").increment(1);
    let response = next.run(request).await;
    // Only plain successful HTML without cookies of its own is shared.
    let shareable = response.status() == StatusCode::OK
        && !response.headers().contains_key(header::SET_COOKIE)
        && !response.headers().contains_key(header::LOCATION)
        && !nonce.is_empty();
    if !shareable {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "page too large").into_response();
    };
    if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE).cloned() {
        let route = parts.extensions.get::<RouteLabel>().copied();
        let entry = Arc::new(Entry {
            stored_at: Instant::now(),
            segments: split_at_nonce(&bytes, &nonce),
            content_type,
            route,
        });
        if let Ok(mut entries) = cache.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, entry| entry.stored_at.elapsed() < TTL);
            }
            if entries.len() < MAX_ENTRIES {
                entries.insert(key, entry);
            }
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_split_at_every_nonce_and_reassembled_with_another() {
        let body = Bytes::from_static(b"<script nonce=\"abc\">x</script><link nonce=\"abc\">");
        let entry = Entry {
            stored_at: Instant::now(),
            segments: split_at_nonce(&body, "abc"),
            content_type: HeaderValue::from_static("text/html"),
            route: None,
        };
        assert_eq!(entry.segments.len(), 3);
        let response = assemble(&entry, "xyz");
        let bytes = futures::executor::block_on(axum::body::to_bytes(response.into_body(), 1024)).unwrap();
        assert_eq!(&bytes[..], b"<script nonce=\"xyz\">x</script><link nonce=\"xyz\">");
    }

    fn page_request(visitor_id: &str) -> Request {
        let mut request = Request::builder().uri("/products/TEA-001").body(Body::empty()).unwrap();
        request.extensions_mut().insert(app::accounts::ssr::Identity::anonymous(visitor_id.to_string()));
        request.extensions_mut().insert(app::experiments::ssr::RequestAssignments(Default::default()));
        request
    }

    #[test]
    fn visitors_on_either_side_of_a_rollout_get_different_keys_and_others_share_one() {
        use app::flags::domain::{parse_rules, Flag, FlagKind};
        let flag = |rules: &str| Flag {
            key: "frequently_bought_together".into(),
            description: String::new(),
            kind: FlagKind::Boolean,
            on: true,
            default: serde_json::json!(false),
            off: serde_json::json!(false),
            rules: parse_rules(FlagKind::Boolean, rules).unwrap(),
            version: 1,
        };
        let ids: Vec<String> = (1u32..400).map(|i| format!("{:032x}", i)).collect();
        let half = FlagSet::new(1, vec![flag("rollout 50% => true")]);
        let inside = |id: &String| app::flags::domain::in_rollout("frequently_bought_together", id, 5000);
        let member = ids.iter().find(|id| inside(id)).unwrap();
        let other_member = ids.iter().filter(|id| inside(id)).nth(1).unwrap();
        let outsider = ids.iter().find(|id| !inside(id)).unwrap();
        let key = |set: &FlagSet, id: &str| cache_key(&page_request(id), set).unwrap();
        assert_ne!(key(&half, member), key(&half, outsider), "a member's page is never an outsider's");
        assert_eq!(key(&half, member), key(&half, other_member), "members share one cached page");
        // Without a rollout every anonymous visitor shares the page.
        let everyone = FlagSet::new(1, vec![flag("everyone => true")]);
        assert_eq!(key(&everyone, member), key(&everyone, outsider));
    }
}
