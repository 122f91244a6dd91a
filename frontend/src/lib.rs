//! The browser entry point: hydrates the server-rendered page into the Leptos app.
//!
//! Built three times: the shop's bundle (`App`), with the `account` feature the account
//! area's (`AccountApp`), and with the `admin` feature the admin area's (`AdminApp`), so a
//! shopper browsing the catalog downloads only what browsing needs.

#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    #[cfg(not(any(feature = "admin", feature = "account")))]
    leptos::mount::hydrate_body(app::App);
    #[cfg(feature = "account")]
    leptos::mount::hydrate_body(app::AccountApp);
    #[cfg(feature = "admin")]
    leptos::mount::hydrate_body(app::AdminApp);
    // A marker for tests and analytics: from here on, clicks are handled by the app.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
