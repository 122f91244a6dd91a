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
pub mod plans;
pub mod pricing;
pub mod recommendations;
pub mod shared;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// Name of the shop's wasm/js/css bundle under `/pkg/` (set at build time by `x`).
pub const OUTPUT_NAME: &str = "mercato";
/// Name of the admin area's wasm/js bundle: the shop's bundle never carries admin code.
pub const ADMIN_OUTPUT_NAME: &str = "mercato_admin";

/// The HTML document around a bundle's app. Only the shop restores lost experiment cookies
/// from localStorage (the admin area runs no experiments).
fn document(options: LeptosOptions, restores_assignments: bool, app: impl FnOnce() -> AnyView) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                {restores_assignments
                    .then(|| {
                        view! {
                            <script nonce=leptos::nonce::use_nonce() inner_html=experiments::ui::RESTORE_SCRIPT></script>
                        }
                    })}
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>{app()}</body>
        </html>
    }
}

/// The HTML document the server renders around the shop.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    document(options, true, || view! { <App /> }.into_any())
}

/// The HTML document around the admin area: the same page frame, hydrated by the admin bundle.
pub fn admin_shell(options: LeptosOptions) -> impl IntoView {
    let mut options = options;
    options.output_name = ADMIN_OUTPUT_NAME.into();
    document(options, false, || view! { <AdminApp /> }.into_any())
}

/// Context and page frame shared by the shop and the admin area.
fn provide_app_context() {
    provide_meta_context();
    layout::provide_actions();
    pricing::ui::provide_live_prices();
}

/// The shop: every page a shopper sees.
#[component]
pub fn App() -> impl IntoView {
    provide_app_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/mercato.css" />
        <Title text="Mercato" />
        <Router>
            <experiments::ui::EventTracker />
            <layout::Header />
            <main id="main">
                <Routes fallback=|| view! { <layout::OtherBundle admin=false /> }>
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
                    <Route path=path!("/pricing") view=plans::ui::PricingPage ssr=SsrMode::Async />
                    <Route path=path!("/wishlist") view=plans::ui::WishlistPage ssr=SsrMode::Async />
                    <Route path=path!("/support") view=plans::ui::SupportPage ssr=SsrMode::Async />
                </Routes>
            </main>
            <layout::Footer />
            <experiments::ui::AssignmentMirror />
        </Router>
    }
}

/// The shop owner's area (`/admin/*`), a bundle of its own so shoppers never download it.
#[component]
pub fn AdminApp() -> impl IntoView {
    provide_app_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/mercato.css" />
        <Title text="Mercato admin" />
        <Router>
            <layout::Header />
            <main id="main">
                <Routes fallback=|| view! { <layout::OtherBundle admin=true /> }>
                    <Route path=path!("/admin") view=admin::AdminHome ssr=SsrMode::Async />
                    <Route path=path!("/admin/pricing") view=pricing::ui::AdminPricingPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/plans") view=plans::ui::AdminPlansPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/admin/experiments")
                        view=experiments::ui::AdminExperimentsPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
            <layout::Footer />
        </Router>
    }
}
