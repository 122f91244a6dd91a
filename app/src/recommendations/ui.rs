//! Frames for the server-rendered recommendation blocks (see `fragment`): the shop's and the
//! account area's bundles carry no recommendation views of their own.

use crate::shared::AppError;
use leptos::prelude::*;

/// A block of server-rendered HTML, or nothing while it loads or if it failed (a missing
/// recommendation is no reason to spoil the page).
#[component]
pub fn RecommendationBlock(html: Resource<Result<String, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match html.await {
                    Ok(html) if !html.is_empty() => view! { <div class="rec-blocks" inner_html=html></div> }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}
