//! Recommendation rules, with no I/O: the kinds, the co-purchase pairs an order adds, the
//! lift score, and the upsell price band. Compiled for server and browser.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a recommendation is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Same category, dearer within the band, not owned: "Upgrade to".
    Upsell,
    /// Bought with this product more often than chance (lift), not owned.
    CrossSell,
    /// Most often in the same orders as this product.
    FrequentlyBoughtTogether,
    /// From the shopper's recent views, purchases and preferred categories.
    ForYou,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Upsell, Kind::CrossSell, Kind::FrequentlyBoughtTogether, Kind::ForYou];

    pub fn key(self) -> &'static str {
        match self {
            Kind::Upsell => "upsell",
            Kind::CrossSell => "cross_sell",
            Kind::FrequentlyBoughtTogether => "frequently_bought_together",
            Kind::ForYou => "for_you",
        }
    }

    pub fn parse(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.key() == key)
    }

    /// Whether products the shopper already bought are left out.
    pub fn excludes_purchased(self) -> bool {
        !matches!(self, Kind::FrequentlyBoughtTogether)
    }
}

/// Tunables (from the environment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecRules {
    /// An upsell costs more than the product and at most this percent of its price.
    pub upsell_band_pct: i64,
    /// Pairs seen in fewer orders than this are noise, not a recommendation.
    pub min_support: i64,
}

impl Default for RecRules {
    fn default() -> RecRules {
        RecRules { upsell_band_pct: 200, min_support: 2 }
    }
}

impl RecRules {
    /// The price range (exclusive low, inclusive high) of an upsell for a product at `price`.
    pub fn upsell_range(&self, price_cents: i64) -> (i64, i64) {
        (price_cents, price_cents.saturating_mul(self.upsell_band_pct) / 100)
    }
}

/// The ordered pairs (a, b), a ≠ b, that one order adds to the co-purchase counts: each
/// distinct product with each other, in both directions.
pub fn order_pairs(skus: &[String]) -> Vec<(String, String)> {
    let mut distinct: Vec<&String> = skus.iter().collect();
    distinct.sort();
    distinct.dedup();
    let mut pairs = Vec::with_capacity(distinct.len() * distinct.len().saturating_sub(1));
    for a in &distinct {
        for b in &distinct {
            if a != b {
                pairs.push(((*a).clone(), (*b).clone()));
            }
        }
    }
    pairs
}

/// Lift of "b given a" in thousandths: how much more often b is in a's orders than in orders
/// at large (1000 = chance). Integer arithmetic; 0 when a count is missing.
pub fn lift_milli(together: i64, orders_a: i64, orders_b: i64, orders_total: i64) -> i64 {
    if together <= 0 || orders_a <= 0 || orders_b <= 0 || orders_total <= 0 {
        return 0;
    }
    let numerator = i128::from(together).checked_mul(i128::from(orders_total)).and_then(|n| n.checked_mul(1000));
    match numerator {
        Some(numerator) => i64::try_from(numerator / (i128::from(orders_a) * i128::from(orders_b))).unwrap_or(i64::MAX),
        None => i64::MAX,
    }
}

/// Co-purchase counts in memory: what the `co_purchases` table holds, for tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoPurchases {
    pub pairs: BTreeMap<(String, String), i64>,
    pub orders: i64,
}

impl CoPurchases {
    /// Adds one order (what the outbox consumer does for each `order_placed`).
    pub fn add_order(&mut self, skus: &[String]) {
        for pair in order_pairs(skus) {
            *self.pairs.entry(pair).or_insert(0) += 1;
        }
        self.orders += 1;
    }

    /// Counts from scratch over all orders (what a full recomputation would give).
    pub fn recompute(orders: &[Vec<String>]) -> CoPurchases {
        let mut pairs: BTreeMap<(String, String), i64> = BTreeMap::new();
        for order in orders {
            for a in order {
                for b in order {
                    if a != b {
                        pairs.insert((a.clone(), b.clone()), 0);
                    }
                }
            }
        }
        for ((a, b), count) in pairs.iter_mut() {
            *count = orders.iter().filter(|order| order.contains(a) && order.contains(b)).count() as i64;
        }
        CoPurchases { pairs, orders: orders.len() as i64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn skus(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_order_pairs_each_distinct_product_with_each_other_both_ways() {
        let pairs = order_pairs(&skus(&["B", "A", "B", "C"]));
        assert_eq!(pairs.len(), 6);
        assert!(pairs.contains(&("A".into(), "B".into())) && pairs.contains(&("B".into(), "A".into())));
        assert!(pairs.iter().all(|(a, b)| a != b));
        assert!(order_pairs(&skus(&["A"])).is_empty());
        assert!(order_pairs(&[]).is_empty());
    }

    #[test]
    fn lift_is_one_thousand_at_chance_and_higher_when_bought_together() {
        // 100 orders, a in 20, b in 10: chance would put b in 2 of a's orders.
        assert_eq!(lift_milli(2, 20, 10, 100), 1000);
        assert_eq!(lift_milli(10, 20, 10, 100), 5000);
        assert_eq!(lift_milli(0, 20, 10, 100), 0);
        assert_eq!(lift_milli(5, 0, 10, 100), 0);
        assert_eq!(lift_milli(i64::MAX, 1, 1, i64::MAX), i64::MAX);
    }

    #[test]
    fn the_upsell_band_is_above_the_price_and_up_to_its_percent() {
        let rules = RecRules::default();
        assert_eq!(rules.upsell_range(1000), (1000, 2000));
        assert_eq!(RecRules { upsell_band_pct: 150, min_support: 1 }.upsell_range(999), (999, 1498));
    }

    #[test]
    fn kinds_round_trip_and_only_frequently_bought_together_keeps_owned_products() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.key()), Some(kind));
        }
        assert_eq!(Kind::parse("nope"), None);
        assert!(!Kind::FrequentlyBoughtTogether.excludes_purchased());
        assert!(Kind::Upsell.excludes_purchased() && Kind::CrossSell.excludes_purchased());
    }

    proptest! {
        #[test]
        fn incremental_counts_equal_a_full_recomputation(
            orders in proptest::collection::vec(proptest::collection::vec(0u8..12, 1..6), 0..60)
        ) {
            let orders: Vec<Vec<String>> =
                orders.into_iter().map(|o| o.into_iter().map(|n| format!("SKU-{n:03}")).collect()).collect();
            let mut incremental = CoPurchases::default();
            for order in &orders {
                incremental.add_order(order);
            }
            prop_assert_eq!(&incremental, &CoPurchases::recompute(&orders));
            for ((a, b), n) in &incremental.pairs {
                prop_assert_eq!(incremental.pairs.get(&(b.clone(), a.clone())), Some(n));
            }
        }
    }
}
