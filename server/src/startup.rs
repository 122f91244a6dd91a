//! Builds the application (database, migrations, router, workers) and runs it until a
//! shutdown signal. `Application::build` is what `main` and the HTTP tests share.

use crate::config::Settings;
use crate::routes::{api, middleware as mw, ApiState};
use app::db::Db;
use app::state::AppState;
use app::{shell, App};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::trace::TraceLayer;

/// The whole HTTP surface as one service: the router behind the layers (see [`service`]).
pub type HttpService =
    tower::util::BoxCloneSyncService<Request<Body>, axum::response::Response, std::convert::Infallible>;

pub struct Application {
    listener: TcpListener,
    router: HttpService,
    db: Db,
    port: u16,
    prices: crate::routes::prices::PriceFeed,
    events: tokio::sync::mpsc::Receiver<app::events::buffer::Pending>,
    experiments: app::experiments::ssr::ExperimentCatalog,
    state: AppState,
    price_review_every: std::time::Duration,
    /// Flips to true when shutdown starts: workers stop and long-lived streams end, so
    /// in-flight requests can finish and the server can exit.
    shutdown: watch::Sender<bool>,
}

/// How often histogram samples are folded into their summaries.
const METRICS_UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The Prometheus recorder is process-global; tests build many apps in one process.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            // A recorder built by hand gets no upkeep: without it every histogram sample stays
            // in memory until the next scrape (a server nobody scrapes grows with each request)
            // and that scrape then folds all of them at once.
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || loop {
                std::thread::sleep(METRICS_UPKEEP_EVERY);
                upkeep.run_upkeep();
            });
            if let Err(error) = spawned {
                tracing::warn!(%error, "could not start the metrics upkeep thread");
            }
            handle
        })
        .clone()
}

