//! The frame around every page (header, footer, not-found) and small shared components.

pub mod chart;

use crate::accounts::api::{Login, Logout, Register};
use crate::cart::api::{get_session_info, AddToCart, PlaceOrder, RemoveFromCart};
use crate::catalog::domain::PriceView;
use crate::shared::{AppError, Money};
use leptos::prelude::*;
use leptos_router::components::A;

/// The form actions every page shares. The header's session resource re-runs when any of
/// them completes, so the cart badge and login state follow without a reload.
#[derive(Clone, Copy)]
pub struct Actions {
    pub add_to_cart: ServerAction<AddToCart>,
    pub remove_from_cart: ServerAction<RemoveFromCart>,
    pub place_order: ServerAction<PlaceOrder>,
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    pub register: ServerAction<Register>,
}

pub fn provide_actions() {
    provide_context(Actions {
        add_to_cart: ServerAction::new(),
        remove_from_cart: ServerAction::new(),
        place_order: ServerAction::new(),
        login: ServerAction::new(),
        logout: ServerAction::new(),
        register: ServerAction::new(),
    });
}

pub fn use_actions() -> Actions {
    expect_context::<Actions>()
}

impl Actions {
    /// A number that changes whenever any shared action completes.
    pub fn generation(&self) -> usize {
        self.add_to_cart.version().get()
            + self.remove_from_cart.version().get()
            + self.place_order.version().get()
            + self.login.version().get()
            + self.logout.version().get()
            + self.register.version().get()
    }
}

#[component]
pub fn Header() -> impl IntoView {
    let actions = use_actions();
    let session = Resource::new(move || actions.generation(), |_| get_session_info());
    view! {
        <header class="site-header">
            <A href="/" attr:class="logo">
                "Mercato"
            </A>
            <nav class="site-nav" aria-label="Main">
                <A href="/category/coffee">"Coffee"</A>
                <A href="/category/tea">"Tea"</A>
                <A href="/category/brewing">"Brewing"</A>
                <A href="/category/mugs">"Mugs"</A>
                <A href="/category/snacks">"Snacks"</A>
                <A href="/category/gifts">"Gifts"</A>
                <A href="/pricing">"Plans"</A>
                // A plain link: the community is the account bundle's, a full page load away.
                <a href="/community" data-testid="nav-community">"Community"</a>
            </nav>
            <form class="search" action="/search" method="get" role="search">
                <input type="search" name="q" placeholder="Search" aria-label="Search products" />
            </form>
            <div class="session">
                <Suspense fallback=|| view! { <span class="cart-link">"Cart"</span> }>
                    {move || Suspend::new(async move {
                        let info = session.await.unwrap_or_default();
                        let account = match info.user {
                            Some(user) => {
                                let is_admin = user.role == crate::accounts::domain::Role::Admin;
                                view! {
                                    {is_admin.then(|| view! { <A href="/admin">"Admin"</A> })}
                                    <A href="/wishlist">"Wishlist"</A>
                                    <A href="/account" attr:class="account-link">
                                        {user.display_name}
                                    </A>
                                }
                                    .into_any()
                            }
                            None => view! { <A href="/login">"Log in"</A> }.into_any(),
                        };
                        view! {
                            {account}
                            <A href="/cart" attr:class="cart-link">
                                "Cart "
                                <span class="cart-count" data-testid="cart-count">
                                    {info.cart_count}
                                </span>
                            </A>
                        }
                    })}
                </Suspense>
            </div>
        </header>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>"Mercato — a small shop, run well. Prices include VAT."</p>
        </footer>
    }
}

/// Shown for unknown routes; answers 404 during SSR.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="not-found">
            <h1>"Page not found"</h1>
            <p>"We could not find that page. " <A href="/">"Back to the shop"</A></p>
        </section>
    }
}

/// Renders an error for a shopper, and sets the matching HTTP status during SSR.
#[component]
pub fn ErrorView(error: AppError) -> AnyView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(error.status_code()) {
            response.set_status(status);
        }
    }
    if let AppError::PlanRequired { feature, plan_name, .. } = &error {
        if let Some(feature) = crate::plans::domain::Feature::parse(feature) {
            let plan_name = plan_name.clone();
            return view! { <crate::plans::ui::LockedFeature feature plan_name /> }.into_any();
        }
    }
    let message = match &error {
        AppError::NotFound(_) => "We could not find that.".to_string(),
        other => other.to_string(),
    };
    view! {
        <section class="error" role="alert">
            <h1>{error.title()}</h1>
            <p>{message}</p>
            <p>
                <A href="/">"Back to the shop"</A>
            </p>
        </section>
    }
    .into_any()
}

