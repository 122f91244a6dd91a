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
//!
//! A browser that accepts gzip gets the page compressed (about a quarter of its size) at no
//! compression cost per request: see [`GzipSegments`].

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
    /// The same segments compressed, for browsers that accept gzip (None if compressing failed).
    gzip: Option<GzipSegments>,
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
    let visitor_id = request.extensions().get::<app::accounts::ssr::Identity>().map(|identity| &identity.visitor_id);
    let assignments =
        request.extensions().get::<app::experiments::ssr::RequestAssignments>().map(|assigned| &assigned.0);
    Some(key_for(request.uri(), visitor_id.map(String::as_str), assignments, flags))
}

/// The key of a cacheable page for a visitor with these assignments.
fn key_for(
    uri: &axum::http::Uri,
    visitor_id: Option<&str>,
    assignments: Option<&app::experiments::domain::Assignments>,
    flags: &FlagSet,
) -> String {
    // A visitor's experiment assignments change the page; they are part of the key (as the
    // server completed them, so a first visit is keyed by the variant it is about to get).
    let assigned = assignments.map(|assigned| assigned.to_json()).unwrap_or_default();
    // A flag rolled out to a share of visitors changes the page per visitor: its value is part
    // of the key too.
    let rolled_out = match (visitor_id, assignments) {
        (Some(visitor_id), Some(assignments)) => flags.anonymous_key(visitor_id, assignments),
        _ => String::new(),
    };
    format!("{uri}|{assigned}|{rolled_out}")
}

impl PageCache {
    /// The answer of a hit on `entry` for this visitor: counted, its side effects recorded,
    /// assembled with `nonce`.
    fn hit(
        &self,
        entry: &Entry,
        path: &str,
        visitor_id: Option<&str>,
        assignments: Option<&app::experiments::domain::Assignments>,
        nonce: &str,
        gzip: bool,
    ) -> Response {
        metrics::counter!("mercato_page_cache_total", "result" => "hit").increment(1);
        if let Some(visitor_id) = visitor_id {
            record_side_effects(self, path, visitor_id, assignments);
        }
        assemble(entry, nonce, gzip)
    }

    /// The entry stored under `key`, if it is still fresh.
    fn fresh(&self, key: &str) -> Option<Arc<Entry>> {
        let entry = self.entries.read().ok().and_then(|entries| entries.get(key).cloned())?;
        (entry.stored_at.elapsed() < TTL).then_some(entry)
    }
}

/// On a cache hit the page's server function does not run, so what it would have recorded
/// (the product view, the hero exposure) is recorded here: exactly once per request either way.
fn record_side_effects(
    cache: &PageCache,
    path: &str,
    visitor_id: &str,
    assignments: Option<&app::experiments::domain::Assignments>,
) {
    if path == "/" {
        let Some(assignments) = assignments else {
            return;
        };
        // Cached pages are anonymous: the visitor is in the `new` segment.
        let segment = app::experiments::domain::Segment::New;
        cache.state.experiments.record_hero_exposure(&cache.state.events, visitor_id, segment, assignments);
    } else if let Some(Ok(sku)) = path.strip_prefix("/products/").map(app::shared::Sku::parse) {
        app::catalog::ssr::record_view(&cache.state.events, &sku, visitor_id);
    }
}

/// A page's segments compressed once, assembled into one gzip stream per request.
///
/// **Rationale:** the nonce differs in every response, so the page cannot be compressed once
/// as a whole, and compressing 15 KB per request would cost more than everything else a
/// cache hit does. Deflate lets a stream be made of independent parts: each segment is
/// compressed by a fresh compressor and ends with a sync flush (byte-aligned, no reference
/// to anything before it), and the request's nonce goes between them as a stored
/// (uncompressed) block. Per request that is copying bytes and one CRC-32 over the page.
struct GzipSegments {
    /// Deflate blocks of each segment, none of them final.
    deflated: Vec<Bytes>,
}

/// A gzip member's header: deflate, no name or time, unknown OS (RFC 1952).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// An empty stored block with the final bit set: the end of the deflate stream (RFC 1951).
const FINAL_EMPTY_BLOCK: [u8; 5] = [0x01, 0x00, 0x00, 0xff, 0xff];

