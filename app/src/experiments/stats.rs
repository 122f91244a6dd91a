//! Statistics for A/B experiments: conversion rates, frequentist and Bayesian comparison of
//! a treatment against its control, and the sample-ratio-mismatch check.
//!
//! Pure functions over counts: no I/O, no clock, no threads, so the same code runs on the
//! server and, if ever needed, in the browser's WebAssembly.

use statrs::function::erf::erfc;
use statrs::function::gamma::{checked_gamma_ur, ln_gamma};

/// Counts for one variant of an experiment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VariantCounts {
    pub visitors: u64,
    pub conversions: u64,
}

/// Treatment vs control.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// Relative uplift of the conversion rate, (p_t - p_c) / p_c.
    pub uplift: f64,
    /// 95% confidence interval of the relative uplift (delta method).
    pub uplift_ci_low: f64,
    pub uplift_ci_high: f64,
    /// Two-proportion z statistic (pooled standard error) and its two-sided p-value.
    pub z: f64,
    pub p_value: f64,
    /// Bayesian P(p_t > p_c) with independent Beta(1,1) priors, computed exactly.
    pub chance_to_beat_control: f64,
}

/// The threshold below which SRM is flagged.
pub const SRM_ALPHA: f64 = 0.001;

/// Two-sided 95% quantile of the standard normal, Φ⁻¹(0.975).
const Z_95: f64 = 1.959963984540054;

/// Relative size below which the terms left out of the chance-to-beat sum are ignored.
const TAIL_TOLERANCE: f64 = 1e-17;

/// Most terms the exact chance-to-beat sum may take; beyond it the normal approximation is used.
/// Only astronomically large experiments get near it (the sum needs about 20 standard deviations
/// of terms around its peak, i.e. a few thousand for 100,000 conversions), and it bounds the time.
const MAX_EXACT_TERMS: u64 = 2_000_000;

/// Largest sum of posterior parameters for the exact chance-to-beat sum. Its terms are differences
/// of ln Γ values of that size, so f64 rounding grows with it (about 1e-5 at 1e10, 1e-9 at 1e6);
/// beyond it the normal approximation is used, which is good once conversions are numerous too.
const MAX_EXACT_PARAMETERS: f64 = 1e10;

/// Conversion rate of a variant; `None` without visitors or with more conversions than visitors.
pub fn conversion_rate(c: VariantCounts) -> Option<f64> {
    if c.visitors == 0 || c.conversions > c.visitors {
        return None;
    }
    Some(c.conversions as f64 / c.visitors as f64)
}

/// Compares a treatment with its control.
///
/// `None` when either side has 0 visitors, or the control rate is 0 (uplift undefined), or
/// conversions > visitors.
pub fn compare(control: VariantCounts, treatment: VariantCounts) -> Option<Comparison> {
    let p_c = conversion_rate(control)?;
    let p_t = conversion_rate(treatment)?;
    if p_c == 0.0 {
        return None;
    }
    let n_c = control.visitors as f64;
    let n_t = treatment.visitors as f64;

    let uplift = (p_t - p_c) / p_c;
    // Delta method for the ratio p_t / p_c (as GrowthBook does).
    let variance = p_t * (1.0 - p_t) / n_t / (p_c * p_c) + p_t * p_t * p_c * (1.0 - p_c) / n_c / p_c.powi(4);
    let half_width = Z_95 * variance.sqrt();

    let (z, p_value) = two_proportion_z_test(control, treatment);
    Some(Comparison {
        uplift,
        uplift_ci_low: uplift - half_width,
        uplift_ci_high: uplift + half_width,
        z,
        p_value,
        chance_to_beat_control: chance_to_beat(control, treatment),
    })
}

/// Wilson score 95% interval of a single conversion rate, for the per-variant chart.
///
/// `None` without visitors or with more conversions than visitors.
pub fn rate_interval(c: VariantCounts) -> Option<(f64, f64)> {
    let p = conversion_rate(c)?;
    let n = c.visitors as f64;
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half_width = Z_95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // Rounding can push an end a hair outside [0, 1] at p = 0 or p = 1.
    Some(((centre - half_width).clamp(0.0, 1.0), (centre + half_width).clamp(0.0, 1.0)))
}

