//! Account server functions: register, login, logout and the account page's data.

use super::domain::User;
use crate::cart::domain::Order;
use crate::shared::AppError;
use leptos::prelude::*;

/// Only same-site paths are accepted as `next`, so a login link cannot send a shopper to
/// another site (open-redirect defence).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_string(),
        _ => "/account".to_string(),
    }
}

/// Creates the account and logs in. A refused form is not an error of the call: it answers
/// with a redirect back to the form carrying the reason's code, which works the same with
/// and without JavaScript.
#[server(prefix = "/rpc")]
pub async fn register(email: String, display_name: String, password: String) -> Result<(), AppError> {
    use super::domain::{DisplayName, Email, FormError, Password};
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let fail = |error: FormError| {
        crate::state::redirect(&format!("/register?error={}", error.code()));
        Ok(())
    };
    let parsed = Email::parse(&email).and_then(|email| {
        let display_name = DisplayName::parse(&display_name)?;
        let password = Password::parse(&password, Some(&email))?;
        Ok((email, display_name, password))
    });
    if state.rate_limits.check_registration(identity.client_ip).is_err() {
        return fail(FormError::TooMany);
    }
    let (email, display_name, password) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return fail(error),
    };
    let referral_code = identity.referral_code.as_deref();
    match super::ssr::register(
        &state.db,
        &email,
        &display_name,
        &password,
        &identity.visitor_id,
        referral_code,
        &state.loyalty,
        identity.session_token.as_deref(),
    )
    .await
    {
        Ok((_user, token)) => {
            crate::state::set_cookie(&super::ssr::session_cookie(&token, state.secure_cookies));
            if referral_code.is_some() {
                crate::state::set_cookie(&crate::loyalty::referrals::clear_referral_cookie(state.secure_cookies));
            }
            crate::state::redirect("/account");
            Ok(())
        }
        Err(AppError::Conflict(_)) => fail(FormError::DuplicateEmail),
        Err(error) => Err(error),
    }
}

/// Logs in and goes on to `next` (same-site paths only).
#[server(prefix = "/rpc")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use super::domain::{Email, FormError};
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let next = safe_next(next.as_deref());
    let fail = |error: FormError| {
        let next_param = if next == "/account" { String::new() } else { format!("&next={}", url_escape(&next)) };
        crate::state::redirect(&format!("/login?error={}{next_param}", error.code()));
        Ok(())
    };
    let email = match Email::parse(&email) {
        Ok(email) => email,
        Err(error) => return fail(error),
    };
    if state.rate_limits.check_login(identity.client_ip).is_err() {
        return fail(FormError::TooMany);
    }
    let limits = &state.rate_limits.limits;
    let previous = identity.session_token.as_deref();
    match super::ssr::login(&state.db, &email, &password, &identity.visitor_id, limits, previous).await {
        Ok((_user, token)) => {
            crate::state::set_cookie(&super::ssr::session_cookie(&token, state.secure_cookies));
            crate::state::redirect(&next);
            Ok(())
        }
        Err(AppError::Unauthorized) => fail(FormError::WrongPassword),
        Err(AppError::TooManyRequests { .. }) => fail(FormError::TooMany),
        Err(error) => Err(error),
    }
}

#[server(prefix = "/rpc")]
pub async fn logout() -> Result<(), AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    if let Some(token) = identity.session_token.as_deref() {
        super::ssr::logout(&state.db, token).await?;
    }
    crate::state::set_cookie(&super::ssr::clear_session_cookie(state.secure_cookies));
    crate::state::redirect("/");
    Ok(())
}

/// The account page: who you are and your recent orders. `None` when logged out.
#[server(prefix = "/rpc")]
pub async fn get_account() -> Result<Option<(User, Vec<Order>)>, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user else {
        return Ok(None);
    };
    let orders = crate::cart::ssr::list_orders(&state.db, user.id, 20).await?;
    Ok(Some((user, orders)))
}

/// Percent-encodes a path for use as a query value.
pub fn url_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_path_on_this_site() {
        assert_eq!(safe_next(Some("/checkout")), "/checkout");
        assert_eq!(safe_next(Some("//evil.example")), "/account");
        assert_eq!(safe_next(Some("https://evil.example")), "/account");
        assert_eq!(safe_next(None), "/account");
    }
}
