//! Catalog pages: home, category, search and product.

use super::api::{get_category_page, get_home, get_product_page, search_products};
use super::domain::{availability, Product};
use crate::cart::domain::CartNotice;
use crate::layout::{use_actions, ErrorView, PriceTag};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

/// A product tile for grids and shelves.
#[component]
pub fn ProductCard(product: Product, #[prop(optional)] test_id: Option<&'static str>) -> impl IntoView {
    let href = format!("/products/{}", product.sku);
    let availability = availability(product.stock);
    view! {
        <article class="product-card" data-testid=test_id data-sku=product.sku.clone()>
            <a href=href.clone() class="product-card-image">
                <img src=product.image.clone() alt="" width="400" height="300" loading="lazy" />
            </a>
            <h3>
                <A href=href>{product.name.clone()}</A>
            </h3>
            <PriceTag price=product.price.clone() sku=product.sku.clone() />
            <p class="availability" class:out=!availability.can_buy()>
                {availability.label()}
            </p>
        </article>
    }
}

/// Products as a grid of tiles (category and search pages).
#[component]
pub fn ProductGrid(products: Vec<Product>) -> impl IntoView {
    view! {
        <div class="grid">
            {products.into_iter().map(|product| view! { <ProductCard product /> }).collect_view()}
        </div>
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| get_home());
    view! {
        <Title text="Mercato — coffee, tea and everything to brew them" />
        <Suspense fallback=|| view! { <div class="hero hero-placeholder" aria-busy="true"></div> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(home) => {
                        view! {
                            <crate::experiments::ui::HeroSection hero=home.hero />
                            {home.banner.map(|banner| view! { <crate::experiments::ui::SegmentBanner banner /> })}
                            <section class="shelf" data-testid="recommendations" data-kind="popular">
                                <h2>"Popular right now"</h2>
                                <div class="grid">
                                    {home
                                        .popular
                                        .into_iter()
                                        .map(|product| view! { <ProductCard product test_id="rec-item" /> })
                                        .collect_view()}
                                </div>
                            </section>
                            <section class="categories">
                                <h2>"Shop by category"</h2>
                                <ul class="category-list">
                                    {home
                                        .categories
                                        .into_iter()
                                        .map(|category| {
                                            let href = format!("/category/{}", category.slug);
                                            let image = format!("/img/categories/{}.svg", category.slug);
                                            view! {
                                                <li>
                                                    <a href=href>
                                                        <img src=image alt="" width="400" height="200" loading="lazy" />
                                                        <strong>{category.name}</strong>
                                                        <span>{category.description}</span>
                                                    </a>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </section>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn CategoryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let page = Resource::new(
        move || (params.read().get("slug").unwrap_or_default(), query.read().get("q")),
        |(slug, q)| get_category_page(slug, q),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok((category, products)) => {
                        let n_products = products.len();
                        view! {
                            <Title text=format!("{} — Mercato", category.name) />
                            <section class="category">
                                <h1>{category.name}</h1>
                                <p class="lead">{category.description}</p>
                                <p class="count">{format!("{n_products} products")}</p>
                                <ProductGrid products />
                            </section>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let results = Resource::new(move || query.read().get("q"), search_products);
    view! {
        <Title text="Search — Mercato" />
        <section class="search-results">
            <h1>"Search"</h1>
            <form action="/search" method="get" class="search-form">
                <label for="search-q">"Find products"</label>
                <input id="search-q" type="search" name="q" value=move || query.read().get("q").unwrap_or_default() />
                <button type="submit">"Search"</button>
            </form>
            <Suspense fallback=|| view! { <p class="loading">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(products) if products.is_empty() => {
                            view! { <p class="empty">"No products match your search."</p> }.into_any()
                        }
                        Ok(products) => {
                            view! { <ProductGrid products /> }.into_any()
                        }
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let product = Resource::new(move || params.read().get("sku").unwrap_or_default(), get_product_page);
    let notice = move || query.read().get("error").and_then(|code| CartNotice::from_code(&code));
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match product.await {
                    Ok(product) => view! { <ProductDetail product notice=notice() /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProductDetail(product: Product, notice: Option<CartNotice>) -> impl IntoView {
    let actions = use_actions();
    let availability = availability(product.stock);
    let category_href = format!("/category/{}", product.category);
    let max_quantity = product.stock.clamp(1, 999);
    let action_error =
        move || actions.add_to_cart.value().get().and_then(|result| result.err()).map(|error| error.to_string());
    view! {
        <Title text=format!("{} — Mercato", product.name) />
        <article class="product-detail">
            <img src=product.image.clone() alt=product.name.clone() width="400" height="300" />
            <div class="product-info">
                <p class="breadcrumb">
                    <A href=category_href>{product.category.clone()}</A>
                </p>
                <h1>{product.name.clone()}</h1>
                <PriceTag price=product.price.clone() sku=product.sku.clone() />
                <p class="availability" class:out=!availability.can_buy() data-testid="availability">
                    {availability.label()}
                </p>
                <p class="description">{product.description.clone()}</p>
                {notice
                    .map(|notice| {
                        view! {
                            <p class="form-error" role="alert">
                                {notice.message()}
                            </p>
                        }
                    })}
                <p class="form-error" role="alert">
                    {action_error}
                </p>
                <ActionForm action=actions.add_to_cart attr:class="add-to-cart-form">
                    <input type="hidden" name="sku" value=product.sku.clone() />
                    <label for="quantity">"Quantity"</label>
                    <input
                        id="quantity"
                        type="number"
                        name="quantity"
                        value="1"
                        min="1"
                        max=max_quantity
                        disabled=!availability.can_buy()
                    />
                    <button type="submit" data-testid="add-to-cart" disabled=!availability.can_buy()>
                        {if availability.can_buy() { "Add to cart" } else { "Out of stock" }}
                    </button>
                </ActionForm>
            </div>
        </article>
    }
}
