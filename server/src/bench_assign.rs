//! What assigning a visitor to the hero experiment costs, per call, for `./x bench`
//! (`mercato bench-assign [--n N]`, a hidden subcommand). Prints one JSON object on stdout:
//!
//! - `fresh_ns`: `Experiment::decide` with no remembered variant (the GrowthBook hash).
//! - `sticky_ns`: `Experiment::decide` with the variant from the cookie (no hash).
//! - `request_ns`: what the server does for a returning visitor on every request: parse the
//!   `mercato_ab` cookie, complete the assignments the way `ExperimentCatalog::assign` does,
//!   decide the hero the way `ExperimentCatalog::decide` does (read lock, lookup, clone), and
//!   serialise the assignments again (the page cache keys on that JSON).
//! - `distribution`: how the first 30,000 of the synthetic visitor ids split over the
//!   variants (`Experiment::bucket`), to compare with the weights.
//!
//! Each figure is nanoseconds per call over N distinct visitor ids, the median of 5 timed
//! runs (the three measures interleaved, so drift on a shared machine hits them alike). The
//! experiment is built in memory as migration 0003 seeds it: no database, no HTTP.

use app::experiments::domain::{Assignments, Decision, Experiment, HeroContent, Segment, Status, Variant, HERO};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// Timed runs per measure; the median is reported.
const RUNS: usize = 5;
/// Visitor ids whose split over the variants is reported.
const DISTRIBUTION_IDS: usize = 30_000;
/// Length of a visitor id: 16 random bytes, hex (what `new_visitor_id` mints).
const ID_LEN: usize = 32;

/// The hero experiment as `migrations/*/0003_experiments.sql` seeds it: running, full
/// coverage, no targeting, three variants weighted 3334 / 3333 / 3333 basis points.
pub fn seeded_hero() -> Experiment {
    let variant = |key: &str, weight_bp: i64, [headline, subcopy, cta_label, cta_href]: [&str; 4]| Variant {
        key: key.into(),
        weight_bp,
        content: HeroContent {
            headline: headline.into(),
            subcopy: subcopy.into(),
            cta_label: cta_label.into(),
            cta_href: cta_href.into(),
            image: format!("/img/hero/{key}.svg"),
        },
    };
    Experiment {
        key: HERO.into(),
        name: "Home hero".into(),
        status: Status::Running,
        coverage_bp: 10_000,
        target_segments: Vec::new(),
        winner: None,
        variants: vec![
            variant(
                "control",
                3334,
                [
                    "Good coffee and tea, fairly priced",
                    "Small-batch beans, loose-leaf teas and the gear to brew them, shipped from our shop.",
                    "Shop coffee",
                    "/category/coffee",
                ],
            ),
            variant(
                "variant_a",
                3333,
                [
                    "Roasted this week, at your door next",
                    "Every bag is roasted to order in small batches. Free shipping from 40.00.",
                    "Find your roast",
                    "/category/coffee",
                ],
            ),
            variant(
                "variant_b",
                3333,
                [
                    "Brew better at home",
                    "Grinders, kettles and pour-over gear picked by our baristas, with the beans to match.",
                    "Shop brewing gear",
                    "/category/brewing",
                ],
            ),
        ],
    }
}

/// SplitMix64: a bijection on u64, so distinct inputs give distinct ids.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// `n` distinct, deterministic 32-hex-digit visitor ids, back to back in one string (one
/// allocation, so the timed loops measure assignment, not allocator or pointer chasing).
/// Distinct because the first 16 digits are a bijection of the index.
fn visitor_ids(n: usize) -> String {
    let mut ids = String::with_capacity(n * ID_LEN);
    for i in 0..n as u64 {
        ids.push_str(&format!("{:016x}{:016x}", splitmix64(i), splitmix64(i ^ 0x5bd1_e995_5bd1_e995)));
    }
    ids
}

fn id(ids: &str, i: usize) -> &str {
    &ids[i * ID_LEN..(i + 1) * ID_LEN]
}

/// The part of `ExperimentCatalog` a request goes through. Its experiments are private and
/// only load from the database, so this mirrors `all`, `get`, `assign` (for experiments
/// without targeting, like the hero) and `decide` with experiments on.
struct Catalog {
    experiments: RwLock<Arc<Vec<Experiment>>>,
}

impl Catalog {
    fn all(&self) -> Arc<Vec<Experiment>> {
        self.experiments.read().map(|guard| guard.clone()).unwrap_or_default()
    }

    fn get(&self, key: &str) -> Option<Experiment> {
        self.all().iter().find(|e| e.key == key).cloned()
    }

    fn assign(&self, visitor_id: &str, assignments: &mut Assignments) -> bool {
        let mut changed = false;
        for experiment in self.all().iter().filter(|e| e.status == Status::Running) {
            if assignments.get(&experiment.key).is_some_and(|v| experiment.has_variant(v)) {
                continue;
            }
            let decision = experiment.decide(visitor_id, Segment::New, None);
            if decision.in_experiment {
                assignments.set(&experiment.key, &decision.served);
                changed = true;
            }
        }
        changed
    }