/// A price with the stable test hooks (`price`, `data-sku`, `data-amount-cents`). It follows
/// the live price stream, so it changes without a reload when the shop reprices.
#[component]
pub fn PriceTag(price: PriceView, sku: String) -> impl IntoView {
    let live = use_context::<crate::pricing::ui::LivePrices>();
    let current = {
        let sku = sku.clone();
        Memo::new(move |_| {
            live.and_then(|live| live.0.with(|map| map.get(&sku).cloned())).unwrap_or_else(|| price.clone())
        })
    };
    view! {
        <span class="price-block">
            <span
                class="price"
                class:reduced=move || current.with(|p| p.amount_cents < p.base_cents)
                data-testid="price"
                data-sku=sku
                data-amount-cents=move || current.with(|p| p.amount_cents)
            >
                {move || Money::from_cents(current.with(|p| p.amount_cents)).to_string()}
            </span>
            {move || {
                current
                    .with(|p| p.lowest_30d_cents)
                    .map(|lowest| {
                        view! {
                            <span class="lowest-30d" data-testid="lowest-30d">
                                "Lowest price in the last 30 days: "
                                {Money::from_cents(lowest).to_string()}
                            </span>
                        }
                    })
            }}
        </span>
    }
}

/// A message next to a form or field (`role=alert` so screen readers announce it).
#[component]
pub fn FieldError(message: Option<&'static str>) -> impl IntoView {
    message.map(|message| {
        view! {
            <p class="field-error" role="alert">
                {message}
            </p>
        }
    })
}

/// The outcome of the last admin form post, from the `?error=` or `?saved=` that
/// [`crate::state::admin_redirect`] put on the page's address.
#[component]
pub fn AdminMessage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let message = move || {
        let query = query.read();
        match query.get("error") {
            Some(error) => Some(("form-error", error)),
            None => query.get("saved").map(|saved| ("notice", saved)),
        }
    };
    move || message().map(|(class, text)| view! { <p class=class role="status" data-testid="admin-message">{text}</p> })
}

/// An admin page's frame: its title and heading, its data (read again whenever the query
/// string changes, as every form on these pages posts back with `?saved=` or `?error=`),
/// the login redirect and the page itself (see [`admin_view`]).
pub fn admin_page<T, Fut>(
    title: &'static str,
    heading: &'static str,
    class: &'static str,
    path: &'static str,
    load: fn() -> Fut,
    page: fn(T) -> AnyView,
) -> impl IntoView
where
    T: Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
{
    let query = leptos_router::hooks::use_query_map();
    let data = Resource::new(move || query.read().to_query_string(), move |_| load());
    view! {
        <leptos_meta::Title text=title />
        <section class=class>
            <h1>{heading}</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move { admin_view(data.await, path, page) })}
            </Suspense>
        </section>
    }
}

/// What an admin page shows for its data: the page itself, a redirect to log in (and back to
/// `next`) for a visitor who is not logged in, or the error (403 for a shopper).
pub fn admin_view<T>(
    result: Result<T, crate::shared::AppError>,
    next: &str,
    page: impl FnOnce(T) -> AnyView,
) -> AnyView {
    match result {
        Ok(data) => page(data),
        Err(crate::shared::AppError::Unauthorized) => {
            let path = format!("/login?next={next}");
            view! { <leptos_router::components::Redirect path /> }.into_any()
        }
        Err(error) => view! { <ErrorView error /> }.into_any(),
    }
}

/// The fallback of each bundle's router. A client-side link into another bundle's area
/// (shop ⇄ account ⇄ `/admin`) is finished by a full page load, so the server renders that
/// page with its own bundle. Anything else, and every server render, is the not-found page.
/// Only after hydration (`data-hydrated`): hydrating a not-found page must not reload it.
#[component]
pub fn OtherBundle(bundle: crate::Bundle) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let path = location.pathname.get_untracked();
    let belongs_to_other = crate::Bundle::of(&path) != bundle;
    #[cfg(feature = "hydrate")]
    {
        let hydrated = document().document_element().is_some_and(|root| root.has_attribute("data-hydrated"));
        if belongs_to_other && hydrated {
            let search = location.search.get_untracked();
            let url = if search.is_empty() { path.clone() } else { format!("{path}?{search}") };
            let _ = window().location().replace(&url);
            return view! { <p class="loading">"Loading…"</p> }.into_any();
        }
    }
    let _ = belongs_to_other;
    view! { <NotFound /> }.into_any()
}
