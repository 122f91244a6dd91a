//! An experiment's results as the API and the admin page show them: per-variant counts, rates
//! and comparisons with control, the sample-ratio check and daily exposures. Pure.

use super::domain::Experiment;
use super::stats::{self, VariantCounts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counts read from storage for one variant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawCounts {
    /// Distinct visitors exposed.
    pub visitors: u64,
    /// Distinct exposed visitors who then bought.
    pub purchasers: u64,
    /// Distinct exposed visitors who then added to the cart.
    pub adders: u64,
    pub revenue_cents: i64,
}

/// Treatment against control on the primary metric (purchase conversion).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VersusControl {
    /// Relative uplift of the conversion rate, (p_t - p_c) / p_c.
    pub uplift: f64,
    pub uplift_ci_low: f64,
    pub uplift_ci_high: f64,
    /// Two-sided p-value of the two-proportion z-test.
    pub p_value: f64,
    /// Bayesian chance that this variant's rate beats control's (Beta(1,1) priors).
    pub chance_to_beat_control: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VariantResult {
    pub key: String,
    pub visitors: u64,
    pub conversions: u64,
    pub conversion_rate: f64,
    /// 95% Wilson interval of the conversion rate.
    pub conversion_rate_ci_low: f64,
    pub conversion_rate_ci_high: f64,
    pub add_to_cart_visitors: u64,
    pub add_to_cart_rate: f64,
    pub revenue_cents: i64,
    pub revenue_per_visitor_cents: f64,
    /// `None` for control, and while a side has no data.
    pub versus_control: Option<VersusControl>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DailyExposures {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Visitors exposed that day, in the order of `variants`.
    pub counts: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExperimentResults {
    pub experiment: String,
    pub status: String,
    /// The primary metric.
    pub metric: String,
    pub variants: Vec<VariantResult>,
    /// Sample-ratio mismatch: p-value of the chi-square test of visitors against the weights.
    pub srm_p_value: Option<f64>,
    /// True when `srm_p_value` < 0.001: the split is broken and the results are not to be trusted.
    pub srm_flagged: bool,
    pub daily_exposures: Vec<DailyExposures>,
}

fn rate(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Builds the results from the counts. Variants are listed in the experiment's order (control
/// first); counts under variant keys the experiment no longer has are ignored.
pub fn compute(
    experiment: &Experiment,
    raw: &BTreeMap<String, RawCounts>,
    daily: &BTreeMap<i64, BTreeMap<String, u64>>,
) -> ExperimentResults {
    let counts: Vec<RawCounts> =
        experiment.variants.iter().map(|v| raw.get(&v.key).copied().unwrap_or_default()).collect();
    let control = counts.first().copied().unwrap_or_default();
    let as_stats = |c: RawCounts| VariantCounts { visitors: c.visitors, conversions: c.purchasers.min(c.visitors) };
    let variants = experiment
        .variants
        .iter()
        .zip(counts.iter())
        .enumerate()
        .map(|(i, (variant, c))| {
            let (ci_low, ci_high) = stats::rate_interval(as_stats(*c)).unwrap_or((0.0, 0.0));
            let versus_control = if i == 0 {
                None
            } else {
                stats::compare(as_stats(control), as_stats(*c)).map(|cmp| VersusControl {
                    uplift: cmp.uplift,
                    uplift_ci_low: cmp.uplift_ci_low,
                    uplift_ci_high: cmp.uplift_ci_high,
                    p_value: cmp.p_value,
                    chance_to_beat_control: cmp.chance_to_beat_control,
                })
            };
            VariantResult {
                key: variant.key.clone(),
                visitors: c.visitors,
                conversions: c.purchasers,
                conversion_rate: rate(c.purchasers, c.visitors),
                conversion_rate_ci_low: ci_low,
                conversion_rate_ci_high: ci_high,
                add_to_cart_visitors: c.adders,
                add_to_cart_rate: rate(c.adders, c.visitors),
                revenue_cents: c.revenue_cents,
                revenue_per_visitor_cents: if c.visitors == 0 {
                    0.0
                } else {
                    c.revenue_cents as f64 / c.visitors as f64
                },
                versus_control,
            }
        })
        .collect();
    let observed: Vec<u64> = counts.iter().map(|c| c.visitors).collect();
    let srm_p_value = stats::srm_p_value(&observed, &experiment.weights());
    let daily_exposures = daily
        .iter()
        .map(|(day, by_variant)| DailyExposures {
            day: crate::shared::format_utc_date(day * 86_400_000),
            counts: experiment.variants.iter().map(|v| by_variant.get(&v.key).copied().unwrap_or(0)).collect(),
        })
        .collect();
    ExperimentResults {
        experiment: experiment.key.clone(),
        status: experiment.status.as_str().to_string(),
        metric: "purchase".into(),
        variants,
        srm_p_value,
        srm_flagged: srm_p_value.is_some_and(|p| p < stats::SRM_ALPHA),
        daily_exposures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::domain::{HeroContent, Status, Variant};

    fn experiment() -> Experiment {
        let variant = |key: &str| Variant { key: key.into(), weight_bp: 5000, content: HeroContent::default() };
        Experiment {
            key: "hero".into(),
            name: "Hero".into(),
            status: Status::Running,
            coverage_bp: 10_000,
            target_segments: vec![],
            winner: None,
            variants: vec![variant("control"), variant("variant_a")],
        }
    }

    #[test]
    fn results_compare_each_variant_with_control_and_check_the_split() {
        let mut raw = BTreeMap::new();
        raw.insert(
            "control".to_string(),
            RawCounts { visitors: 1000, purchasers: 100, adders: 300, revenue_cents: 500_000 },
        );
        raw.insert(
            "variant_a".to_string(),
            RawCounts { visitors: 1000, purchasers: 120, adders: 310, revenue_cents: 660_000 },
        );
        raw.insert("gone".to_string(), RawCounts { visitors: 7, ..RawCounts::default() });
        let mut daily = BTreeMap::new();
        daily.insert(20_419, BTreeMap::from([("control".to_string(), 10), ("variant_a".to_string(), 12)]));
        let results = compute(&experiment(), &raw, &daily);
        assert_eq!(results.variants.len(), 2);
        assert!(results.variants[0].versus_control.is_none());
        let versus = results.variants[1].versus_control.as_ref().expect("comparison");
        assert!((versus.uplift - 0.2).abs() < 1e-12);
        assert!(versus.uplift_ci_low < 0.2 && versus.uplift_ci_high > 0.2);
        assert!((results.variants[1].revenue_per_visitor_cents - 660.0).abs() < 1e-9);
        assert!((results.variants[0].conversion_rate - 0.1).abs() < 1e-12);
        assert!(!results.srm_flagged);
        assert_eq!(results.daily_exposures, vec![DailyExposures { day: "2025-11-27".into(), counts: vec![10, 12] }]);
    }

    #[test]
    fn a_lopsided_split_is_flagged() {
        let mut raw = BTreeMap::new();
        raw.insert("control".to_string(), RawCounts { visitors: 10_000, ..RawCounts::default() });
        raw.insert("variant_a".to_string(), RawCounts { visitors: 10_600, ..RawCounts::default() });
        let results = compute(&experiment(), &raw, &BTreeMap::new());
        assert!(results.srm_flagged, "{:?}", results.srm_p_value);
        assert!(results.variants[1].versus_control.is_none(), "no conversions in control: uplift undefined");
    }
}