/// Where the built site (wasm, js, css, images) is served from.
fn site_root() -> String {
    std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into())
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = Db::connect(&settings.database_url, settings.max_connections).await?;
        db.migrate().await?;
        if settings.seed_demo && crate::seed::catalog_is_empty(&db).await? {
            tracing::info!("empty database: seeding the demo shop");
            crate::seed::seed_demo(&db, 400, false).await?;
        }
        let inventory_token: Arc<str> = match settings.inventory_token.clone() {
            Some(token) => token.into(),
            None => {
                let token = app::accounts::ssr::random_token();
                tracing::warn!(
                    "MERCATO_INVENTORY_TOKEN is not set; the inventory webhook accepts this generated token: {token}"
                );
                token.into()
            }
        };
        let listener = TcpListener::bind(settings.addr).await?;
        let port = listener.local_addr()?.port();
        let leptos_options = LeptosOptions::builder()
            .output_name(app::OUTPUT_NAME)
            .site_root(site_root())
            .site_pkg_dir("pkg")
            .site_addr(listener.local_addr()?)
            .build();
        let (events, events_receiver) = app::events::buffer::EventBuffer::new();
        let experiments = app::experiments::ssr::ExperimentCatalog::new(settings.experiments_enabled);
        experiments.reload(&db).await?;
        let app_state = AppState::new(app::state::Services {
            db: db.clone(),
            leptos_options,
            secure_cookies: settings.secure_cookies,
            events,
            experiments,
            high_value_cents: settings.high_value_cents,
            plans: app::plans::ssr::PlanCache::default(),
            payments: Arc::new(app::plans::ssr::ManualInvoices),
            loyalty: settings.loyalty,
            post_limiter: app::reviews::ssr::PostLimiter::per_minute(settings.posts_per_minute),
            rate_limits: app::shared::limits::RateLimits::new(settings.limits),
            review_blocks: app::reviews::ssr::BlockCache::default(),
            recommendations: settings.recommendations,
            flags: Default::default(),
            addon_window_ms: settings.addon_window_minutes * 60_000,
        });
        let prices = crate::routes::prices::new_feed();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let api_state = ApiState::new(crate::routes::ApiServices {
            app: app_state.clone(),
            inventory_token,
            metrics: metrics_handle(),
            prices: prices.clone(),
            shutdown: shutdown_rx,
            event_limiters: crate::routes::experiments::EventLimiters::new(&settings.limits),
        });
        Ok(Application {
            listener,
            experiments: app_state.experiments.clone(),
            state: app_state.clone(),
            router: service(api_state),
            db,
            port,
            prices,
            events: events_receiver,
            price_review_every: settings.price_review_every,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// The state handlers share (tests drive background jobs through it).
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until Ctrl-C or SIGTERM, then stops accepting, finishes in-flight requests,
    /// stops the outbox worker and closes the pool.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let stop_tx = self.shutdown;
        let stop_rx = stop_tx.subscribe();
        let worker_db = self.db.clone();
        let mut worker_stop = stop_rx.clone();
        let worker = tokio::spawn(async move {
            app::events::worker::run(worker_db, async move {
                let _ = worker_stop.wait_for(|stopped| *stopped).await;
            })
            .await;
        });
        let event_flusher = tokio::spawn(app::events::buffer::run_flusher(self.db.clone(), self.events));
        let reloader =
            tokio::spawn(app::experiments::ssr::run_reloader(self.db.clone(), self.experiments, stop_rx.clone()));
        let renewals = tokio::spawn(app::plans::ssr::run_renewals(self.state.clone(), stop_rx.clone()));
        let expiry = tokio::spawn(app::loyalty::ssr::run_expiry(self.db.clone(), self.state.loyalty, stop_rx.clone()));
        let price_review = tokio::spawn(tracing::Instrument::instrument(
            app::pricing::signals::run_review(self.db.clone(), self.price_review_every, stop_rx.clone()),
            tracing::info_span!("pricing_review"),
        ));
        let tailer = tokio::spawn(crate::routes::prices::run_tailer(self.db.clone(), self.prices.clone(), stop_rx));
        tracing::info!("listening on http://{}", self.listener.local_addr()?);
        // With the peer's address, which the per-address rate limits key on.
        let service = axum::ServiceExt::into_make_service_with_connect_info::<std::net::SocketAddr>(self.router);
        let result = axum::serve(without_nagle(self.listener), service)
            .with_graceful_shutdown({
                let stop_tx = stop_tx.clone();
                async move {
                    stop.await;
                    tracing::info!("shutting down");
                    let _ = stop_tx.send(true);
                }
            })
            .await;
        let _ = stop_tx.send(true);
        // The router (and with it every event sender) is gone once serving stopped, so the
        // flusher writes what is queued and ends; bounded in case a sender lingers.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), event_flusher).await;
        let _ = reloader.await;
        let _ = worker.await;
        let _ = tailer.await;
        let _ = renewals.await;
        let _ = expiry.await;
        let _ = price_review.await;
        self.db.close().await;
        result
    }
}

/// Page routes per bundle (shop, account area, admin area), generated once per process.
type RouteLists = [(app::Bundle, Vec<leptos_axum::AxumRouteListing>); 3];

/// **Rationale:** Leptos generates a route list by rendering the app while a process-wide
/// flag stops every resource from loading. A server rendering a page at that moment (another
/// server in the same process, as in the HTTP tests) would wait forever on its resources.
/// Generated once, before the first server is built, the flag is never up while one serves.
fn page_routes() -> &'static RouteLists {
    static ROUTES: OnceLock<RouteLists> = OnceLock::new();
    ROUTES.get_or_init(|| {
        [
            (app::Bundle::Shop, generate_route_list(App)),
            (app::Bundle::Account, generate_route_list(app::AccountApp)),
            (app::Bundle::Admin, generate_route_list(app::AdminApp)),
        ]
    })
}

/// The path templates of every page (`/products/{sku}`), of all three bundles: the list the
/// router registers, for the authorization tests.
pub fn page_paths() -> Vec<String> {
    page_routes().iter().flat_map(|(_, listings)| listings.iter().map(|listing| listing.path().to_string())).collect()
}

