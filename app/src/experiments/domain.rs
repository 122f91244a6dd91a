//! Experiment rules: GrowthBook-compatible hashing and bucketing, sticky assignment, customer
//! segments and the wire types of the hero and the banner. Pure; compiled for both targets.
//!
//! **Compatibility:** [`hash`] and [`bucket_ranges`] follow GrowthBook's SDK specification
//! (hash version 2 = FNV-1a 32-bit of the FNV-1a of `seed + id`), so any GrowthBook SDK, or a
//! warehouse query implementing the same two lines, given a visitor id reproduces the variant.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The home page hero experiment (DESIGN: key `hero`).
pub const HERO: &str = "hero";
/// Cookie and localStorage key holding `{ "<experiment>": "<variant>" }`.
pub const ASSIGNMENTS_KEY: &str = "mercato_ab";
/// The variant everyone outside an experiment sees.
pub const CONTROL: &str = "control";

/// FNV-1a, 32 bits, over the UTF-16 code units of `text` (what GrowthBook's JS SDK hashes;
/// identical to the bytes for the ASCII ids and keys Mercato uses).
pub fn fnv1a32(text: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for unit in text.encode_utf16() {
        hash ^= u32::from(unit);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// GrowthBook's `hash(seed, value, version)`: a number in [0, 1). `None` for unknown versions.
pub fn hash(seed: &str, value: &str, version: u8) -> Option<f64> {
    match version {
        1 => Some(f64::from(fnv1a32(&format!("{value}{seed}")) % 1000) / 1000.0),
        2 => Some(f64::from(fnv1a32(&fnv1a32(&format!("{seed}{value}")).to_string()) % 10_000) / 10_000.0),
        _ => None,
    }
}

/// GrowthBook's `getBucketRanges`: one `[start, end)` range per variation. Weights that do not
/// match the number of variations or do not sum to 1 (±0.01) fall back to equal weights;
/// coverage is clamped to [0, 1] and shrinks each range from its start.
pub fn bucket_ranges(n_variations: usize, coverage: f64, weights: Option<&[f64]>) -> Vec<(f64, f64)> {
    if n_variations == 0 {
        return Vec::new();
    }
    let coverage = if coverage.is_nan() { 0.0 } else { coverage.clamp(0.0, 1.0) };
    let equal = vec![1.0 / n_variations as f64; n_variations];
    let weights = match weights {
        Some(w) if w.len() == n_variations && (0.99..=1.01).contains(&w.iter().sum::<f64>()) => w.to_vec(),
        _ => equal,
    };
    let mut cumulative = 0.0;
    weights
        .iter()
        .map(|weight| {
            let start = cumulative;
            cumulative += weight;
            (start, start + coverage * weight)
        })
        .collect()
}

/// GrowthBook's `chooseVariation`: the index of the range containing `n`, if any.
pub fn choose_variation(n: f64, ranges: &[(f64, f64)]) -> Option<usize> {
    ranges.iter().position(|&(start, end)| n >= start && n < end)
}

/// Where a customer stands, computed on the server from their orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// No orders yet; every anonymous visitor.
    New,
    /// At least one order.
    Returning,
    /// Lifetime spend at or above the shop's threshold.
    HighValue,
}

impl Segment {
    pub const ALL: [Segment; 3] = [Segment::New, Segment::Returning, Segment::HighValue];

    pub fn as_str(self) -> &'static str {
        match self {
            Segment::New => "new",
            Segment::Returning => "returning",
            Segment::HighValue => "high_value",
        }
    }

    pub fn parse(raw: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|segment| segment.as_str() == raw.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Segment::New => "New visitors",
            Segment::Returning => "Returning customers",
            Segment::HighValue => "High-value customers",
        }
    }

    /// The segment of a customer with `n_orders` orders worth `lifetime_cents` in total.
    pub fn of(n_orders: i64, lifetime_cents: i64, high_value_threshold_cents: i64) -> Segment {
        if n_orders <= 0 {
            Segment::New
        } else if lifetime_cents >= high_value_threshold_cents {
            Segment::HighValue
        } else {
            Segment::Returning
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(as = ExperimentStatus))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Running,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Running => "running",
            Status::Stopped => "stopped",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        [Status::Draft, Status::Running, Status::Stopped].into_iter().find(|status| status.as_str() == raw)
    }
}

