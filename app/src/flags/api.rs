//! The owner's flag server functions (`/admin/flags`). Admin only, checked on the server.

use super::domain::{Evaluation, FlagKind};
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A flag as the editor shows it (values and rules as text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlagView {
    pub key: String,
    pub description: String,
    pub kind: FlagKind,
    pub on: bool,
    pub default: String,
    pub off: String,
    pub rules: String,
    pub version: i64,
}

/// Everything `/admin/flags` shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlagsAdmin {
    pub flags: Vec<FlagView>,
    /// (when, who, flag, version, action, detail), newest first.
    pub audit: Vec<(i64, String, String, i64, String, String)>,
    /// Plan keys, for the preview.
    pub plans: Vec<String>,
}

#[server(prefix = "/rpc")]
pub async fn get_flags_admin() -> Result<FlagsAdmin, AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let flags = super::ssr::all(&state.db)
        .await?
        .into_iter()
        .map(|flag| FlagView {
            rules: flag.rules.iter().map(super::domain::format_rule).collect::<Vec<_>>().join("\n"),
            default: flag.default.to_string(),
            off: flag.off.to_string(),
            key: flag.key,
            description: flag.description,
            kind: flag.kind,
            on: flag.on,
            version: flag.version,
        })
        .collect();
    let plans = state.plans.plans(&state.db).await?.iter().map(|plan| plan.key.clone()).collect();
    Ok(FlagsAdmin { flags, audit: super::ssr::audit(&state.db, 50).await?, plans })
}

/// Creates or edits a flag from the editor's fields (a new version, with an audit row).
#[server(prefix = "/rpc", endpoint = "save_flag")]
pub async fn save_flag(
    key: String,
    description: String,
    kind: String,
    on: Option<String>,
    default: String,
    off: String,
    rules: String,
) -> Result<(), AppError> {
    use super::domain::{parse_key, parse_rules, parse_value};
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    let result = async {
        let key = parse_key(&key).map_err(|message| AppError::invalid("key", message))?;
        let kind = match kind.as_str() {
            "boolean" => FlagKind::Boolean,
            "json" => FlagKind::Json,
            _ => return Err(AppError::invalid("kind", "A flag is boolean or JSON.")),
        };
        let description = description.trim().to_string();
        if description.chars().count() > 300 {
            return Err(AppError::invalid("description", "Describe the flag in at most 300 characters."));
        }
        let input = super::ssr::FlagInput {
            kind,
            on: on.is_some(),
            default: parse_value(kind, &default).map_err(|m| AppError::invalid("default", format!("Default: {m}")))?,
            off: parse_value(kind, &off).map_err(|m| AppError::invalid("off", format!("Off value: {m}")))?,
            rules: parse_rules(kind, &rules).map_err(|message| AppError::invalid("rules", message))?,
            key,
            description,
        };
        let saved = super::ssr::save(&state.db, input, admin.id).await?;
        state.flags.invalidate();
        Ok(format!("Saved {} as version {}.", saved.key, saved.version))
    }
    .await;
    crate::state::admin_redirect("/admin/flags", result)
}

/// The kill switch: `on` is "on" or "off".
#[server(prefix = "/rpc", endpoint = "switch_flag")]
pub async fn switch_flag(key: String, on: String) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let admin = crate::state::identity().await?.require_admin()?.clone();
    let result = async {
        let on = match on.as_str() {
            "on" => true,
            "off" => false,
            _ => return Err(AppError::invalid("on", "Switch a flag on or off.")),
        };
        let flag = super::ssr::switch(&state.db, &key, on, admin.id).await?;
        state.flags.invalidate();
        Ok(format!("{} is {} for everyone.", flag.key, if on { "on" } else { "off" }))
    }
    .await;
    crate::state::admin_redirect("/admin/flags", result)
}

/// "What does this account (or an anonymous visitor) get, as if on this plan?"
#[server(prefix = "/rpc")]
pub async fn preview_flags(email: Option<String>, plan: Option<String>) -> Result<Vec<(String, Evaluation)>, AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let email = email.filter(|e| !e.trim().is_empty());
    let plan = plan.filter(|p| !p.trim().is_empty());
    super::ssr::preview(&state, email.as_deref(), plan.as_deref()).await
}
