//! Login, registration and account pages.

use super::api::get_account;
use super::domain::FormError;
use crate::layout::{use_actions, ErrorView, FieldError};
use crate::shared::Money;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_query_map;

/// The form error carried in `?error=` after a refused form post.
fn form_error() -> Memo<Option<FormError>> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get("error").and_then(|code| FormError::from_code(&code)))
}

fn message_for(error: Memo<Option<FormError>>, field: &'static str) -> impl Fn() -> Option<&'static str> {
    move || error.get().filter(|error| error.field() == field).map(FormError::message)
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let actions = use_actions();
    let query = use_query_map();
    let error = form_error();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <Title text="Log in — Mercato" />
        <section class="auth">
            <h1>"Log in"</h1>
            {move || view! { <FieldError message=message_for(error, "form")() /> }}
            <ActionForm action=actions.login attr:class="auth-form">
                <input type="hidden" name="next" value=next />
                <label for="login-email">"E-mail"</label>
                <input id="login-email" type="email" name="email" autocomplete="email" required />
                {move || view! { <FieldError message=message_for(error, "email")() /> }}
                <label for="login-password">"Password"</label>
                <input id="login-password" type="password" name="password" autocomplete="current-password" required />
                <button type="submit" data-testid="login-submit">
                    "Log in"
                </button>
            </ActionForm>
            <p>"New here? " <A href="/register">"Create an account"</A></p>
        </section>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let actions = use_actions();
    let error = form_error();
    view! {
        <Title text="Create an account — Mercato" />
        <section class="auth">
            <h1>"Create an account"</h1>
            {move || view! { <FieldError message=message_for(error, "form")() /> }}
            <ActionForm action=actions.register attr:class="auth-form">
                <label for="register-email">"E-mail"</label>
                <input id="register-email" type="email" name="email" autocomplete="email" required />
                {move || view! { <FieldError message=message_for(error, "email")() /> }}
                <label for="register-name">"Display name"</label>
                <input id="register-name" type="text" name="display_name" autocomplete="nickname" maxlength="40" required />
                {move || view! { <FieldError message=message_for(error, "display_name")() /> }}
                <label for="register-password">"Password"</label>
                <input
                    id="register-password"
                    type="password"
                    name="password"
                    autocomplete="new-password"
                    minlength="10"
                    required
                    aria-describedby="password-hint"
                />
                <p id="password-hint" class="hint">"At least 10 characters. A few unusual words work well."</p>
                {move || view! { <FieldError message=message_for(error, "password")() /> }}
                <button type="submit" data-testid="register-submit">
                    "Create account"
                </button>
            </ActionForm>
            <p>"Already have an account? " <A href="/login">"Log in"</A></p>
        </section>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let actions = use_actions();
    let account = Resource::new(move || actions.generation(), |_| get_account());
    view! {
        <Title text="Your account — Mercato" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(None) => view! { <Redirect path="/login?next=/account" /> }.into_any(),
                    Ok(Some((user, orders))) => {
                        view! {
                            <section class="account">
                                <h1>{format!("Hello, {}", user.display_name)}</h1>
                                <p class="muted">{user.email}</p>
                                <crate::plans::ui::MyPlan />
                                <crate::loyalty::ui::PointsBlock />
                                <crate::loyalty::ui::ReferralBlock />
                                <p>
                                    <A href="/wishlist">"Your wishlist"</A>
                                    " · "
                                    <A href="/support">"Support"</A>
                                </p>
                                <h2>"Your orders"</h2>
                                {if orders.is_empty() {
                                    view! { <p class="empty">"No orders yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="orders">
                                            {orders
                                                .into_iter()
                                                .map(|order| {
                                                    let href = format!("/orders/{}", order.id);
                                                    view! {
                                                        <li>
                                                            <A href=href>{format!("Order #{}", order.id)}</A>
                                                            " — "
                                                            {Money::from_cents(order.total_cents).to_string()}
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    }
                                        .into_any()
                                }}
                                <ActionForm action=actions.logout>
                                    <button type="submit" data-testid="logout">
                                        "Log out"
                                    </button>
                                </ActionForm>
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
