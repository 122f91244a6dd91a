//! Recommendation blocks rendered to HTML on the server only (like the reviews block): the
//! product page's "Frequently bought together" (with add-all-to-cart) and "Upgrade to", and
//! the cart's cross-sells. Links go through `/rec/{kind}/{sku}`, which records the click
//! before redirecting, so click-through shows in analytics with or without JavaScript.

use super::domain::Kind;
use crate::catalog::domain::Product;
use crate::shared::Money;
use leptos::prelude::*;
use leptos::tachys::view::RenderHtml;

/// One recommended product: its picture, name and price, linked through the click counter.
#[component]
fn RecItem(product: Product, kind: Kind, from: String) -> impl IntoView {
    let href = format!("/rec/{}/{}?from={}", kind.key(), product.sku, crate::accounts::api::url_escape(&from));
    view! {
        <article class="product-card rec-item" data-testid="rec-item" data-sku=product.sku.clone() data-kind=kind.key()>
            // `external`: the router must let the browser follow it (the server records the
            // click and redirects), not draw `/rec/...` itself.
            <a href=href rel="external nofollow">
                <img src=product.image.clone() alt="" width="200" height="150" loading="lazy" />
                <span class="product-name">{product.name.clone()}</span>
            </a>
            <span class="rec-price" data-amount-cents=product.price.amount_cents>
                {Money::from_cents(product.price.amount_cents).to_string()}
            </span>
        </article>
    }
}

/// A titled block of recommendations (nothing at all when there are none).
fn block(title: &'static str, kind: Kind, from: &str, products: Vec<Product>, extra: Option<AnyView>) -> AnyView {
    if products.is_empty() {
        return ().into_any();
    }
    let from = from.to_string();
    view! {
        <section class="shelf rec-block" data-testid=format!("rec-{}", kind.key()) data-kind=kind.key()>
            <h2>{title}</h2>
            <div class="grid">
                {products.into_iter().map(|product| view! { <RecItem product kind from=from.clone() /> }).collect_view()}
            </div>
            {extra}
        </section>
    }
    .into_any()
}

/// The product page's blocks: frequently bought together (with a form that puts this product
/// and all of them in the cart) and the upsell.
pub fn product_blocks(sku: &str, together: Vec<Product>, upsell: Vec<Product>) -> String {
    let add_all = (!together.is_empty()).then(|| {
        let skus: Vec<String> =
            std::iter::once(sku.to_string()).chain(together.iter().map(|p| p.sku.clone())).collect();
        let total: i64 = together.iter().map(|p| p.price.amount_cents).sum();
        view! {
            <form method="post" action="/rpc/add_recommended" class="add-all-form">
                <input type="hidden" name="kind" value=Kind::FrequentlyBoughtTogether.key() />
                <input type="hidden" name="from" value=sku.to_string() />
                {skus
                    .into_iter()
                    .enumerate()
                    .map(|(i, sku)| view! { <input type="hidden" name=format!("skus[{i}]") value=sku /> })
                    .collect_view()}
                <button type="submit" data-testid="add-all-to-cart">
                    {format!("Add all to cart (+{})", Money::from_cents(total))}
                </button>
            </form>
        }
        .into_any()
    });
    let view = view! {
        {block("Frequently bought together", Kind::FrequentlyBoughtTogether, sku, together, add_all)}
        {block("Upgrade to", Kind::Upsell, sku, upsell, None)}
    };
    view.to_html()
}

/// The cart page's cross-sells.
pub fn cart_block(products: Vec<Product>) -> String {
    block("Goes well with your cart", Kind::CrossSell, "cart", products, None).to_html()
}