    fn decide(&self, key: &str, visitor_id: &str, assignments: &Assignments) -> Option<Decision> {
        let experiment = self.get(key)?;
        Some(experiment.decide(visitor_id, Segment::New, assignments.get(key)))
    }
}

/// One request of a returning visitor, as the middleware and the home page handle it.
fn request(catalog: &Catalog, cookie: &str, visitor_id: &str) -> (bool, Option<Decision>, String) {
    let mut assignments = Assignments::parse(cookie);
    let changed = catalog.assign(visitor_id, &mut assignments);
    let decision = catalog.decide(HERO, visitor_id, &assignments);
    (changed, decision, assignments.to_json())
}

/// Nanoseconds per call of `f` over every id.
fn time_per_call(n: usize, mut f: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub fn run(n: usize) -> anyhow::Result<()> {
    anyhow::ensure!(n >= DISTRIBUTION_IDS, "--n must be at least {DISTRIBUTION_IDS}");
    let experiment = seeded_hero();
    let keys: Vec<String> = experiment.variants.iter().map(|v| v.key.clone()).collect();
    // Returning visitors' cookies, one per variant, as the server writes them.
    let cookies: Vec<String> = keys
        .iter()
        .map(|key| {
            let mut assignments = Assignments::default();
            assignments.set(HERO, key);
            assignments.to_json()
        })
        .collect();
    let catalog = Catalog { experiments: RwLock::new(Arc::new(vec![experiment.clone()])) };
    let ids = visitor_ids(n);

    let fresh = |i: usize| {
        black_box(experiment.decide(black_box(id(&ids, i)), Segment::New, None));
    };
    let sticky = |i: usize| {
        black_box(experiment.decide(black_box(id(&ids, i)), Segment::New, Some(black_box(&keys[i % keys.len()]))));
    };
    let per_request = |i: usize| {
        black_box(request(&catalog, black_box(&cookies[i % cookies.len()]), black_box(id(&ids, i))));
    };

    // One untimed pass over a slice of the ids warms caches, branch predictors and the allocator.
    let warm = n.min(100_000);
    time_per_call(warm, fresh);
    time_per_call(warm, sticky);
    time_per_call(warm, per_request);
    let (mut fresh_ns, mut sticky_ns, mut request_ns) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        fresh_ns.push(time_per_call(n, fresh));
        sticky_ns.push(time_per_call(n, sticky));
        request_ns.push(time_per_call(n, per_request));
    }

    let mut distribution: BTreeMap<String, u64> = keys.iter().map(|key| (key.clone(), 0)).collect();
    let mut outside = 0u64;
    for i in 0..DISTRIBUTION_IDS {
        match experiment.bucket(id(&ids, i)) {
            Some(index) => *distribution.entry(keys[index].clone()).or_default() += 1,
            None => outside += 1,
        }
    }
    let weights: BTreeMap<&str, f64> = keys.iter().map(String::as_str).zip(experiment.weights()).collect();

    let round = |ns: f64| (ns * 10.0).round() / 10.0;
    let report = serde_json::json!({
        "n": n,
        "runs": RUNS,
        "fresh_ns": round(median(fresh_ns)),
        "sticky_ns": round(median(sticky_ns)),
        "request_ns": round(median(request_ns)),
        "distribution_ids": DISTRIBUTION_IDS,
        "distribution": distribution,
        "outside": outside,
        "weights": weights,
    });
    println!("{report}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_hero_is_valid_and_ids_are_distinct_hex() {
        assert_eq!(seeded_hero().validate(), Ok(()));
        let ids = visitor_ids(1000);
        let set: std::collections::HashSet<&str> = (0..1000).map(|i| id(&ids, i)).collect();
        assert_eq!(set.len(), 1000);
        assert!(ids.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    /// The in-memory hero must stay the one the migration seeds.
    #[test]
    fn seeded_hero_matches_the_migration() {
        let sql = include_str!("../../migrations/sqlite/0003_experiments.sql");
        assert!(sql.contains("VALUES ('hero', 'Home hero', 'running', 10000, ''"));
        for (position, variant) in seeded_hero().variants.iter().enumerate() {
            let row = format!(
                "('hero', '{}', {position}, {}, '{}',\n     '{}',\n     '{}', '{}', '{}')",
                variant.key,
                variant.weight_bp,
                variant.content.headline,
                variant.content.subcopy,
                variant.content.cta_label,
                variant.content.cta_href,
                variant.content.image
            );
            assert!(sql.contains(&row), "migration 0003 has no row {row}");
        }
    }

    #[test]
    fn request_keeps_a_returning_visitors_variant() {
        let catalog = Catalog { experiments: RwLock::new(Arc::new(vec![seeded_hero()])) };
        let (changed, decision, json) = request(&catalog, r#"{"hero":"variant_b"}"#, "0123456789abcdef");
        assert!(!changed);
        assert_eq!(decision.map(|d| d.served).as_deref(), Some("variant_b"));
        assert_eq!(json, r#"{"hero":"variant_b"}"#);
    }
}
