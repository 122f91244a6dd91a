//! Mercato's web app: the HTML shell, the router and one module per playbook.
//!
//! Compiled twice: with `ssr` into the server (rendering, server functions, storage) and
//! with `hydrate` into the browser's WebAssembly (the same components, made interactive).

#![recursion_limit = "256"]

pub mod accounts;
pub mod admin;
pub mod cart;
pub mod catalog;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod events;
pub mod experiments;
pub mod layout;
pub mod pricing;
pub mod shared;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// Name of the wasm/js/css bundle under `/pkg/` (set at build time by `x`).
pub const OUTPUT_NAME: &str = "mercato";

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <script nonce=leptos::nonce::use_nonce() inner_html=experiments::ui::RESTORE_SCRIPT></script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    layout::provide_actions();
    pricing::ui::provide_live_prices();
    view! {
        <Stylesheet id="leptos" href="/pkg/mercato.css" />
        <Title text="Mercato" />
        <Router>
            <experiments::ui::EventTracker />
            <layout::Header />
            <main id="main">
                <Routes fallback=layout::NotFound>
                    <Route path=path!("/") view=catalog::ui::HomePage ssr=SsrMode::Async />
                    <Route path=path!("/search") view=catalog::ui::SearchPage ssr=SsrMode::Async />
                    <Route path=path!("/category/:slug") view=catalog::ui::CategoryPage ssr=SsrMode::Async />
                    <Route path=path!("/products/:sku") view=catalog::ui::ProductPage ssr=SsrMode::Async />
                    <Route path=path!("/cart") view=cart::ui::CartPage ssr=SsrMode::Async />
                    <Route path=path!("/checkout") view=cart::ui::CheckoutPage ssr=SsrMode::Async />
                    <Route path=path!("/orders/:id") view=cart::ui::OrderPage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=accounts::ui::LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/register") view=accounts::ui::RegisterPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=accounts::ui::AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=admin::AdminHome ssr=SsrMode::Async />
                    <Route path=path!("/admin/pricing") view=pricing::ui::AdminPricingPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/admin/experiments")
                        view=experiments::ui::AdminExperimentsPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
            <layout::Footer />
            <experiments::ui::AssignmentMirror />
        </Router>
    }
}
