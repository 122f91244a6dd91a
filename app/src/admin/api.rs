//! The dashboard's server function. Admin only: checked here, on the server, for every call.

use crate::shared::AppError;
use leptos::prelude::*;

/// The dashboard for a range (`from`/`to` dates or a preset of `days`), as HTML. A range
/// typed wrong shows the last 30 days with the reason above them.
#[server(prefix = "/rpc")]
pub async fn get_dashboard_html(
    from: Option<String>,
    to: Option<String>,
    days: Option<String>,
) -> Result<String, AppError> {
    use super::domain::{day_of, DateRange};
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let today = day_of(crate::shared::now_ms());
    let (range, problem) = match DateRange::parse(from.as_deref(), to.as_deref(), days.as_deref(), today) {
        Ok(range) => (range, None),
        Err(AppError::Invalid { message, .. }) => (DateRange::last(30, today), Some(message)),
        Err(error) => return Err(error),
    };
    let report = super::ssr::report(&state.db, range).await?;
    Ok(super::fragment::render(report, today, problem))
}