impl GzipSegments {
    fn compress(segments: &[Bytes]) -> Option<GzipSegments> {
        let deflated =
            segments.iter().map(|segment| deflate_segment(segment).map(Bytes::from)).collect::<Option<_>>()?;
        Some(GzipSegments { deflated })
    }

    /// The gzip stream of `segments` (this entry's uncompressed ones) joined by `nonce`.
    fn assemble(&self, segments: &[Bytes], nonce: &str) -> Option<Vec<u8>> {
        // A stored block holds at most 65,535 bytes; a nonce is 22.
        let nonce_len = u16::try_from(nonce.len()).ok()?;
        let n_bytes = GZIP_HEADER.len()
            + self.deflated.iter().map(Bytes::len).sum::<usize>()
            + (5 + nonce.len()) * self.deflated.len()
            + FINAL_EMPTY_BLOCK.len()
            + 8;
        let mut out = Vec::with_capacity(n_bytes);
        out.extend_from_slice(&GZIP_HEADER);
        let mut crc = crc32fast::Hasher::new();
        let mut raw_len = 0usize;
        for (i, (deflated, segment)) in self.deflated.iter().zip(segments).enumerate() {
            if i > 0 {
                // Not final, stored; the previous block ended on a byte boundary.
                out.push(0x00);
                out.extend_from_slice(&nonce_len.to_le_bytes());
                out.extend_from_slice(&(!nonce_len).to_le_bytes());
                out.extend_from_slice(nonce.as_bytes());
                crc.update(nonce.as_bytes());
                raw_len += nonce.len();
            }
            out.extend_from_slice(deflated);
            crc.update(segment);
            raw_len += segment.len();
        }
        out.extend_from_slice(&FINAL_EMPTY_BLOCK);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        // ISIZE is the length modulo 2^32 by definition.
        out.extend_from_slice(&(raw_len as u32).to_le_bytes());
        Some(out)
    }
}

/// Raw deflate of `data` by a fresh compressor, ended by a sync flush: non-final blocks that
/// end on a byte boundary and refer to nothing outside `data`.
fn deflate_segment(data: &[u8]) -> Option<Vec<u8>> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut compress = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let consumed = usize::try_from(compress.total_in()).ok()?;
        compress.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync).ok()?;
        // The flush is complete once all input is in and the output did not fill the buffer.
        if usize::try_from(compress.total_in()).ok()? == data.len() && out.len() < out.capacity() {
            return Some(out);
        }
        out.reserve(out.capacity().max(1024));
    }
}

/// Whether the request's `Accept-Encoding` allows gzip (`gzip` or `*`, unless `q=0`).
fn accepts_gzip(request: &Request) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut params = coding.split(';').map(str::trim);
            let name = params.next().unwrap_or_default();
            let refused = params
                .any(|param| param.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().map_or(true, |q| q <= 0.0)));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
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

fn assemble(entry: &Entry, nonce: &str, gzip: bool) -> Response {
    let compressed = gzip.then(|| entry.gzip.as_ref().and_then(|g| g.assemble(&entry.segments, nonce))).flatten();
    let mut response = match compressed {
        Some(body) => {
            let mut response = (StatusCode::OK, body).into_response();
            response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            response
        }
        None => (StatusCode::OK, plain_body(entry, nonce)).into_response(),
    };
    // Caches between us and the browser must keep the two encodings apart.
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response.headers_mut().insert(header::CONTENT_TYPE, entry.content_type.clone());
    if let Some(route) = entry.route {
        response.extensions_mut().insert(route);
    }
    response
}

fn plain_body(entry: &Entry, nonce: &str) -> Vec<u8> {
    let n_bytes: usize = entry.segments.iter().map(Bytes::len).sum::<usize>() + nonce.len() * entry.segments.len();
    let mut body = Vec::with_capacity(n_bytes);
    for (i, segment) in entry.segments.iter().enumerate() {
        if i > 0 {
            body.extend_from_slice(nonce.as_bytes());
        }
        body.extend_from_slice(segment);
    }
    body
}

