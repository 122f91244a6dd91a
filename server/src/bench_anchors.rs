//! The two anchors `./x bench` compares the storefront against, served by the same binary
//! (`mercato bench-anchors --addr 127.0.0.1:PORT`, a hidden subcommand):
//!
//! - `GET /bare`: a bare axum handler returning a fixed HTML page (about 90 bytes).
//! - `GET /leptos`: a minimal Leptos SSR page, one component (a counter) in a shell with
//!   the hydration scripts and `leptos_meta`'s title and stylesheet, rendered by
//!   `leptos_axum` the way a minimal Leptos app (the start-axum template) is. It has no
//!   `leptos_router` `<Router>` (not a dependency of this crate), so it is a slightly
//!   lighter anchor than that template.
//!
//! No database, no middleware: these are the floors the storefront's pages are measured
//! against, not part of the shop.

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The bare anchor's page: 90 bytes of fixed HTML.
pub const BARE_PAGE: &str =
    "<!DOCTYPE html><html><head><title>bare</title></head><body><p>Hello, anchor!</p></body></html>";

async fn bare() -> Html<&'static str> {
    Html(BARE_PAGE)
}

/// The one component of the minimal Leptos page.
#[component]
fn Counter() -> impl IntoView {
    provide_meta_context();
    let (count, set_count) = signal(0);
    view! {
        <Stylesheet id="leptos" href="/pkg/mercato.css" />
        <Title text="Welcome to Leptos" />
        <main>
            <h1>"Welcome to Leptos!"</h1>
            <button on:click=move |_| set_count.update(|n| *n += 1)>"Click Me: " {count}</button>
        </main>
    }
}

/// The document around it, with the hydration scripts a minimal app's shell has.
fn anchor_shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <Counter />
            </body>
        </html>
    }
}

/// The anchors' router. The Leptos page is mounted the way a minimal Leptos app mounts its
/// pages (`generate_route_list` + `leptos_routes`, which also set up Leptos' executor); its
/// one route, `/`, is nested under `/leptos`.
pub fn router(options: LeptosOptions) -> Router {
    let routes = generate_route_list(Counter);
    let leptos_app = Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || anchor_shell(options.clone())
        })
        .with_state(options);
    Router::new().route("/bare", get(bare)).nest("/leptos", leptos_app)
}

/// Serves both anchors on `addr` until Ctrl-C or SIGTERM.
pub async fn run(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    let options = LeptosOptions::builder()
        .output_name(app::OUTPUT_NAME)
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(listener.local_addr()?)
        .build();
    tracing::info!("bench anchors on http://{}/bare and /leptos", listener.local_addr()?);
    // Served like the app (same socket options), so the anchors differ from it only in the handler.
    axum::serve(crate::startup::without_nagle(listener), router(options))
        .with_graceful_shutdown(crate::startup::shutdown_signal())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_page_is_about_90_bytes() {
        assert!((80..=100).contains(&BARE_PAGE.len()), "{}", BARE_PAGE.len());
    }
}