/// What a hero variant shows. Plain text: rendered as text nodes, never as HTML.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HeroContent {
    pub headline: String,
    pub subcopy: String,
    pub cta_label: String,
    pub cta_href: String,
    pub image: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Variant {
    pub key: String,
    /// Share of traffic in basis points; normalised by the sum over the variants.
    pub weight_bp: i64,
    pub content: HeroContent,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Experiment {
    pub key: String,
    pub name: String,
    pub status: Status,
    /// Share of visitors in the experiment, basis points.
    pub coverage_bp: i64,
    /// Empty: everyone. Otherwise only visitors in these segments take part.
    pub target_segments: Vec<Segment>,
    pub winner: Option<String>,
    /// The first variant is the control.
    pub variants: Vec<Variant>,
}

/// The outcome of assigning one visitor to one experiment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The variant whose content is shown.
    pub served: String,
    /// Whether the visitor takes part (then `served` is their variant and is recorded as an
    /// exposure); false for draft and stopped experiments, coverage and targeting misses.
    pub in_experiment: bool,
}

impl Experiment {
    /// Weights as GrowthBook expects them: fractions summing to 1.
    pub fn weights(&self) -> Vec<f64> {
        let total = self.variants.iter().fold(0i64, |total, v| total.saturating_add(v.weight_bp.max(0)));
        if total <= 0 {
            return vec![1.0 / self.variants.len().max(1) as f64; self.variants.len()];
        }
        self.variants.iter().map(|v| v.weight_bp.max(0) as f64 / total as f64).collect()
    }

    pub fn has_variant(&self, key: &str) -> bool {
        self.variants.iter().any(|v| v.key == key)
    }

    pub fn control(&self) -> Option<&Variant> {
        self.variants.first()
    }

    pub fn variant(&self, key: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.key == key)
    }

    /// Whether targeting lets this segment in.
    pub fn targets(&self, segment: Segment) -> bool {
        self.target_segments.is_empty() || self.target_segments.contains(&segment)
    }

    /// Decides what a visitor sees. `sticky` is the variant remembered for them (cookie or
    /// localStorage): while the experiment runs it wins over the hash, so changing weights
    /// never moves a visitor who has already seen a variant.
    pub fn decide(&self, visitor_id: &str, segment: Segment, sticky: Option<&str>) -> Decision {
        let control = self.control().map(|v| v.key.clone()).unwrap_or_else(|| CONTROL.to_string());
        let outside = |served: String| Decision { served, in_experiment: false };
        match self.status {
            Status::Draft => outside(control),
            Status::Stopped => {
                outside(self.winner.clone().filter(|winner| self.has_variant(winner)).unwrap_or(control))
            }
            Status::Running => {
                if !self.targets(segment) || visitor_id.is_empty() {
                    return outside(control);
                }
                if let Some(sticky) = sticky.filter(|key| self.has_variant(key)) {
                    return Decision { served: sticky.to_string(), in_experiment: true };
                }
                match self.bucket(visitor_id) {
                    Some(index) => Decision { served: self.variants[index].key.clone(), in_experiment: true },
                    None => outside(control),
                }
            }
        }
    }

    /// The variant index the hash puts this visitor in, or `None` outside the coverage.
    pub fn bucket(&self, visitor_id: &str) -> Option<usize> {
        let n = hash(&self.key, visitor_id, 2)?;
        let ranges = bucket_ranges(self.variants.len(), self.coverage_bp as f64 / 10_000.0, Some(&self.weights()));
        choose_variation(n, &ranges)
    }
}

/// Checks text fields shown to shoppers: length bounds, no control characters.
fn check_text(problems: &mut Vec<(String, String)>, field: String, value: &str, max: usize, required: bool) {
    let n = value.chars().count();
    if required && value.trim().is_empty() {
        problems.push((field, "is required".into()));
    } else if n > max {
        problems.push((field, format!("must be at most {max} characters")));
    } else if value.chars().any(char::is_control) {
        problems.push((field, "must not contain control characters".into()));
    }
}

/// Links on the hero and the banner stay inside the shop: a path, never a scheme (no
/// `javascript:`, no open redirect to another site).
fn check_local_path(problems: &mut Vec<(String, String)>, field: String, value: &str, prefix: &str) {
    let ok = value.starts_with(prefix)
        && !value.starts_with("//")
        && value.len() <= 200
        && value.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'<' && b != b'>');
    if !ok {
        problems.push((field, format!("must be a path on this shop starting with {prefix}")));
    }
}

