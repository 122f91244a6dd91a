//! Cart, checkout and order confirmation pages.

use super::api::{get_cart, get_order, get_session_info};
use super::domain::{Cart, CartNotice};
use crate::layout::{use_actions, ErrorView};
use crate::shared::Money;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::{use_params_map, use_query_map};

fn money(cents: i64) -> String {
    Money::from_cents(cents).to_string()
}

#[component]
pub fn CartPage() -> impl IntoView {
    let actions = use_actions();
    let cart = Resource::new(move || actions.generation(), |_| get_cart());
    let cross_sells =
        Resource::new(move || actions.generation(), |_| crate::recommendations::api::get_cart_recs_html());
    view! {
        <Title text="Your cart — Mercato" />
        <section class="cart">
            <h1>"Your cart"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match cart.await {
                        Ok(cart) if cart.items.is_empty() => {
                            view! {
                                <p class="empty">"Your cart is empty. " <A href="/">"Browse the shop"</A></p>
                            }
                                .into_any()
                        }
                        Ok(cart) => view! { <CartTable cart editable=true /> }.into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
            <crate::recommendations::ui::RecommendationBlock html=cross_sells />
        </section>
    }
}

#[component]
fn CartTable(cart: Cart, editable: bool) -> impl IntoView {
    let actions = use_actions();
    let has_short_lines = cart.short_lines().next().is_some();
    view! {
        <table class="cart-table">
            <thead>
                <tr>
                    <th scope="col">"Item"</th>
                    <th scope="col">"Price"</th>
                    <th scope="col">"Qty"</th>
                    <th scope="col">"Total"</th>
                    {editable.then(|| view! { <th scope="col"><span class="visually-hidden">"Remove"</span></th> })}
                </tr>
            </thead>
            <tbody>
                {cart
                    .items
                    .into_iter()
                    .map(|line| {
                        let href = format!("/products/{}", line.sku);
                        let short = line.quantity > line.stock;
                        let sku = line.sku.clone();
                        view! {
                            <tr data-testid="cart-line" data-sku=line.sku.clone()>
                                <td>
                                    <A href=href>{line.name.clone()}</A>
                                    {short
                                        .then(|| {
                                            view! {
                                                <span class="form-error">
                                                    {format!(" Only {} left", line.stock.max(0))}
                                                </span>
                                            }
                                        })}
                                </td>
                                <td>{money(line.unit_cents)}</td>
                                <td>{line.quantity}</td>
                                <td>{money(line.line_cents)}</td>
                                {editable
                                    .then(|| {
                                        view! {
                                            <td>
                                                <ActionForm action=actions.remove_from_cart>
                                                    <input type="hidden" name="sku" value=sku.clone() />
                                                    <button type="submit" class="link-button" data-testid="remove-from-cart">
                                                        "Remove"
                                                    </button>
                                                </ActionForm>
                                            </td>
                                        }
                                    })}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
            <tfoot>
                <tr>
                    <th scope="row" colspan="3">
                        "Total"
                    </th>
                    <td data-testid="cart-total" data-amount-cents=cart.total_cents>
                        {money(cart.total_cents)}
                    </td>
                </tr>
            </tfoot>
        </table>
        {has_short_lines
            .then(|| view! { <p class="form-error" role="alert">{CartNotice::StockChanged.message()}</p> })}
        {editable
            .then(|| {
                view! {
                    <p class="actions">
                        <a class="button" href="/checkout" data-testid="go-to-checkout">
                            "Checkout"
                        </a>
                    </p>
                }
            })}
    }
}

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let actions = use_actions();
    let query = use_query_map();
    let data = Resource::new(
        move || actions.generation(),
        |_| async move {
            let session = get_session_info().await?;
            let cart = get_cart().await?;
            let points = match session.user {
                Some(_) if !cart.items.is_empty() => crate::loyalty::api::get_checkout_points(cart.total_cents).await?,
                _ => None,
            };
            Ok::<_, crate::shared::AppError>((session, cart, points))
        },
    );
    let notice = move || query.read().get("error").and_then(|code| CartNotice::from_code(&code));
    view! {
        <Title text="Checkout — Mercato" />
        <section class="checkout">
            <h1>"Checkout"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok((session, _, _)) if session.user.is_none() => {
                            view! { <Redirect path="/login?next=/checkout" /> }.into_any()
                        }
                        Ok((_, cart, _)) if cart.items.is_empty() => {
                            view! {
                                <p class="empty">"Your cart is empty. " <A href="/">"Browse the shop"</A></p>
                            }
                                .into_any()
                        }
                        Ok((session, cart, points)) => {
                            let total = cart.total_cents;
                            // The server refuses points too while the flag is off; this keeps
                            // the control away.
                            let points = points
                                .filter(|_| session.flag_on(crate::flags::domain::keys::POINTS_REDEMPTION));
                            view! {
                                {notice()
                                    .map(|notice| {
                                        view! {
                                            <p class="form-error" role="alert" data-testid="checkout-error">
                                                {notice.message()}
                                            </p>
                                        }
                                    })}
                                <CartTable cart editable=false />
                                <ActionForm action=actions.place_order attr:class="place-order">
                                    <input type="hidden" name="expected_total_cents" value=total />
                                    {points
                                        .map(|(balance, max_points, points_per_euro)| {
                                            view! {
                                                <crate::loyalty::ui::RedeemPoints balance max_points points_per_euro />
                                            }
                                        })}
                                    <button type="submit" data-testid="place-order">
                                        {format!("Place order — {}", money(total))}
                                    </button>
                                </ActionForm>
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

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    // Keyed on `added` too: after a one-click add-on the page shows the order as it now is.
    let order = Resource::new(
        move || {
            (params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(-1), query.read().get("added"))
        },
        |(id, _)| get_order(id),
    );
    view! {
        <Title text="Your order — Mercato" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(order) => {
                        let paid_cents = order.paid_cents();
                        view! {
                            <section class="order" data-testid="order-confirmation" data-order-id=order.id>
                                <h1>{format!("Thank you! Order #{} is placed.", order.id)}</h1>
                                <table class="cart-table">
                                    <tbody>
                                        {order
                                            .lines
                                            .into_iter()
                                            .map(|line| {
                                                view! {
                                                    <tr>
                                                        <td>{line.name}</td>
                                                        <td>{line.quantity}</td>
                                                        <td>{money(line.unit_cents * line.quantity)}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                    <tfoot>
                                        <tr>
                                            <th scope="row" colspan="2">
                                                "Total"
                                            </th>
                                            <td data-testid="order-total">{money(order.total_cents)}</td>
                                        </tr>
                                        {(order.points_redeemed > 0)
                                            .then(|| {
                                                view! {
                                                    <tr>
                                                        <th scope="row" colspan="2">
                                                            {format!("Paid with {} points", order.points_redeemed)}
                                                        </th>
                                                        <td data-testid="order-discount">{money(-order.discount_cents)}</td>
                                                    </tr>
                                                    <tr>
                                                        <th scope="row" colspan="2">
                                                            "Paid"
                                                        </th>
                                                        <td data-testid="order-paid">{money(paid_cents)}</td>
                                                    </tr>
                                                }
                                            })}
                                    </tfoot>
                                </table>
                                {(order.points_earned > 0)
                                    .then(|| {
                                        view! {
                                            <p class="notice" data-testid="order-points">
                                                {format!(
                                                    "This order earns {} points, yours to spend once it ships.",
                                                    order.points_earned,
                                                )}
                                            </p>
                                        }
                                    })}
                                <PostPurchaseOffers order_id=order.id />
                                <p>
                                    <A href="/">"Continue shopping"</A>
                                </p>
                            </section>
                        }
                            .into_any()
                    }
                    Err(crate::shared::AppError::Unauthorized) => {
                        view! { <Redirect path="/login" /> }.into_any()
                    }
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Complementary products on the order page and, while the order is open for add-ons, a
/// one-click "add to this order" for each (a plain form: it works without JavaScript).
#[component]
fn PostPurchaseOffers(order_id: i64) -> impl IntoView {
    let query = use_query_map();
    let offers =
        Resource::new(move || (order_id, query.read().get("added")), |(id, _)| super::api::get_post_purchase(id));
    let add = ServerAction::<super::api::AddToOrder>::new();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let notice = query
                    .read_untracked()
                    .get("addon")
                    .and_then(|code| super::domain::AddonRefusal::parse(&code))
                    .map(|refusal| view! { <p class="notice error" role="alert" data-testid="addon-refused">{refusal.message()}</p> });
                let added = query
                    .read_untracked()
                    .get("added")
                    .map(|sku| view! { <p class="notice" role="status" data-testid="addon-added">{format!("{sku} joins this order's shipment.")}</p> });
                let Ok(post) = offers.await else { return view! { {notice} }.into_any() };
                if post.offers.is_empty() {
                    return view! { {notice} {added} }.into_any();
                }
                let until = post.addon_until;
                view! {
                    {notice}
                    {added}
                    <section class="post-purchase" data-testid="post-purchase">
                        <h2>"Goes well with your order"</h2>
                        {until.map(|until| view! {
                            <p class="muted" data-testid="addon-window">
                                {format!("Add one to this shipment until {} UTC, charged at the price shown.", crate::shared::format_time(until))}
                            </p>
                        })}
                        <ul class="rec-list">
                            {post
                                .offers
                                .into_iter()
                                .map(|product| {
                                    let href = format!("/rec/cross_sell/{}?from=post-purchase", product.sku);
                                    let sku = product.sku.clone();
                                    view! {
                                        <li data-testid="rec-item" data-sku=product.sku.clone()>
                                            <a href=href rel="external">{product.name.clone()}</a>
                                            " "
                                            <span data-testid="post-purchase-price" data-amount-cents=product.price.amount_cents>
                                                {money(product.price.amount_cents)}
                                            </span>
                                            {until.map(|_| view! {
                                                <ActionForm action=add attr:class="addon-form">
                                                    <input type="hidden" name="order_id" value=order_id.to_string() />
                                                    <input type="hidden" name="sku" value=sku.clone() />
                                                    <button type="submit" data-testid="post-purchase-add">"Add to this order"</button>
                                                </ActionForm>
                                            })}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </section>
                }
                .into_any()
            })}
        </Suspense>
    }
}