/// Answers a returning anonymous visitor's catalog page from the cache before the request
/// enters the other layers; everything else (and every miss) passes on unchanged.
///
/// **Rationale:** a cache hit needs only the visitor's id and assignments, a nonce and the
/// headers every response gets, but the layers in between (identity, body limit, admin gate,
/// server-function status, experiments, metrics, security headers) each box and clone the
/// rest of the stack for every request, which cost more than sending the page. A hit is
/// answered here without an await, so the rest of the stack is not even cloned. The answer
/// is the one the full path gives, built by the same functions: the same body, security
/// headers, `mercato_ab` cookie when an assignment was added, side effects and metrics. A
/// first visit (no valid visitor cookie) takes the full path, which mints the visitor's id,
/// and so does any request whose flags or assignments would need the database.
#[derive(Clone)]
pub struct FrontDoorLayer {
    front: Arc<FrontDoor>,
}

impl FrontDoorLayer {
    pub fn new(cache: PageCache, api: super::ApiState) -> FrontDoorLayer {
        FrontDoorLayer { front: Arc::new(FrontDoor { cache, api }) }
    }
}

struct FrontDoor {
    cache: PageCache,
    api: super::ApiState,
}

impl<S> tower::Layer<S> for FrontDoorLayer {
    type Service = FrontDoorService<S>;

    fn layer(&self, inner: S) -> FrontDoorService<S> {
        FrontDoorService { front: self.front.clone(), inner }
    }
}

/// See [`FrontDoorLayer`].
#[derive(Clone)]
pub struct FrontDoorService<S> {
    front: Arc<FrontDoor>,
    inner: S,
}

impl<S> tower::Service<Request> for FrontDoorService<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible> + Clone,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = futures::future::Either<
        std::future::Ready<Result<Response, std::convert::Infallible>>,
        tower::util::Oneshot<S, Request>,
    >;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        // Readiness is the inner stack's business, checked by `oneshot` when a request goes on.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        use tower::ServiceExt;
        match self.front.answer(&request) {
            Some(response) => futures::future::Either::Left(std::future::ready(Ok(response))),
            None => futures::future::Either::Right(self.inner.clone().oneshot(request)),
        }
    }
}