/// Exact P(B > A) for A ~ Beta(1 + conv_a, 1 + visitors_a - conv_a), B likewise.
///
/// Conversions above visitors count as "every visitor converted" so that the function is total.
/// Beyond about 1e10 visitors in all, where f64 can no longer carry the exact sum, a normal
/// approximation of the two posteriors is used instead.
pub fn chance_to_beat(a: VariantCounts, b: VariantCounts) -> f64 {
    let a = BetaPosterior::from_counts(a);
    let b = BetaPosterior::from_counts(b);
    let exact = if a.alpha + a.beta + b.alpha + b.beta <= MAX_EXACT_PARAMETERS {
        exact_probability_greater(a, b)
    } else {
        None
    };
    exact.unwrap_or_else(|| normal_probability_greater(a, b)).clamp(0.0, 1.0)
}

/// Sample-ratio-mismatch p-value: chi-square goodness of fit of the observed visitor counts
/// against the split given by `weights` (normalised here), with k - 1 degrees of freedom.
///
/// `None` when k < 2, the slices differ in length, no visitor was observed, or any weight is
/// <= 0 or not finite. Compare the result with [`SRM_ALPHA`].
pub fn srm_p_value(observed: &[u64], weights: &[f64]) -> Option<f64> {
    let arms = observed.len();
    if arms < 2 || weights.len() != arms || weights.iter().any(|w| !w.is_finite() || *w <= 0.0) {
        return None;
    }
    let weight_total: f64 = weights.iter().sum();
    // u128 so that many arms of u64::MAX visitors cannot overflow.
    let visitor_total = observed.iter().map(|&o| u128::from(o)).sum::<u128>() as f64;
    if visitor_total == 0.0 || !weight_total.is_finite() {
        return None;
    }
    let chi_square: f64 = observed
        .iter()
        .zip(weights)
        .map(|(&o, &w)| {
            let expected = visitor_total * (w / weight_total);
            let deviation = o as f64 - expected;
            deviation * deviation / expected
        })
        .sum();
    chi_square_survival(chi_square, (arms - 1) as f64)
}

/// P(X >= x) for X ~ χ²(df), the regularized upper incomplete gamma Q(df/2, x/2).
fn chi_square_survival(x: f64, df: f64) -> Option<f64> {
    if x.is_nan() {
        return None;
    }
    // Q is only defined for x > 0; a perfect fit is as unsurprising as it gets.
    if x <= 0.0 {
        return Some(1.0);
    }
    if x.is_infinite() {
        return Some(0.0);
    }
    checked_gamma_ur(df / 2.0, x / 2.0).ok().filter(|p| p.is_finite()).map(|p| p.clamp(0.0, 1.0))
}

/// Two-proportion z statistic with pooled standard error and its two-sided p-value.
/// Expects validated counts (visitors > 0, conversions <= visitors).
fn two_proportion_z_test(control: VariantCounts, treatment: VariantCounts) -> (f64, f64) {
    let n_c = control.visitors as f64;
    let n_t = treatment.visitors as f64;
    let p_c = control.conversions as f64 / n_c;
    let p_t = treatment.conversions as f64 / n_t;
    let pooled = (control.conversions as f64 + treatment.conversions as f64) / (n_c + n_t);
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / n_c + 1.0 / n_t)).sqrt();
    // Both rates 0 or both 1: no variation at all, hence no evidence of a difference.
    if standard_error <= 0.0 || !standard_error.is_finite() {
        return (0.0, 1.0);
    }
    let z = (p_t - p_c) / standard_error;
    // erfc keeps tiny p-values that 1 - Φ(|z|) would round to 0.
    let p_value = erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0);
    (z, p_value)
}

/// Beta(alpha, beta) posterior of a conversion rate.
#[derive(Clone, Copy, Debug)]
struct BetaPosterior {
    alpha: f64,
    beta: f64,
}

impl BetaPosterior {
    /// Posterior under a uniform Beta(1, 1) prior.
    fn from_counts(c: VariantCounts) -> Self {
        Self { alpha: c.conversions as f64 + 1.0, beta: c.visitors.saturating_sub(c.conversions) as f64 + 1.0 }
    }

    /// Posterior of the non-conversion rate 1 - p.
    fn complement(self) -> Self {
        Self { alpha: self.beta, beta: self.alpha }
    }
}

