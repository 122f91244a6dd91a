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
                            <Shelf shelf=home.shelf />
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

/// The filter fields of a listing page, read from the URL.
fn filter_args(query: Memo<leptos_router::params::ParamsMap>) -> [Option<String>; 5] {
    let query = query.read();
    ["min_price", "max_price", "min_rating", "in_stock", "sort"].map(|key| query.get(key))
}

#[component]
pub fn CategoryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let query_memo = Memo::new(move |_| query.get());
    let page = Resource::new(
        move || (params.read().get("slug").unwrap_or_default(), query.read().get("q"), filter_args(query_memo)),
        |(slug, q, [min_price, max_price, min_rating, in_stock, sort])| {
            get_category_page(slug, q, min_price, max_price, min_rating, in_stock, sort)
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok((category, products, filters)) => {
                        let n_products = products.len();
                        let action = format!("/category/{}", category.slug);
                        view! {
                            <Title text=format!("{} — Mercato", category.name) />
                            <section class="category">
                                <h1>{category.name}</h1>
                                <p class="lead">{category.description}</p>
                                <FilterPanel filters action q=None />
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
    let query_memo = Memo::new(move |_| query.get());
    let results = Resource::new(
        move || (query.read().get("q"), filter_args(query_memo)),
        |(q, [min_price, max_price, min_rating, in_stock, sort])| {
            search_products(q, min_price, max_price, min_rating, in_stock, sort)
        },
    );
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
                        Ok((products, filters)) => {
                            let q = query.read_untracked().get("q");
                            view! {
                                <FilterPanel filters action="/search".to_string() q />
                                {if products.is_empty() {
                                    view! { <p class="empty">"No products match your search."</p> }.into_any()
                                } else {
                                    view! { <ProductGrid products /> }.into_any()
                                }}
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Price range, minimum rating, in-stock and sort for a listing (a plain GET form, so it
/// works before the wasm arrives). Locked for plans without `advanced_filters`.
#[component]
fn FilterPanel(filters: super::api::FilterState, action: String, q: Option<String>) -> impl IntoView {
    use super::domain::Sort;
    use crate::plans::domain::{Feature, Gate};
    let super::api::FilterState { gate, query, ignored, error } = filters;
    if let Gate::Locked { plan_name, .. } = gate {
        return view! {
            <div class="filters locked">
                {ignored.then(|| view! { <p class="notice">"Filters were not applied."</p> })}
                <crate::plans::ui::LockedFeature feature=Feature::AdvancedFilters plan_name />
            </div>
        }
        .into_any();
    }
    let error_for = |field: &'static str| {
        let message = error.as_ref().filter(|(f, _)| f == field).map(|(_, message)| message.clone());
        message.map(|message| view! { <p class="field-error" role="alert">{message}</p> })
    };
    let sort = query.sort.clone().unwrap_or_default();
    let min_rating = query.min_rating.clone().unwrap_or_default();
    let in_stock = matches!(query.in_stock.as_deref(), Some("on" | "true" | "1"));
    let clear_href = match &q {
        Some(q) => format!("{action}?q={}", crate::accounts::api::url_escape(q)),
        None => action.clone(),
    };
    view! {
        <form class="filters" method="get" action=action data-testid="filters">
            {q.map(|q| view! { <input type="hidden" name="q" value=q /> })}
            <div class="filter-field">
                <label for="filter-min-price">"From €"</label>
                <input id="filter-min-price" name="min_price" inputmode="decimal" size="6" value=query.min_price.clone().unwrap_or_default() />
                {error_for("min_price")}
            </div>
            <div class="filter-field">
                <label for="filter-max-price">"To €"</label>
                <input id="filter-max-price" name="max_price" inputmode="decimal" size="6" value=query.max_price.clone().unwrap_or_default() />
                {error_for("max_price")}
            </div>
            <div class="filter-field">
                <label for="filter-rating">"Rating"</label>
                <select id="filter-rating" name="min_rating">
                    <option value="" selected=min_rating.is_empty()>"Any"</option>
                    {(1..=4)
                        .rev()
                        .map(|stars| {
                            let value = stars.to_string();
                            view! {
                                <option value=value.clone() selected=min_rating == value>
                                    {format!("{stars}★ and up")}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                {error_for("min_rating")}
            </div>
            <div class="filter-field">
                <label class="checkbox" for="filter-in-stock">
                    <input id="filter-in-stock" type="checkbox" name="in_stock" value="on" checked=in_stock />
                    "In stock only"
                </label>
            </div>
            <div class="filter-field">
                <label for="filter-sort">"Sort"</label>
                <select id="filter-sort" name="sort">
                    {Sort::ALL
                        .into_iter()
                        .map(|option| {
                            let selected = sort == option.key() || (sort.is_empty() && option == Sort::Name);
                            view! { <option value=option.key() selected=selected>{option.label()}</option> }
                        })
                        .collect_view()}
                </select>
                {error_for("sort")}
            </div>
            <button type="submit" data-testid="apply-filters">"Apply"</button>
            <a href=clear_href class="clear-filters">"Clear"</a>
        </form>
    }
    .into_any()
}

/// The home page's shelf: "Recommended for you" for plans with picks, the best sellers for
/// everyone else (with the locked box saying which plan has picks).
#[component]
fn Shelf(shelf: super::api::Shelf) -> impl IntoView {
    use crate::plans::domain::{Feature, Gate};
    let title = if shelf.kind == "for_you" { "Recommended for you" } else { "Popular right now" };
    view! {
        <section class="shelf" data-testid="recommendations" data-kind=shelf.kind.clone()>
            <h2>{title}</h2>
            <div class="grid">
                {shelf.products.into_iter().map(|product| view! { <ProductCard product test_id="rec-item" /> }).collect_view()}
            </div>
        </section>
        {match shelf.for_you {
            Gate::Locked { plan_name, .. } => {
                view! { <crate::plans::ui::LockedFeature feature=Feature::PersonalizedRecommendations plan_name /> }
                    .into_any()
            }
            _ => ().into_any(),
        }}
    }
}

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let product = Resource::new(move || params.read().get("sku").unwrap_or_default(), get_product_page);
    let reviews = crate::reviews::ui::reviews_resource();
    let recommendations = Resource::new(
        move || params.read().get("sku").unwrap_or_default(),
        crate::recommendations::api::get_product_recs_html,
    );
    let notice = move || query.read().get("error").and_then(|code| CartNotice::from_code(&code));
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match product.await {
                    Ok(product) => view! { <ProductDetail product notice=notice() reviews recommendations /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProductDetail(
    product: Product,
    notice: Option<CartNotice>,
    reviews: Resource<Result<String, crate::shared::AppError>>,
    recommendations: Resource<Result<String, crate::shared::AppError>>,
) -> impl IntoView {
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
                <crate::plans::ui::WishlistToggle sku=product.sku.clone() />
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
        <crate::recommendations::ui::RecommendationBlock html=recommendations />
        <crate::reviews::ui::ProductReviews html=reviews />
    }
}