impl HeroContent {
    fn check(&self, prefix: &str, problems: &mut Vec<(String, String)>) {
        check_text(problems, format!("{prefix}headline"), &self.headline, 120, true);
        check_text(problems, format!("{prefix}subcopy"), &self.subcopy, 300, false);
        check_text(problems, format!("{prefix}cta_label"), &self.cta_label, 40, true);
        check_local_path(problems, format!("{prefix}cta_href"), &self.cta_href, "/");
        check_local_path(problems, format!("{prefix}image"), &self.image, "/img/");
    }
}

impl BannerContent {
    /// Every problem with the banner text, as (field, message).
    pub fn validate(&self) -> Result<(), Vec<(String, String)>> {
        let mut problems = Vec::new();
        check_text(&mut problems, "headline".into(), &self.headline, 120, true);
        check_text(&mut problems, "body".into(), &self.body, 300, false);
        check_text(&mut problems, "cta_label".into(), &self.cta_label, 40, true);
        check_local_path(&mut problems, "cta_href".into(), &self.cta_href, "/");
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// Validation problems as one sentence for a form or a problem+json `detail`.
pub fn describe_problems(problems: &[(String, String)]) -> String {
    problems.iter().map(|(field, message)| format!("{field} {message}")).collect::<Vec<_>>().join("; ")
}

/// Variants an experiment may have.
pub const MAX_VARIANTS: usize = 6;

impl Experiment {
    /// Every problem with the experiment, as (field, message); variant fields are prefixed
    /// with `variants[i].`.
    pub fn validate(&self) -> Result<(), Vec<(String, String)>> {
        let mut problems = Vec::new();
        if !is_key(&self.key) {
            problems.push(("key".into(), "must be 1–64 of a-z, 0-9, _ and -".into()));
        }
        check_text(&mut problems, "name".into(), &self.name, 80, true);
        if !(0..=10_000).contains(&self.coverage_bp) {
            problems.push(("coverage".into(), "must be between 0% and 100%".into()));
        }
        if !(2..=MAX_VARIANTS).contains(&self.variants.len()) {
            problems.push(("variants".into(), format!("an experiment needs 2 to {MAX_VARIANTS} variants")));
        }
        let mut keys = std::collections::BTreeSet::new();
        for (i, variant) in self.variants.iter().enumerate() {
            let prefix = format!("variants[{i}].");
            if !is_key(&variant.key) {
                problems.push((format!("{prefix}key"), "must be 1–64 of a-z, 0-9, _ and -".into()));
            } else if !keys.insert(variant.key.as_str()) {
                problems.push((format!("{prefix}key"), "is used twice".into()));
            }
            if !(0..=10_000).contains(&variant.weight_bp) {
                problems.push((format!("{prefix}weight"), "must be between 0% and 100%".into()));
            }
            variant.content.check(&prefix, &mut problems);
        }
        // Clamped: a weight out of range is reported above, and must not overflow the sum.
        if self.variants.iter().map(|v| v.weight_bp.clamp(0, 10_000)).sum::<i64>() <= 0 {
            problems.push(("variants".into(), "at least one variant needs a weight above 0%".into()));
        }
        if let Some(winner) = &self.winner {
            if !self.has_variant(winner) {
                problems.push(("winner".into(), "must be one of the variants".into()));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// A visitor's assignments, `{ "<experiment>": "<variant>" }` (cookie and localStorage).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Assignments(pub BTreeMap<String, String>);

/// Longest assignments cookie accepted; anything longer is ignored, not trusted.
const MAX_ASSIGNMENTS_LEN: usize = 1024;

impl Assignments {
    /// Reads the cookie or localStorage value: the JSON object, raw or percent-encoded.
    /// Anything malformed yields no assignments (the server then assigns afresh).
    pub fn parse(raw: &str) -> Assignments {
        if raw.len() > MAX_ASSIGNMENTS_LEN {
            return Assignments::default();
        }
        let decoded = if raw.starts_with('%') { percent_decode(raw) } else { Some(raw.to_string()) };
        let Some(decoded) = decoded else {
            return Assignments::default();
        };
        let map: BTreeMap<String, String> = serde_json::from_str(&decoded).unwrap_or_default();
        Assignments(map.into_iter().filter(|(key, variant)| is_key(key) && is_key(variant)).collect())
    }

    pub fn get(&self, experiment: &str) -> Option<&str> {
        self.0.get(experiment).map(String::as_str)
    }

    pub fn set(&mut self, experiment: &str, variant: &str) {
        self.0.insert(experiment.to_string(), variant.to_string());
    }

    /// The JSON object, as stored in the cookie and in localStorage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }
}

/// Experiment and variant keys: 1–64 of `[a-z0-9_-]`.
pub fn is_key(raw: &str) -> bool {
    (1..=64).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The hero as the home page renders it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hero {
    pub experiment: String,
    pub variant: String,
    pub content: HeroContent,
}

/// Banner text per segment, edited by the shop owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BannerContent {
    pub headline: String,
    pub body: String,
    pub cta_label: String,
    pub cta_href: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Banner {
    pub segment: Segment,
    pub content: BannerContent,
}

/// The fallback hero when no experiment is configured.
pub fn default_hero() -> Hero {
    Hero {
        experiment: HERO.to_string(),
        variant: CONTROL.to_string(),
        content: HeroContent {
            headline: "Good coffee and tea, fairly priced".into(),
            subcopy: "Small-batch beans, loose-leaf teas and the gear to brew them, shipped from our shop.".into(),
            cta_label: "Shop coffee".into(),
            cta_href: "/category/coffee".into(),
            image: "/img/hero/control.svg".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// GrowthBook SDK specification, `cases.json` → `hash`: [seed, value, version, expected].
    #[test]
    fn hash_matches_growthbook_test_vectors() {
        let cases: &[(&str, &str, u8, Option<f64>)] = &[
            ("", "a", 1, Some(0.22)),
            ("", "b", 1, Some(0.077)),
            ("b", "a", 1, Some(0.946)),
            ("ef", "d", 1, Some(0.652)),
            ("asdf", "8952klfjas09ujk", 1, Some(0.549)),
            ("", "123", 1, Some(0.011)),
            ("", "___)((*\":&", 1, Some(0.563)),
            ("seed", "a", 2, Some(0.0505)),
            ("seed", "b", 2, Some(0.2696)),
            ("foo", "ab", 2, Some(0.2575)),
            ("foo", "def", 2, Some(0.2019)),
            ("89123klj", "8952klfjas09ujkasdf", 2, Some(0.124)),
            ("90850943850283058242805", "123", 2, Some(0.7516)),
            ("()**(%$##$%#$#", "___)((*\":&", 2, Some(0.0128)),
            ("abc", "def", 99, None),
        ];
        for &(seed, value, version, expected) in cases {
            let got = hash(seed, value, version);
            match (got, expected) {
                (Some(got), Some(expected)) => {
                    assert!(
                        (got - expected).abs() < 1e-9,
                        "hash({seed:?}, {value:?}, {version}) = {got}, not {expected}"
                    )
                }
                (None, None) => {}
                _ => panic!("hash({seed:?}, {value:?}, {version}) = {got:?}, not {expected:?}"),
            }
        }
    }

    /// GrowthBook SDK specification, `cases.json` → `getBucketRange`.
    #[test]
    fn bucket_ranges_match_growthbook_test_vectors() {
        type Case<'a> = (&'a str, usize, f64, Option<&'a [f64]>, &'a [(f64, f64)]);
        let cases: &[Case] = &[
            ("normal 50/50", 2, 1.0, None, &[(0.0, 0.5), (0.5, 1.0)]),
            ("reduced coverage", 2, 0.5, None, &[(0.0, 0.25), (0.5, 0.75)]),
            ("zero coverage", 2, 0.0, None, &[(0.0, 0.0), (0.5, 0.5)]),
            ("4 variations", 4, 1.0, None, &[(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)]),
            ("uneven weights", 2, 1.0, Some(&[0.4, 0.6]), &[(0.0, 0.4), (0.4, 1.0)]),
            ("uneven weights, 3", 3, 1.0, Some(&[0.2, 0.3, 0.5]), &[(0.0, 0.2), (0.2, 0.5), (0.5, 1.0)]),
            ("reduced coverage, 3", 3, 0.2, Some(&[0.2, 0.3, 0.5]), &[(0.0, 0.04), (0.2, 0.26), (0.5, 0.6)]),
            ("negative coverage", 2, -0.2, None, &[(0.0, 0.0), (0.5, 0.5)]),
            ("coverage above 1", 2, 1.5, None, &[(0.0, 0.5), (0.5, 1.0)]),
            ("weights sum below 1", 2, 1.0, Some(&[0.4, 0.1]), &[(0.0, 0.5), (0.5, 1.0)]),
            ("weights sum above 1", 2, 1.0, Some(&[0.7, 0.6]), &[(0.0, 0.5), (0.5, 1.0)]),
            (
                "weights.length not equal",
                4,
                1.0,
                Some(&[0.4, 0.4, 0.2]),
                &[(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)],
            ),
            ("weights sum almost 1", 2, 1.0, Some(&[0.4, 0.5999]), &[(0.0, 0.4), (0.4, 0.9999)]),
        ];
        for (name, n, coverage, weights, expected) in cases {
            let got = bucket_ranges(*n, *coverage, *weights);
            assert_eq!(got.len(), expected.len(), "{name}");
            for ((start, end), (want_start, want_end)) in got.iter().zip(expected.iter()) {
                assert!((start - want_start).abs() < 1e-9 && (end - want_end).abs() < 1e-9, "{name}: {got:?}");
            }
        }
    }

    /// GrowthBook SDK specification, `cases.json` → `chooseVariation` (a representative set).
    #[test]
    fn choose_variation_matches_growthbook() {
        let even = [(0.0, 0.5), (0.5, 1.0)];
        let reduced = [(0.0, 0.25), (0.5, 0.75)];
        let zero = [(0.0, 0.0), (0.5, 0.5)];
        assert_eq!(choose_variation(0.2, &even), Some(0));
        assert_eq!(choose_variation(0.6, &even), Some(1));
        assert_eq!(choose_variation(0.5, &even), Some(1));
        assert_eq!(choose_variation(0.2, &reduced), Some(0));
        assert_eq!(choose_variation(0.6, &reduced), Some(1));
        assert_eq!(choose_variation(0.4, &reduced), None);
        assert_eq!(choose_variation(0.8, &reduced), None);
        assert_eq!(choose_variation(0.5, &zero), None);
    }

    fn hero(status: Status) -> Experiment {
        let variant = |key: &str| Variant { key: key.into(), weight_bp: 3333, content: HeroContent::default() };
        Experiment {
            key: HERO.into(),
            name: "Hero".into(),
            status,
            coverage_bp: 10_000,
            target_segments: Vec::new(),
            winner: None,
            variants: vec![variant("control"), variant("variant_a"), variant("variant_b")],
        }
    }

    #[test]
    fn equal_weights_split_synthetic_visitors_evenly() {
        let experiment = hero(Status::Running);
        let mut counts = [0usize; 3];
        for i in 0..30_000 {
            let visitor = format!("{:032x}", (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
            counts[experiment.bucket(&visitor).expect("full coverage")] += 1;
        }
        for count in counts {
            // 3 sigma of a binomial(30000, 1/3) is about 245.
            assert!((9_750..=10_250).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn a_running_experiment_uses_the_sticky_variant_over_the_hash() {
        let experiment = hero(Status::Running);
        let visitor = "0123456789abcdef0123456789abcdef";
        let hashed = experiment.decide(visitor, Segment::New, None);
        assert!(hashed.in_experiment);
        let other = if hashed.served == "variant_b" { "variant_a" } else { "variant_b" };
        let sticky = experiment.decide(visitor, Segment::New, Some(other));
        assert_eq!(sticky, Decision { served: other.into(), in_experiment: true });
        // A variant the experiment does not have is ignored.
        assert_eq!(experiment.decide(visitor, Segment::New, Some("nope")), hashed);
    }

    #[test]
    fn draft_and_stopped_experiments_serve_control_or_the_winner_to_everyone() {
        let visitor = "0123456789abcdef0123456789abcdef";
        let draft = hero(Status::Draft).decide(visitor, Segment::New, Some("variant_a"));
        assert_eq!(draft, Decision { served: "control".into(), in_experiment: false });
        let mut stopped = hero(Status::Stopped);
        assert_eq!(stopped.decide(visitor, Segment::New, Some("variant_a")).served, "control");
        stopped.winner = Some("variant_b".into());
        assert_eq!(
            stopped.decide(visitor, Segment::New, Some("variant_a")),
            Decision { served: "variant_b".into(), in_experiment: false }
        );
    }

    #[test]
    fn targeting_keeps_other_segments_out() {
        let mut experiment = hero(Status::Running);
        experiment.target_segments = vec![Segment::Returning];
        let visitor = "0123456789abcdef0123456789abcdef";
        assert!(!experiment.decide(visitor, Segment::New, None).in_experiment);
        assert!(experiment.decide(visitor, Segment::Returning, None).in_experiment);
    }

    #[test]
    fn zero_coverage_keeps_everyone_out() {
        let mut experiment = hero(Status::Running);
        experiment.coverage_bp = 0;
        assert!(!experiment.decide("0123456789abcdef", Segment::New, None).in_experiment);
    }

    #[test]
    fn validation_reports_every_problem_and_keeps_links_inside_the_shop() {
        let mut experiment = hero(Status::Running);
        for variant in &mut experiment.variants {
            variant.content = default_hero().content;
        }
        assert_eq!(experiment.validate(), Ok(()));
        experiment.variants[1].key = "control".into();
        experiment.variants[2].content.cta_href = "javascript:alert(1)".into();
        experiment.variants[0].content.image = "https://evil.example/x.svg".into();
        experiment.winner = Some("nope".into());
        let problems = experiment.validate().expect_err("invalid");
        let fields: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, ["variants[0].image", "variants[1].key", "variants[2].cta_href", "winner"]);
        let banner = BannerContent {
            headline: "".into(),
            body: "ok".into(),
            cta_label: "Go".into(),
            cta_href: "//evil.example".into(),
        };
        assert_eq!(banner.validate().expect_err("invalid").len(), 2);
    }

    #[test]
    fn segments_follow_orders_and_lifetime_spend() {
        assert_eq!(Segment::of(0, 0, 50_000), Segment::New);
        assert_eq!(Segment::of(1, 49_999, 50_000), Segment::Returning);
        assert_eq!(Segment::of(2, 50_000, 50_000), Segment::HighValue);
    }

    #[test]
    fn assignments_parse_raw_and_percent_encoded_json_and_ignore_junk() {
        let raw = r#"{"hero":"variant_a"}"#;
        assert_eq!(Assignments::parse(raw).get("hero"), Some("variant_a"));
        assert_eq!(Assignments::parse("%7B%22hero%22%3A%22variant_b%22%7D").get("hero"), Some("variant_b"));
        assert_eq!(Assignments::parse("not json"), Assignments::default());
        assert_eq!(Assignments::parse(r#"{"hero":"<script>"}"#), Assignments::default());
        assert_eq!(Assignments::parse(&"x".repeat(5000)), Assignments::default());
        let mut assignments = Assignments::default();
        assignments.set("hero", "control");
        assert_eq!(Assignments::parse(&assignments.to_json()), assignments);
    }

    #[test]
    fn huge_weights_are_refused_without_overflowing() {
        let mut experiment = hero(Status::Running);
        for variant in &mut experiment.variants {
            variant.weight_bp = i64::MAX;
        }
        let problems = experiment.validate().unwrap_err();
        assert!(problems.iter().any(|(field, _)| field == "variants[0].weight"), "{problems:?}");
        assert_eq!(experiment.weights().len(), experiment.variants.len());
    }

    proptest! {
        #[test]
        fn every_covered_visitor_lands_in_exactly_one_variant(visitor in "[0-9a-f]{32}", a in 1i64..10_000, b in 1i64..10_000, c in 1i64..10_000) {
            let mut experiment = hero(Status::Running);
            for (variant, weight) in experiment.variants.iter_mut().zip([a, b, c]) {
                variant.weight_bp = weight;
            }
            let index = experiment.bucket(&visitor);
            prop_assert!(index.is_some());
            // Deterministic: the same id always gets the same variant.
            prop_assert_eq!(index, experiment.bucket(&visitor));
        }

        #[test]
        fn shrinking_coverage_only_removes_visitors(visitor in "[0-9a-f]{32}", coverage in 0i64..=10_000) {
            let full = hero(Status::Running);
            let mut partial = hero(Status::Running);
            partial.coverage_bp = coverage;
            if let Some(index) = partial.bucket(&visitor) {
                prop_assert_eq!(Some(index), full.bucket(&visitor));
            }
        }
    }
}