/// The bundle, styles and images, with their pre-compressed `.br`/`.gz` copies.
///
/// **Rationale:** served here rather than by Leptos's fallback, which answers anything but
/// 200 with the not-found page: a browser revalidating its cached wasm (`If-Modified-Since`
/// → 304) got a 404 and the page never hydrated. The bundle's names carry no hash, so the
/// browser must revalidate (`no-cache`); images change rarely.
fn static_files<S: Clone + Send + Sync + 'static>(site_root: &str) -> Router<S> {
    use tower_http::services::{ServeDir, ServeFile};
    use tower_http::set_header::SetResponseHeaderLayer;
    let cache = |value: &'static str| {
        SetResponseHeaderLayer::if_not_present(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static(value),
        )
    };
    let root = std::path::Path::new(site_root);
    let dir = |name: &str| ServeDir::new(root.join(name)).precompressed_br().precompressed_gzip();
    Router::new()
        .nest_service("/pkg", tower::ServiceBuilder::new().layer(cache("no-cache")).service(dir("pkg")))
        .nest_service("/img", tower::ServiceBuilder::new().layer(cache("public, max-age=3600")).service(dir("img")))
        .route_service("/favicon.svg", ServeFile::new(root.join("favicon.svg")))
        .route_service("/robots.txt", ServeFile::new(root.join("robots.txt")))
}

/// The listener with Nagle's algorithm off on every connection it accepts.
///
/// **Rationale:** a file body (the wasm, the styles, an image) goes out as the headers and
/// then the file's chunks; with Nagle on, the last small write waits for the browser's ACK of
/// the previous one, which the browser delays by up to 40 ms: every asset took 40 ms and a
/// keep-alive connection served about 25 of them a second. Our writes are whole responses
/// or large chunks, so there is nothing for Nagle to coalesce.
pub fn without_nagle(listener: TcpListener) -> axum::serve::TapIo<TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn set_nodelay(stream: &mut tokio::net::TcpStream) {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    }
    listener.tap_io(set_nodelay as fn(&mut tokio::net::TcpStream))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// Context every Leptos render and server function gets: the state, a scope for the
/// request's evaluated flags, and this response's CSP nonce so inline hydration scripts are
/// allowed by the Content-Security-Policy.
fn provide_request_context(state: &AppState) {
    provide_context(state.clone());
    provide_context(app::flags::ssr::FlagScope::default());
    if let Some(parts) = use_context::<http::request::Parts>() {
        if let Some(nonce) = parts.extensions.get::<mw::CspNonce>() {
            provide_context(leptos::nonce::Nonce::from_value(nonce.0.clone()));
        }
    }
}

async fn server_fn_handler(State(state): State<AppState>, request: Request<Body>) -> impl IntoResponse {
    handle_server_fns_with_context(move || provide_request_context(&state), request).await
}

/// The whole HTTP surface: [`router`] behind the layers every request passes. A function of
/// the state so tests can drive it without a socket.
///
/// **Rationale:** the layers wrap the router once, rather than every route through
/// `Router::layer`: axum clones a route's whole stack of layers for every call (a boxed
/// service and a state per layer), and a page served from the page cache never needs the
/// router at all. Outermost first:
/// - tracing opens the request's span (its `matched_path` is filled in by [`mw::tag_route`]);
/// - a returning anonymous visitor's cached catalog page is answered at once, by the same
///   functions as the layers below ([`crate::routes::page_cache::FrontDoorLayer`]);
/// - `security_headers` mints the CSP nonce and sets the headers on every response;
/// - `record_metrics` counts the request under the route [`mw::tag_route`] (or the page cache)
///   put on the response;
/// - the body limit;
/// - `identity` resolves the visitor and the session, `admin_gate` keeps everyone but the
///   owner out of `/api/v1/admin/…`, `server_fn_status` gives a server function's error its
///   own status, `assign_experiments` resolves the visitor's variants;
/// - the page cache answers anonymous catalog pages it holds.
pub fn service(api_state: ApiState) -> HttpService {
    use axum::middleware::{from_fn, from_fn_with_state};
    let page_cache = crate::routes::page_cache::PageCache::new(api_state.app.clone());
    let layers = tower::ServiceBuilder::new()
        .map_response(IntoResponse::into_response)
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
            tracing::info_span!(
                "http",
                method = %request.method(),
                path = %request.uri().path(),
                matched_path = tracing::field::Empty
            )
        }))
        .layer(crate::routes::page_cache::FrontDoorLayer::new(page_cache.clone(), api_state.clone()))
        .layer(from_fn(mw::security_headers))
        .layer(from_fn(mw::record_metrics))
        .layer(from_fn(mw::limit_body))
        .layer(from_fn_with_state(api_state.clone(), mw::identity))
        .layer(from_fn(mw::admin_gate))
        .layer(from_fn(mw::server_fn_status))
        .layer(from_fn_with_state(api_state.clone(), mw::assign_experiments))
        .layer(from_fn_with_state(page_cache, crate::routes::page_cache::serve_cached));
    tower::util::BoxCloneSyncService::new(layers.service(router(api_state)))
}

