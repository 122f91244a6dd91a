//! Mercato's web app: the HTML shell, the router and one module per playbook.
//!
//! Compiled twice: with `ssr` into the server (rendering, server functions, storage) and
//! with `hydrate` into the browser's WebAssembly (the same components, made interactive).

#![recursion_limit = "256"]

pub mod accounts;
pub mod admin;
pub mod cart;
pub mod catalog;
pub mod community;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod events;
pub mod experiments;
pub mod flags;
pub mod layout;
pub mod loyalty;
pub mod plans;
pub mod pricing;
pub mod recommendations;
pub mod reviews;
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

/// The hydration bundles. Each hydrates the pages of one area, so a shopper browsing the
/// catalog never downloads the account pages, nor anyone but the owner the admin area.
/// A link from one area into another is finished by a full page load (`OtherBundle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bundle {
    /// Home, categories, search and product pages.
    Shop,
    /// Cart, checkout, orders, sign-in and everything about the shopper's account and plan.
    Account,
    /// The owner's `/admin/*`.
    Admin,
}

/// Paths (and their sub-paths) of the account area.
const ACCOUNT_PATHS: [&str; 11] = [
    "/account",
    "/cart",
    "/checkout",
    "/orders",
    "/login",
    "/register",
    "/pricing",
    "/wishlist",
    "/support",
    "/leaderboard",
    "/community",
];

impl Bundle {
    pub fn of(path: &str) -> Bundle {
        let under =
            |prefix: &str| path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
        if under("/admin") {
            Bundle::Admin
        } else if ACCOUNT_PATHS.iter().any(|prefix| under(prefix)) {
            Bundle::Account
        } else {
            Bundle::Shop
        }
    }

    /// Its wasm/js files under `/pkg/` (the stylesheet is shared: `mercato.css`).
    pub fn output_name(self) -> &'static str {
        match self {
            Bundle::Shop => OUTPUT_NAME,
            Bundle::Account => "mercato_account",
            Bundle::Admin => "mercato_admin",
        }
    }
}

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
    bundle_shell(options, Bundle::Shop)
}

/// The HTML document around one area's pages, hydrated by that area's bundle. Shopper
/// areas restore lost experiment cookies from localStorage (the admin area runs none).
pub fn bundle_shell(options: LeptosOptions, bundle: Bundle) -> impl IntoView {
    let mut options = options;
    options.output_name = bundle.output_name().into();
    let app = move || match bundle {
        Bundle::Shop => view! { <App /> }.into_any(),
        Bundle::Account => view! { <AccountApp /> }.into_any(),
        Bundle::Admin => view! { <AdminApp /> }.into_any(),
    };
    document(options, bundle != Bundle::Admin, app)
}

/// Context and page frame shared by the shop and the admin area.
fn provide_app_context() {
    provide_meta_context();
    layout::provide_actions();
    pricing::ui::provide_live_prices();
}

/// The shop: the pages of browsing the catalog.
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
                <Routes fallback=|| view! { <layout::OtherBundle bundle=Bundle::Shop /> }>
                    <Route path=path!("/") view=catalog::ui::HomePage ssr=SsrMode::Async />
                    <Route path=path!("/search") view=catalog::ui::SearchPage ssr=SsrMode::Async />
                    <Route path=path!("/category/:slug") view=catalog::ui::CategoryPage ssr=SsrMode::Async />
                    <Route path=path!("/products/:sku") view=catalog::ui::ProductPage ssr=SsrMode::Async />
                </Routes>
            </main>
            <layout::Footer />
            <experiments::ui::AssignmentMirror />
        </Router>
    }
}

/// The shopper's own pages: cart, checkout, orders, sign-in, account, plans, wishlist,
/// support, and the community.
#[component]
pub fn AccountApp() -> impl IntoView {
    provide_app_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/mercato.css" />
        <Title text="Mercato" />
        <Router>
            <experiments::ui::EventTracker />
            <layout::Header />
            <main id="main">
                <Routes fallback=|| view! { <layout::OtherBundle bundle=Bundle::Account /> }>
                    <Route path=path!("/cart") view=cart::ui::CartPage ssr=SsrMode::Async />
                    <Route path=path!("/checkout") view=cart::ui::CheckoutPage ssr=SsrMode::Async />
                    <Route path=path!("/orders/:id") view=cart::ui::OrderPage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=accounts::ui::LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/register") view=accounts::ui::RegisterPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=accounts::ui::AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/account/reviews") view=reviews::ui::MyReviewsPage ssr=SsrMode::Async />
                    <Route path=path!("/account/reviews/:sku") view=reviews::ui::ReviewFormPage ssr=SsrMode::Async />
                    <Route path=path!("/account/questions/:sku") view=reviews::ui::QaPage ssr=SsrMode::Async />
                    <Route path=path!("/pricing") view=plans::ui::PricingPage ssr=SsrMode::Async />
                    <Route path=path!("/wishlist") view=plans::ui::WishlistPage ssr=SsrMode::Async />
                    <Route path=path!("/support") view=plans::ui::SupportPage ssr=SsrMode::Async />
                    <Route path=path!("/leaderboard") view=loyalty::ui::LeaderboardPage ssr=SsrMode::Async />
                    <Route path=path!("/community") view=community::ui::CommunityPage ssr=SsrMode::Async />
                    <Route path=path!("/community/search") view=community::ui::CommunitySearchPage ssr=SsrMode::Async />
                    <Route path=path!("/community/t/:id") view=community::ui::CommunityTopicPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/community/:category")
                        view=community::ui::CommunityCategoryPage
                        ssr=SsrMode::Async
                    />
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
                <Routes fallback=|| view! { <layout::OtherBundle bundle=Bundle::Admin /> }>
                    <Route path=path!("/admin") view=admin::AdminHome ssr=SsrMode::Async />
                    <Route path=path!("/admin/pricing") view=pricing::ui::AdminPricingPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/plans") view=plans::ui::AdminPlansPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/loyalty") view=loyalty::ui::AdminLoyaltyPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/reviews") view=reviews::ui::AdminReviewsPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/admin/insights")
                        view=reviews::insights_ui::AdminInsightsPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/admin/flags") view=flags::ui::AdminFlagsPage ssr=SsrMode::Async />
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

#[cfg(test)]
mod tests {
    use super::Bundle;

    #[test]
    fn each_path_belongs_to_one_bundle() {
        assert_eq!(Bundle::of("/"), Bundle::Shop);
        assert_eq!(Bundle::of("/products/COF-001"), Bundle::Shop);
        assert_eq!(Bundle::of("/category/tea"), Bundle::Shop);
        assert_eq!(Bundle::of("/orders/12"), Bundle::Account);
        assert_eq!(Bundle::of("/cart"), Bundle::Account);
        assert_eq!(Bundle::of("/pricing"), Bundle::Account);
        assert_eq!(Bundle::of("/community"), Bundle::Account);
        assert_eq!(Bundle::of("/community/t/3"), Bundle::Account);
        assert_eq!(Bundle::of("/community/search"), Bundle::Account);
        assert_eq!(Bundle::of("/admin"), Bundle::Admin);
        assert_eq!(Bundle::of("/admin/plans"), Bundle::Admin);
        // A prefix is a whole path segment.
        assert_eq!(Bundle::of("/administrators"), Bundle::Shop);
        assert_eq!(Bundle::of("/carts"), Bundle::Shop);
        assert_eq!(Bundle::of("/communityx"), Bundle::Shop);
    }
}