/// P(p_b > p_a) by Evan Miller's closed form, or `None` if the sum would be too long.
///
/// The sum runs over one posterior parameter, so of the four equivalent forms the one with the
/// smallest parameter is used: P(B > A) = 1 - P(A > B) swaps alpha_b for alpha_a, and
/// P(p_b > p_a) = P(1 - p_a > 1 - p_b) swaps the alphas for the betas.
fn exact_probability_greater(a: BetaPosterior, b: BetaPosterior) -> Option<f64> {
    let smallest = a.alpha.min(a.beta).min(b.alpha).min(b.beta);
    if smallest == b.alpha {
        miller_sum(a, b)
    } else if smallest == a.alpha {
        miller_sum(b, a).map(|p| 1.0 - p)
    } else if smallest == a.beta {
        miller_sum(b.complement(), a.complement())
    } else {
        miller_sum(a.complement(), b.complement()).map(|p| 1.0 - p)
    }
}

/// Σ_{i=0}^{α_b-1} exp(lnB(α_a+i, β_a+β_b) - ln(β_b+i) - lnB(1+i, β_b) - lnB(α_a, β_a)).
///
/// The terms are the probabilities of a beta-negative-binomial distribution, which is unimodal:
/// term(i+1)/term(i) >= 1 exactly when i <= (α_a β_b - α_a - β_a - β_b) / (1 + β_a). So only the
/// peak term is computed with ln Γ; the rest follow by that exact ratio, walking outwards from the
/// peak until what is left on a side (at most its number of terms times the current one, by
/// monotonicity) is negligible. This keeps 100,000+ conversions to a few thousand steps.
fn miller_sum(a: BetaPosterior, b: BetaPosterior) -> Option<f64> {
    let last = b.alpha - 1.0;
    let ratio = |i: f64| (a.alpha + i) * (b.beta + i) / ((1.0 + i) * (a.alpha + a.beta + b.beta + i));
    let rising_until = (a.alpha * b.beta - a.alpha - a.beta - b.beta) / (1.0 + a.beta);
    let peak = if rising_until >= 0.0 { (rising_until.floor() + 1.0).min(last) } else { 0.0 };
    let ln_peak_term = ln_beta(a.alpha + peak, a.beta + b.beta)
        - (b.beta + peak).ln()
        - ln_beta(1.0 + peak, b.beta)
        - ln_beta(a.alpha, a.beta);

    // Terms relative to the peak term, so nothing underflows however small the peak is.
    let mut relative_sum = 1.0;
    let mut steps: u64 = 0;

    let mut term = 1.0;
    let mut i = peak;
    while i < last {
        let terms_left = last - i;
        if terms_left * term <= TAIL_TOLERANCE * relative_sum {
            break;
        }
        term *= ratio(i);
        i += 1.0;
        relative_sum += term;
        steps += 1;
        if steps > MAX_EXACT_TERMS {
            return None;
        }
    }

    let mut term = 1.0;
    let mut i = peak;
    while i > 0.0 {
        if i * term <= TAIL_TOLERANCE * relative_sum {
            break;
        }
        term /= ratio(i - 1.0);
        i -= 1.0;
        relative_sum += term;
        steps += 1;
        if steps > MAX_EXACT_TERMS {
            return None;
        }
    }

    let sum = (ln_peak_term + relative_sum.ln()).exp();
    sum.is_finite().then_some(sum)
}

/// ln B(x, y) for x, y > 0.
fn ln_beta(x: f64, y: f64) -> f64 {
    ln_gamma(x) + ln_gamma(y) - ln_gamma(x + y)
}

/// P(p_b > p_a) with both posteriors replaced by normals of the same mean and variance.
fn normal_probability_greater(a: BetaPosterior, b: BetaPosterior) -> f64 {
    let mean = |p: BetaPosterior| p.alpha / (p.alpha + p.beta);
    let variance = |p: BetaPosterior| {
        let n = p.alpha + p.beta;
        p.alpha * p.beta / (n * n * (n + 1.0))
    };
    let difference = mean(b) - mean(a);
    let spread = (2.0 * (variance(a) + variance(b))).sqrt();
    // Φ(d / σ) = erfc(-d / (σ√2)) / 2; the spread is never 0 since alpha, beta >= 1.
    0.5 * erfc(-difference / spread)
}

