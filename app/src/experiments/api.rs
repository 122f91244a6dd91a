//! Experiment server functions: the admin page's reads and form posts. Every one checks the
//! admin role on the server.

// The `#[server]` macro generates code an item-level `allow` does not reach.
#![allow(clippy::too_many_arguments)]

use super::domain::{Banner, Experiment};
use super::results::ExperimentResults;
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything `/admin/experiments` shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentsAdmin {
    pub experiments: Vec<(Experiment, ExperimentResults)>,
    pub banners: Vec<Banner>,
    pub high_value_cents: i64,
}

#[server(prefix = "/rpc")]
pub async fn get_experiments_admin() -> Result<ExperimentsAdmin, AppError> {
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let experiments = super::ssr::load_experiments(&state.db).await?;
    let mut with_results = Vec::with_capacity(experiments.len());
    for experiment in experiments {
        let results = super::ssr::results(&state.db, &experiment).await?;
        with_results.push((experiment, results));
    }
    let banners = super::ssr::banners(&state.db).await?;
    Ok(ExperimentsAdmin { experiments: with_results, banners, high_value_cents: state.high_value_cents })
}

/// Where a form post goes back to, with an error code the page shows next to the form.
#[cfg(feature = "ssr")]
fn back(key: &str, error: Option<&str>) {
    let anchor = format!("#experiment-{key}");
    match error {
        Some(error) => crate::state::redirect(&format!(
            "/admin/experiments?error={}&key={}{anchor}",
            crate::accounts::api::url_escape(error),
            crate::accounts::api::url_escape(key)
        )),
        None => crate::state::redirect(&format!(
            "/admin/experiments?saved={}{anchor}",
            crate::accounts::api::url_escape(key)
        )),
    }
}

#[cfg(feature = "ssr")]
async fn save_checked(experiment: Experiment) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let key = experiment.key.clone();
    if let Err(problems) = experiment.validate() {
        let message = super::domain::describe_problems(&problems);
        back(&key, Some(&message));
        return Ok(());
    }
    super::ssr::save_experiment(&state.db, &experiment).await?;
    state.experiments.reload(&state.db).await?;
    back(&key, None);
    Ok(())
}

#[cfg(feature = "ssr")]
fn percent_to_bp(raw: &str) -> Option<i64> {
    let value: f64 = raw.trim().trim_end_matches('%').trim().parse().ok()?;
    if !value.is_finite() || !(0.0..=100.0).contains(&value) {
        return None;
    }
    Some((value * 100.0).round() as i64)
}

/// Creates a draft experiment with a control and one variant, both showing the current hero.
#[server(prefix = "/rpc")]
pub async fn create_experiment(key: String, name: String) -> Result<(), AppError> {
    use super::domain::{default_hero, Status, Variant};
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let key = key.trim().to_string();
    if state.experiments.get(&key).is_some() {
        back(&key, Some("an experiment with this key exists already"));
        return Ok(());
    }
    let content = state
        .experiments
        .get(super::domain::HERO)
        .and_then(|hero| hero.control().map(|v| v.content.clone()))
        .unwrap_or_else(|| default_hero().content);
    let variant = |key: &str| Variant { key: key.into(), weight_bp: 5_000, content: content.clone() };
    save_checked(Experiment {
        key,
        name: name.trim().to_string(),
        status: Status::Draft,
        coverage_bp: 10_000,
        target_segments: Vec::new(),
        winner: None,
        variants: vec![variant("control"), variant("variant_a")],
    })
    .await
}

/// Status, coverage, targeting and winner.
#[server(prefix = "/rpc")]
pub async fn save_experiment_settings(
    key: String,
    name: String,
    status: String,
    coverage_pct: String,
    winner: Option<String>,
    target_new: Option<String>,
    target_returning: Option<String>,
    target_high_value: Option<String>,
) -> Result<(), AppError> {
    use super::domain::{Segment, Status};
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let Some(mut experiment) = state.experiments.get(&key) else {
        return Err(AppError::NotFound(format!("experiment '{key}'")));
    };
    let Some(status) = Status::parse(&status) else {
        back(&key, Some("status must be draft, running or stopped"));
        return Ok(());
    };
    let Some(coverage_bp) = percent_to_bp(&coverage_pct) else {
        back(&key, Some("coverage must be a percentage between 0 and 100"));
        return Ok(());
    };
    experiment.name = name.trim().to_string();
    experiment.status = status;
    experiment.coverage_bp = coverage_bp;
    experiment.winner = winner.filter(|w| !w.is_empty());
    experiment.target_segments =
        [(target_new, Segment::New), (target_returning, Segment::Returning), (target_high_value, Segment::HighValue)]
            .into_iter()
            .filter_map(|(checked, segment)| checked.map(|_| segment))
            .collect();
    save_checked(experiment).await
}

/// One variant's weight and hero content; adds the variant when the key is new.
#[server(prefix = "/rpc")]
pub async fn save_variant(
    key: String,
    variant: String,
    weight_pct: String,
    headline: String,
    subcopy: String,
    cta_label: String,
    cta_href: String,
    image: String,
) -> Result<(), AppError> {
    use super::domain::{HeroContent, Variant};
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let Some(mut experiment) = state.experiments.get(&key) else {
        return Err(AppError::NotFound(format!("experiment '{key}'")));
    };
    let Some(weight_bp) = percent_to_bp(&weight_pct) else {
        back(&key, Some("weight must be a percentage between 0 and 100"));
        return Ok(());
    };
    let variant_key = variant.trim().to_string();
    let content = HeroContent {
        headline: headline.trim().to_string(),
        subcopy: subcopy.trim().to_string(),
        cta_label: cta_label.trim().to_string(),
        cta_href: cta_href.trim().to_string(),
        image: image.trim().to_string(),
    };
    match experiment.variants.iter_mut().find(|v| v.key == variant_key) {
        Some(existing) => {
            existing.weight_bp = weight_bp;
            existing.content = content;
        }
        None => experiment.variants.push(Variant { key: variant_key, weight_bp, content }),
    }
    save_checked(experiment).await
}

#[server(prefix = "/rpc")]
pub async fn save_banner(
    segment: String,
    headline: String,
    body: String,
    cta_label: String,
    cta_href: String,
) -> Result<(), AppError> {
    use super::domain::{BannerContent, Segment};
    let state = crate::state::state()?;
    crate::state::identity().await?.require_admin()?;
    let Some(segment) = Segment::parse(&segment) else {
        return Err(AppError::invalid("segment", "Unknown segment."));
    };
    let content = BannerContent {
        headline: headline.trim().to_string(),
        body: body.trim().to_string(),
        cta_label: cta_label.trim().to_string(),
        cta_href: cta_href.trim().to_string(),
    };
    let anchor = format!("#banner-{}", segment.as_str());
    if let Err(problems) = content.validate() {
        let message = super::domain::describe_problems(&problems);
        crate::state::redirect(&format!(
            "/admin/experiments?banner_error={}&segment={}{anchor}",
            crate::accounts::api::url_escape(&message),
            segment.as_str()
        ));
        return Ok(());
    }
    super::ssr::save_banner(&state.db, &Banner { segment, content }).await?;
    crate::state::redirect(&format!("/admin/experiments?banner_saved={}{anchor}", segment.as_str()));
    Ok(())
}
