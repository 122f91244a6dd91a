//! The browser entry point: hydrates the server-rendered page into the Leptos app.
//!
//! Built twice: the shop's bundle (`App`), and with the `admin` feature the admin area's
//! (`AdminApp`), so shoppers never download the owner's tools.

#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    #[cfg(not(feature = "admin"))]
    leptos::mount::hydrate_body(app::App);
    #[cfg(feature = "admin")]
    leptos::mount::hydrate_body(app::AdminApp);
    // A marker for tests and analytics: from here on, clicks are handled by the app.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