#[cfg(test)]
mod tests {
    //! Expected values come from scipy 1.17 / mpmath 1.4, never from this module. Helpers used in
    //! the Python snippets below:
    //!
    //! ```python
    //! from scipy import stats, integrate; import numpy as np, mpmath as mp
    //! def compare(nc, cc, nt, ct):
    //!     pc, pt, ph = cc/nc, ct/nt, (cc+ct)/(nc+nt)
    //!     z = (pt-pc) / np.sqrt(ph*(1-ph)*(1/nc+1/nt)); up = (pt-pc)/pc
    //!     hw = 1.959963984540054*np.sqrt(pt*(1-pt)/nt/pc**2 + pt**2*pc*(1-pc)/nc/pc**4)
    //!     return up, up-hw, up+hw, z, 2*stats.norm.sf(abs(z))
    //! def ctb(na, ca, nb, cb):  # P(B > A) by quadrature
    //!     A, B = stats.beta(1+ca, 1+na-ca), stats.beta(1+cb, 1+nb-cb)
    //!     lo, hi = min(A.ppf(1e-15), B.ppf(1e-15)), max(A.isf(1e-15), B.isf(1e-15))
    //!     return integrate.quad(lambda x: B.pdf(x)*A.cdf(x), lo, hi,
    //!                           points=np.linspace(lo, hi, 50)[1:-1], limit=500)[0]
    //! # cross-check: Evan Miller's sum in 40-digit mpmath (peak term by loggamma, then the ratio)
    //! def wilson(n, c): return stats.binomtest(c, n).proportion_ci(0.95, method='wilson')
    //! def srm(obs, w): w = np.array(w, float); return stats.chisquare(obs, sum(obs)*w/w.sum()).pvalue
    //! ```
    use super::*;
    use proptest::prelude::*;

    const TOLERANCE: f64 = 1e-6;

    fn counts(visitors: u64, conversions: u64) -> VariantCounts {
        VariantCounts { visitors, conversions }
    }