/// The routes: static files, pages, server functions, the JSON API, health and metrics.
pub fn router(api_state: ApiState) -> Router {
    let app_state = api_state.app.clone();
    let leptos_options = app_state.leptos_options.clone();
    let [(_, routes), others @ ..] = page_routes().clone();
    // The account and admin areas render with their own shell and bundle. Their routes are
    // added by hand: `leptos_routes_with_context` would register every server function again.
    let mut pages = Router::new();
    for (bundle, listings) in others {
        let render = leptos_axum::render_app_async_with_context(
            {
                let state = app_state.clone();
                move || {
                    provide_request_context(&state);
                    provide_context(state.clone());
                    provide_context(state.leptos_options.clone());
                }
            },
            {
                let options = leptos_options.clone();
                move || app::bundle_shell(options.clone(), bundle)
            },
        );
        for listing in listings {
            pages = pages.route(listing.path(), get(render.clone()));
        }
    }
    let pages = pages
        .merge(static_files(&leptos_options.site_root))
        .route("/rpc/{*fn_name}", any(server_fn_handler))
        .leptos_routes_with_context(
            &app_state,
            routes,
            {
                let state = app_state.clone();
                move || provide_request_context(&state)
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            {
                let state = app_state.clone();
                move || provide_request_context(&state)
            },
            shell,
        ))
        .with_state(app_state);
    let operations = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .nest("/api/v1", api::router())
        .merge(crate::routes::recommendations::click_router())
        .merge(crate::routes::referrals::link_router())
        .with_state(api_state.clone());
    operations.merge(pages).route_layer(axum::middleware::from_fn(mw::tag_route))
}

#[cfg(test)]
mod tests {
    use super::static_files;
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_revalidated_bundle_is_not_modified_never_not_found() {
        let site = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(site.path().join("pkg")).unwrap();
        std::fs::write(site.path().join("pkg/mercato.js"), "export {}").unwrap();
        std::fs::write(site.path().join("pkg/mercato.js.br"), "br").unwrap();
        let router = static_files::<()>(site.path().to_str().unwrap());

        let first = router.clone().oneshot(Request::get("/pkg/mercato.js").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
        let modified = first.headers()[header::LAST_MODIFIED].clone();

        let again = Request::get("/pkg/mercato.js").header(header::IF_MODIFIED_SINCE, modified).body(Body::empty());
        let again = router.clone().oneshot(again.unwrap()).await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

        let brotli = Request::get("/pkg/mercato.js").header(header::ACCEPT_ENCODING, "br").body(Body::empty());
        let brotli = router.clone().oneshot(brotli.unwrap()).await.unwrap();
        assert_eq!(brotli.headers()[header::CONTENT_ENCODING], "br");

        let missing = router.oneshot(Request::get("/pkg/nope.js").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        use axum::serve::Listener;
        let mut listener = super::without_nagle(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move { tokio::net::TcpStream::connect(addr).await.unwrap() });
        let (stream, _) = listener.accept().await;
        assert!(stream.nodelay().unwrap(), "a file's last chunk would wait for the browser's delayed ACK");
        drop(client.await.unwrap());
    }
}