impl FrontDoor {
    /// The cached answer to `request`, if it is a returning visitor's hit.
    fn answer(&self, request: &Request) -> Option<Response> {
        use super::middleware as mw;
        use futures::FutureExt;
        if !is_cacheable(request) {
            return None;
        }
        let visitor_id = cookie(request, app::accounts::ssr::VISITOR_COOKIE)
            .filter(|id| app::accounts::ssr::is_valid_visitor_id(id))?;
        let started = Instant::now();
        let cache = &self.cache;
        let flags = cache.state.flags.fresh()?;
        // Cacheable requests carry no session: the visitor is anonymous, whose segment needs
        // no query, so the assignments are complete at the first poll.
        let (assignments, assignment_cookie) =
            mw::complete_assignments(&self.api, mw::assignments_of(request), visitor_id, None).now_or_never()?;
        let key = key_for(request.uri(), Some(visitor_id), Some(&assignments), &flags);
        let entry = cache.fresh(&key)?;
        let nonce = mw::new_nonce();
        let mut response = cache.hit(
            &entry,
            request.uri().path(),
            Some(visitor_id),
            Some(&assignments),
            &nonce,
            accepts_gzip(request),
        );
        if let Some(assignment_cookie) = assignment_cookie {
            response.headers_mut().append(header::SET_COOKIE, assignment_cookie);
        }
        mw::count_request(request.method(), &response, started);
        mw::set_security_headers(response.headers_mut(), &nonce);
        Some(response)
    }
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
    let gzip = accepts_gzip(&request);
    if let Some(entry) = cache.fresh(&key) {
        let visitor_id = request.extensions().get::<app::accounts::ssr::Identity>().map(|i| i.visitor_id.as_str());
        let assignments =
            request.extensions().get::<app::experiments::ssr::RequestAssignments>().map(|assigned| &assigned.0);
        return cache.hit(&entry, request.uri().path(), visitor_id, assignments, &nonce, gzip);
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
    let (mut parts, body) = response.into_parts();
    // The page is already in memory (rendered here); reading it cannot fail for its size.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be read").into_response();
    };
    let Some(content_type) = parts.headers.get(header::CONTENT_TYPE).cloned() else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if bytes.len() > MAX_PAGE_BYTES {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let route = parts.extensions.get::<RouteLabel>().copied();
    let segments = split_at_nonce(&bytes, &nonce);
    let entry = Arc::new(Entry {
        stored_at: Instant::now(),
        gzip: GzipSegments::compress(&segments),
        segments,
        content_type,
        route,
    });
    if let Ok(mut entries) = cache.entries.write() {
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, entry| entry.stored_at.elapsed() < TTL);
        }
        if entries.len() < MAX_ENTRIES {
            entries.insert(key, entry.clone());
        }
    }
    parts.headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let compressed = gzip.then(|| entry.gzip.as_ref().and_then(|g| g.assemble(&entry.segments, &nonce))).flatten();
    match compressed {
        Some(body) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            Response::from_parts(parts, Body::from(body))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_of(body: &'static [u8], nonce: &str) -> Entry {
        let segments = split_at_nonce(&Bytes::from_static(body), nonce);
        Entry {
            stored_at: Instant::now(),
            gzip: GzipSegments::compress(&segments),
            segments,
            content_type: HeaderValue::from_static("text/html"),
            route: None,
        }
    }

    fn body_of(response: Response) -> Vec<u8> {
        futures::executor::block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap().to_vec()
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("a valid gzip stream");
        out
    }

    #[test]
    fn a_body_is_split_at_every_nonce_and_reassembled_with_another() {
        let entry = entry_of(b"<script nonce=\"abc\">x</script><link nonce=\"abc\">", "abc");
        assert_eq!(entry.segments.len(), 3);
        let response = assemble(&entry, "xyz", false);
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body_of(response), b"<script nonce=\"xyz\">x</script><link nonce=\"xyz\">");
    }

    #[test]
    fn a_gzip_answer_inflates_to_the_page_with_the_requests_nonce() {
        // Nonces at the very start and end and side by side give empty segments.
        let entry = entry_of(b"abc<script nonce=\"abc\">x</script>abcabc<link nonce=\"abc\">abc", "abc");
        let response = assemble(&entry, "NONCE-of-22-characters", true);
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(response.headers()[header::VARY], "accept-encoding");
        let plain = String::from_utf8(gunzip(&body_of(response))).unwrap();
        let expected =
            "abc<script nonce=\"abc\">x</script>abcabc<link nonce=\"abc\">abc".replace("abc", "NONCE-of-22-characters");
        assert_eq!(plain, expected);
    }

    proptest::proptest! {
        /// Any page, split anywhere, with any nonce: the gzip stream (one CRC over all of it,
        /// stored blocks between independently compressed parts) inflates to the plain page.
        #[test]
        fn every_gzip_assembly_inflates_to_the_plain_assembly(
            parts in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..3000), 1..8),
            nonce in "[A-Za-z0-9_-]{0,40}",
        ) {
            let segments: Vec<Bytes> = parts.into_iter().map(Bytes::from).collect();
            let entry = Entry {
                stored_at: Instant::now(),
                gzip: GzipSegments::compress(&segments),
                segments,
                content_type: HeaderValue::from_static("text/html"),
                route: None,
            };
            let plain = plain_body(&entry, &nonce);
            let compressed = entry.gzip.as_ref().unwrap().assemble(&entry.segments, &nonce).unwrap();
            proptest::prop_assert_eq!(gunzip(&compressed), plain);
        }
    }

    #[test]
    fn a_large_page_compresses_to_a_fraction_and_inflates_intact() {
        // Repetitive markup like a real page, larger than one deflate block.
        let page: String =
            (0..2000).map(|i| format!("<li data-sku=\"SKU-{i}\" class=\"card\">Item {i}</li>")).collect();
        let page: &'static [u8] = Box::leak(
            format!("<script nonce=\"n1\"></script>{page}<script nonce=\"n1\">").into_bytes().into_boxed_slice(),
        );
        let entry = entry_of(page, "n1");
        let compressed = entry.gzip.as_ref().unwrap().assemble(&entry.segments, "other").unwrap();
        assert!(compressed.len() * 4 < page.len(), "{} of {}", compressed.len(), page.len());
        assert_eq!(gunzip(&compressed), plain_body(&entry, "other"));
    }

    #[test]
    fn gzip_is_chosen_only_when_the_browser_accepts_it() {
        let with = |value: &str| {
            let request =
                Request::builder().uri("/").header(header::ACCEPT_ENCODING, value).body(Body::empty()).unwrap();
            accepts_gzip(&request)
        };
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("br"));
        assert!(!with("gzip;q=0"));
        assert!(!with("gzip; q=0.0, br"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&Request::builder().uri("/").body(Body::empty()).unwrap()));
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