    #[track_caller]
    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() <= TOLERANCE, "got {actual}, expected {expected}");
    }

    #[track_caller]
    fn assert_relatively_close(actual: f64, expected: f64) {
        assert!(((actual - expected) / expected).abs() <= TOLERANCE, "got {actual:e}, expected {expected:e}");
    }

    /// Expected (uplift, ci_low, ci_high, z, p_value, chance_to_beat_control).
    #[track_caller]
    fn assert_comparison(control: VariantCounts, treatment: VariantCounts, expected: [f64; 6]) {
        let c = compare(control, treatment).expect("valid counts");
        let actual = [c.uplift, c.uplift_ci_low, c.uplift_ci_high, c.z, c.p_value, c.chance_to_beat_control];
        for (field, (a, e)) in
            ["uplift", "ci_low", "ci_high", "z", "p", "chance"].iter().zip(actual.iter().zip(expected))
        {
            assert!((a - e).abs() <= TOLERANCE, "{field}: got {a}, expected {e}");
        }
    }

    /// Evan Miller's sum taken term by term with ln Γ, to check the peak-outward walk against.
    fn naive_miller_sum(a: VariantCounts, b: VariantCounts) -> f64 {
        let (a, b) = (BetaPosterior::from_counts(a), BetaPosterior::from_counts(b));
        (0..b.alpha as u64)
            .map(|i| {
                let i = i as f64;
                (ln_beta(a.alpha + i, a.beta + b.beta)
                    - (b.beta + i).ln()
                    - ln_beta(1.0 + i, b.beta)
                    - ln_beta(a.alpha, a.beta))
                .exp()
            })
            .sum()
    }

    #[test]
    fn conversion_rate_is_conversions_over_visitors() {
        assert_eq!(conversion_rate(counts(1000, 100)), Some(0.1));
        assert_eq!(conversion_rate(counts(7, 0)), Some(0.0));
        assert_eq!(conversion_rate(counts(7, 7)), Some(1.0));
        assert_eq!(conversion_rate(counts(0, 0)), None);
        assert_eq!(conversion_rate(counts(5, 6)), None);
    }

    #[test]
    fn compare_typical() {
        // compare(1000, 100, 1000, 120); ctb(1000, 100, 1000, 120)
        let expected =
            [0.2, -0.10058461614448244, 0.5005846161444822, 1.4293008498232314, 0.1529177818639462, 0.9231834389735598];
        assert_comparison(counts(1000, 100), counts(1000, 120), expected);
    }

    #[test]
    fn compare_large() {
        // compare(100000, 3000, 100000, 3150); ctb(100000, 3000, 100000, 3150)
        let expected = [
            0.05,
            -0.0016869667987175,
            0.10168696679871758,
            1.9428344527978822,
            0.05203616369830481,
            0.9739768033217221,
        ];
        assert_comparison(counts(100_000, 3000), counts(100_000, 3150), expected);
    }

    #[test]
    fn compare_treatment_worse() {
        // compare(5000, 400, 5000, 350); ctb(5000, 400, 5000, 350)
        let expected = [
            -0.125,
            -0.2457457522251431,
            -0.004254247774856737,
            -1.898315991504997,
            0.05765446863352129,
            0.028873893373594278,
        ];
        assert_comparison(counts(5000, 400), counts(5000, 350), expected);
    }

    #[test]
    fn compare_small_counts() {
        // compare(10, 1, 12, 3); ctb(10, 1, 12, 3)
        let expected =
            [1.5, -3.7545680387391522, 6.754568038739152, 0.9082951062292475, 0.3637223273807114, 0.7846790890269151];
        assert_comparison(counts(10, 1), counts(12, 3), expected);
    }

    #[test]
    fn compare_treatment_without_conversions() {
        // compare(500, 20, 500, 0); ctb(500, 20, 500, 0); the delta-method interval collapses at p_t = 0.
        let expected = [-1.0, -1.0, -1.0, -4.5175395145262565, 6.256235567415381e-06, 3.849838263138809e-07];
        assert_comparison(counts(500, 20), counts(500, 0), expected);
    }

    #[test]
    fn compare_every_visitor_converted_on_both_sides() {
        // Pooled SE is 0, so z = 0 and p = 1 by definition; ctb(50, 50, 40, 40) = 41/92
        let expected = [0.0, 0.0, 0.0, 0.0, 1.0, 0.44565217391304347];
        assert_comparison(counts(50, 50), counts(40, 40), expected);
    }

    #[test]
    fn compare_keeps_tiny_p_values() {
        // compare(100000, 3000, 100000, 4000): z = 12.167106887317214, 2*norm.sf(z) = 4.652832148017053e-34
        let c = compare(counts(100_000, 3000), counts(100_000, 4000)).expect("valid counts");
        assert_close(c.z, 12.167106887317214);
        assert_relatively_close(c.p_value, 4.652832148017053e-34);
        assert_close(c.uplift_ci_low, 0.27130793635113865);
        assert_close(c.uplift_ci_high, 0.3953587303155282);
        assert_close(c.chance_to_beat_control, 1.0);
    }

    #[test]
    fn compare_rejects_undefined_inputs() {
        assert_eq!(compare(counts(0, 0), counts(100, 10)), None);
        assert_eq!(compare(counts(100, 10), counts(0, 0)), None);
        assert_eq!(compare(counts(100, 0), counts(100, 10)), None, "control rate 0: uplift undefined");
        assert_eq!(compare(counts(100, 101), counts(100, 10)), None);
        assert_eq!(compare(counts(100, 10), counts(100, 101)), None);
    }

    #[test]
    fn both_sides_without_conversions() {
        assert_eq!(compare(counts(500, 0), counts(500, 0)), None, "control rate 0");
        assert_eq!(two_proportion_z_test(counts(500, 0), counts(500, 0)), (0.0, 1.0));
        // Identical posteriors: exactly even.
        assert_close(chance_to_beat(counts(500, 0), counts(500, 0)), 0.5);
        assert_close(chance_to_beat(counts(0, 0), counts(0, 0)), 0.5);
    }

    #[test]
    fn chance_to_beat_a_control_without_conversions() {
        // ctb(500, 0, 500, 5)
        assert_close(chance_to_beat(counts(500, 0), counts(500, 5)), 0.9846084379685168);
        assert_close(chance_to_beat(counts(500, 5), counts(500, 0)), 1.0 - 0.9846084379685168);
    }

    #[test]
    fn chance_to_beat_with_100k_conversions_per_arm() {
        // 40-digit mpmath Miller sums, agreeing with ctb(...) by quadrature to 1e-15
        let cases = [
            (counts(1_000_000, 100_000), counts(1_000_000, 100_500), 0.8804425367656455),
            (counts(200_000, 100_000), counts(200_000, 100_400), 0.8970483096024282),
            (counts(1_000_000, 999_000), counts(1_000_000, 999_100), 0.9891355369432983),
        ];
        for (a, b, expected) in cases {
            assert_close(chance_to_beat(a, b), expected);
            assert_close(chance_to_beat(b, a), 1.0 - expected);
        }
    }

    #[test]
    fn chance_to_beat_stays_total_on_extreme_counts() {
        let huge = u64::MAX;
        let cases = [
            (counts(huge, huge / 2), counts(huge, huge / 2 + 1_000_000)),
            (counts(huge, 0), counts(huge, huge)),
            (counts(huge, 3), counts(huge, 5)),
            (counts(10, 20), counts(10, 5)),
            (counts(0, huge), counts(huge, 0)),
        ];
        for (a, b) in cases {
            let p = chance_to_beat(a, b);
            assert!((0.0..=1.0).contains(&p), "{a:?} vs {b:?}: {p}");
        }
        assert_close(chance_to_beat(counts(huge, 0), counts(huge, huge)), 1.0);
    }

    #[test]
    fn normal_approximation_takes_over_smoothly() {
        // Just under the exact limit, the exact sum and the approximation agree closely, so the
        // switch at MAX_EXACT_PARAMETERS does not make results jump.
        let a = BetaPosterior::from_counts(counts(2_000_000_000, 60_000_000));
        let b = BetaPosterior::from_counts(counts(2_000_000_000, 60_010_000));
        let exact = exact_probability_greater(a, b).expect("within the exact limits");
        assert!((exact - normal_probability_greater(a, b)).abs() < 1e-4, "{exact}");
    }

    #[test]
    fn rate_interval_is_wilson() {
        // wilson(n, c) for each case
        let cases = [
            (counts(1000, 100), (0.08290944359309571, 0.1201519631953484)),
            (counts(10, 1), (0.017876213095072896, 0.4041500267952385)),
            (counts(500, 0), (0.0, 0.007624340461552241)),
            (counts(40, 40), (0.9123783988027133, 1.0)),
            (counts(100_000, 3150), (0.030435304753780583, 0.03260068833270973)),
        ];
        for (c, (low, high)) in cases {
            let (l, h) = rate_interval(c).expect("valid counts");
            assert_close(l, low);
            assert_close(h, high);
            assert!((0.0..=1.0).contains(&l) && (0.0..=1.0).contains(&h) && l <= h);
        }
        assert_eq!(rate_interval(counts(0, 0)), None);
        assert_eq!(rate_interval(counts(3, 4)), None);
    }

    #[test]
    fn srm_balanced_split_is_not_flagged() {
        // srm([5010, 4990], [1, 1])
        let p = srm_p_value(&[5010, 4990], &[1.0, 1.0]).expect("valid input");
        assert_close(p, 0.841480581121794);
        assert!(p >= SRM_ALPHA);
        assert_eq!(srm_p_value(&[5000, 5000], &[0.5, 0.5]), Some(1.0));
    }

    #[test]
    fn srm_three_arms() {
        // srm([10000, 10000, 10400], [1, 1, 1]): suspicious but not below the threshold
        let p = srm_p_value(&[10_000, 10_000, 10_400], &[1.0, 1.0, 1.0]).expect("valid input");
        assert_close(p, 0.005178924370597749);
        assert!(p >= SRM_ALPHA);
        // srm([10000, 10000, 10600], [1, 1, 1])
        let p = srm_p_value(&[10_000, 10_000, 10_600], &[1.0, 1.0, 1.0]).expect("valid input");
        assert_relatively_close(p, 7.774154262421966e-06);
        assert!(p < SRM_ALPHA);
    }

    #[test]
    fn srm_unequal_weights_need_not_be_normalised() {
        // srm([8950, 1050], [0.9, 0.1]) == srm([8950, 1050], [9, 1])
        assert_close(srm_p_value(&[8950, 1050], &[0.9, 0.1]).expect("valid input"), 0.09558070454562936);
        assert_close(srm_p_value(&[8950, 1050], &[9.0, 1.0]).expect("valid input"), 0.09558070454562936);
        // srm([2600, 2500, 4900], [1, 1, 2])
        assert_close(srm_p_value(&[2600, 2500, 4900], &[1.0, 1.0, 2.0]).expect("valid input"), 0.04978706836786395);
    }

    #[test]
    fn srm_rejects_invalid_input() {
        assert_eq!(srm_p_value(&[100], &[1.0]), None, "one arm");
        assert_eq!(srm_p_value(&[], &[]), None);
        assert_eq!(srm_p_value(&[0, 0], &[1.0, 1.0]), None, "no visitors");
        assert_eq!(srm_p_value(&[10, 10], &[1.0, 0.0]), None);
        assert_eq!(srm_p_value(&[10, 10], &[1.0, -1.0]), None);
        assert_eq!(srm_p_value(&[10, 10], &[1.0, f64::NAN]), None);
        assert_eq!(srm_p_value(&[10, 10], &[1.0, f64::INFINITY]), None);
        assert_eq!(srm_p_value(&[10, 10], &[f64::MAX, f64::MAX]), None, "weights overflow when summed");
        assert_eq!(srm_p_value(&[10, 10, 10], &[1.0, 1.0]), None, "length mismatch");
    }

    #[test]
    fn srm_handles_extreme_counts() {
        let p = srm_p_value(&[u64::MAX, u64::MAX, 0], &[1.0, 1.0, 1.0]).expect("valid input");
        assert_eq!(p, 0.0);
        let p = srm_p_value(&[u64::MAX, u64::MAX], &[1.0, 1.0]).expect("valid input");
        assert_eq!(p, 1.0);
    }

    proptest! {
        #[test]
        fn chance_to_beat_is_complementary(
            na in 0u64..50_000, ca_frac in 0.0f64..=1.0, nb in 0u64..50_000, cb_frac in 0.0f64..=1.0,
        ) {
            let a = counts(na, (na as f64 * ca_frac) as u64);
            let b = counts(nb, (nb as f64 * cb_frac) as u64);
            let (ab, ba) = (chance_to_beat(a, b), chance_to_beat(b, a));
            prop_assert!((0.0..=1.0).contains(&ab));
            prop_assert!((ab + ba - 1.0).abs() < 1e-9, "{} + {}", ab, ba);
        }

        #[test]
        fn peak_outward_walk_matches_the_full_sum(
            na in 1u64..3000, ca_frac in 0.0f64..=1.0, nb in 1u64..3000, cb_frac in 0.0f64..=1.0,
        ) {
            let a = counts(na, (na as f64 * ca_frac) as u64);
            let b = counts(nb, (nb as f64 * cb_frac) as u64);
            let walked = miller_sum(BetaPosterior::from_counts(a), BetaPosterior::from_counts(b)).expect("short sum");
            let naive = naive_miller_sum(a, b);
            // Both sums carry rounding of a few thousand terms (seen: 1.2e-11 apart near 1); 1e-9 is
            // still a thousand times tighter than the 1e-6 the statistics are checked to.
            prop_assert!((walked - naive).abs() < 1e-9, "{} vs {}", walked, naive);
        }

        #[test]
        fn comparison_is_well_formed(
            nc in 1u64..u64::MAX, cc_frac in 0.0f64..=1.0, nt in 1u64..u64::MAX, ct_frac in 0.0f64..=1.0,
        ) {
            let control = counts(nc, ((nc as f64 * cc_frac) as u64).min(nc));
            let treatment = counts(nt, ((nt as f64 * ct_frac) as u64).min(nt));
            if let Some(c) = compare(control, treatment) {
                prop_assert!((0.0..=1.0).contains(&c.p_value));
                prop_assert!((0.0..=1.0).contains(&c.chance_to_beat_control));
                prop_assert!(c.uplift.is_finite() && c.z.is_finite());
                prop_assert!(c.uplift_ci_low <= c.uplift && c.uplift <= c.uplift_ci_high);
            } else {
                prop_assert_eq!(control.conversions, 0);
            }
        }

        #[test]
        fn srm_p_value_is_a_probability(observed in prop::collection::vec(0u64..1_000_000, 2..6)) {
            let weights = vec![1.0; observed.len()];
            match srm_p_value(&observed, &weights) {
                Some(p) => prop_assert!((0.0..=1.0).contains(&p)),
                None => prop_assert!(observed.iter().all(|&o| o == 0)),
            }
        }
    }
}
