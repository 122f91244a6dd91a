//! Stock-driven dynamic pricing: the pure rules that turn (base price, unit cost, stock, rule
//! set) into the price to charge and the reason for it.
//!
//! Everything here is integer cents and basis points (1 bp = 0.01 %), computed with `i128`
//! intermediates, so it gives the same answer on the server and in the wasm preview and no
//! input, however hostile, can make it panic, overflow or return a negative price.

use serde::{Deserialize, Serialize};

/// How a computed price is rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Whole cents, as computed.
    Cents,
    /// Prices ending in .99 (`€16.99`) wherever the guardrails leave room for one.
    Charm99,
}

/// One rule set (global, per category, or per product).
///
/// Stored as JSON, so a row may predate `validate`. The engine therefore never trusts these
/// numbers: it forces each one into its validated range before use (see `Effective`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// Stock strictly below this gets the scarcity markup.
    pub low_stock_below: i64,
    /// Basis points added to the BASE price when stock is low.
    pub low_stock_markup_bp: i64,
    /// Stock strictly above this gets the overstock discount.
    pub high_stock_above: i64,
    /// Basis points taken off the BASE price when stock is high.
    pub high_stock_discount_bp: i64,
    /// The floor is `ceil(cost * (10000 + min_margin_bp) / 10000)`.
    pub min_margin_bp: i64,
    /// The ceiling is `floor(base * ceiling_bp / 10000)`.
    pub ceiling_bp: i64,
    /// The largest move per repricing, relative to the CURRENT price; 0 means unlimited.
    pub max_step_bp: i64,
    pub rounding: Rounding,
}

impl Default for RuleSet {
    /// The seed blog's thresholds: stock < 5 → +15 %, stock > 100 → -5 %, at least 10 %
    /// over cost, at most 130 % of base, and at most 20 % per move.
    fn default() -> Self {
        RuleSet {
            low_stock_below: 5,
            low_stock_markup_bp: 1500,
            high_stock_above: 100,
            high_stock_discount_bp: 500,
            min_margin_bp: 1000,
            ceiling_bp: 13_000,
            max_step_bp: 2000,
            rounding: Rounding::Cents,
        }
    }
}

// The validated ranges, shared by `validate` (which reports them) and `Effective` (which
// enforces them), so the two can never disagree.
const MARKUP_BP_RANGE: (i64, i64) = (0, 10_000);
const DISCOUNT_BP_RANGE: (i64, i64) = (0, 9_000);
const MIN_MARGIN_BP_RANGE: (i64, i64) = (0, 50_000);
const CEILING_BP_RANGE: (i64, i64) = (10_000, 100_000);
const MAX_STEP_BP_RANGE: (i64, i64) = (0, 10_000);

impl RuleSet {
    /// Checks the rule set is usable; returns a list of (field, message) problems for the admin form.
    ///
    /// **Rationale:** every problem is reported at once, not just the first, so the admin can
    /// fix the whole form in one round trip.
    pub fn validate(&self) -> Result<(), Vec<(&'static str, String)>> {
        let mut problems: Vec<(&'static str, String)> = Vec::new();
        for (field, value) in [("low_stock_below", self.low_stock_below), ("high_stock_above", self.high_stock_above)] {
            if value < 0 {
                problems.push((field, "must be zero or more units".to_string()));
            }
        }
        // Only compare the thresholds once both are sane, so one typo gives one message.
        if self.low_stock_below >= 0 && self.high_stock_above >= 0 && self.low_stock_below > self.high_stock_above {
            problems.push(("high_stock_above", "must not be below the low-stock threshold".to_string()));
        }
        let bp_fields = [
            ("low_stock_markup_bp", self.low_stock_markup_bp, MARKUP_BP_RANGE),
            ("high_stock_discount_bp", self.high_stock_discount_bp, DISCOUNT_BP_RANGE),
            ("min_margin_bp", self.min_margin_bp, MIN_MARGIN_BP_RANGE),
            ("ceiling_bp", self.ceiling_bp, CEILING_BP_RANGE),
            ("max_step_bp", self.max_step_bp, MAX_STEP_BP_RANGE),
        ];
        for (field, value, (min, max)) in bp_fields {
            if !(min..=max).contains(&value) {
                let message =
                    format!("must be between {min} and {max} basis points ({}% to {}%)", min / 100, max / 100);
                problems.push((field, message));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// What the pricing engine knows about one product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceInputs {
    pub base_cents: i64,
    pub cost_cents: i64,
    pub stock: i64,
    /// The price currently charged (None = no price yet, e.g. a new product: then no step limit).
    pub current_cents: Option<i64>,
}

/// Why the price is what it is (stored as text and shown in admin / API `reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceReason {
    /// Normal stock: the base price.
    Base,
    /// The scarcity markup applied.
    LowStock,
    /// The overstock discount applied.
    Overstock,
    /// Raised (or held) at cost plus minimum margin.
    Floor,
    /// Capped at the ceiling.
    Ceiling,
    /// On its way to the target, slowed by the per-step limit.
    StepLimited,
}

impl PriceReason {
    const ALL: [PriceReason; 6] = [
        PriceReason::Base,
        PriceReason::LowStock,
        PriceReason::Overstock,
        PriceReason::Floor,
        PriceReason::Ceiling,
        PriceReason::StepLimited,
    ];

    /// The stored and API spelling; the same as the serde spelling, so a reason reads the
    /// same in the `price_reason` column, in `price_history` and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceReason::Base => "base",
            PriceReason::LowStock => "low_stock",
            PriceReason::Overstock => "overstock",
            PriceReason::Floor => "floor",
            PriceReason::Ceiling => "ceiling",
            PriceReason::StepLimited => "step_limited",
        }
    }

    pub fn parse(s: &str) -> Option<PriceReason> {
        PriceReason::ALL.into_iter().find(|reason| reason.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub amount_cents: i64,
    pub reason: PriceReason,
}

/// The target price from base + stock + rules, BEFORE the step limit: a pure function of
/// (base, cost, stock, rules) — never of the current price — so recomputing never compounds.
///
/// **Rationale:** if the markup were applied to the current price, every repricing while
/// stock stays low would add another 15 % on top of the last one. Working from the base
/// price means the consumer can reprice as often as events arrive and always land on the
/// same number.
pub fn target_price(inputs: &PriceInputs, rules: &RuleSet) -> Quote {
    let rules = Effective::from_rules(rules);
    let product = Product::from_inputs(inputs);
    let guardrails = Guardrails::new(&product, &rules);

    // Low stock is checked first so that, even for a rule set whose thresholds overlap, the
    // price never rises as stock rises.
    let (factor_bp, rule_reason) = if product.stock < rules.low_stock_below {
        (BP_PER_WHOLE + rules.low_stock_markup_bp, PriceReason::LowStock)
    } else if product.stock > rules.high_stock_above {
        (BP_PER_WHOLE - rules.high_stock_discount_bp, PriceReason::Overstock)
    } else {
        (BP_PER_WHOLE, PriceReason::Base)
    };
    let adjusted = div_round_half_away(product.base * factor_bp, BP_PER_WHOLE);

    // The reason is decided on the unrounded price: charm rounding is cosmetic, and a .99
    // that had to be nudged to stay inside the band was not "clamped" by a guardrail.
    let (clamped, reason) = guardrails.clamp(adjusted, rule_reason);
    let amount = match rules.rounding {
        Rounding::Cents => clamped,
        Rounding::Charm99 => charm99(adjusted, &guardrails).unwrap_or(clamped),
    };
    Quote { amount_cents: to_cents(amount), reason }
}

/// The price to charge now: the target, moved from `current_cents` by at most max_step_bp of
/// the current price (reason StepLimited when the limit bit), then clamped to the guardrails again.
///
/// **Rationale:** the step limit exists so shoppers do not see a price jump 50 % between two
/// page loads; it only slows the walk towards the target, which does not depend on the
/// current price, so repeated calls converge instead of drifting. The guardrails beat the
/// step limit: never selling below cost plus margin is a business rule, smoothness is not.
pub fn quote(inputs: &PriceInputs, rules: &RuleSet) -> Quote {
    let target = target_price(inputs, rules);
    let effective = Effective::from_rules(rules);
    let Some(current) = inputs.current_cents else {
        return target;
    };
    if effective.max_step_bp == 0 {
        return target;
    }
    let current = i128::from(current.max(0));
    // Rounded towards the current price so the limit is never exceeded, but at least one
    // cent: otherwise a price under 1 / max_step (e.g. 4 cents at 20 %) could never move.
    let max_move = (current * effective.max_step_bp / BP_PER_WHOLE).max(1);
    let target_cents = i128::from(target.amount_cents);
    let limited = target_cents.clamp(current - max_move, current + max_move);
    if limited == target_cents {
        return target;
    }
    let guardrails = Guardrails::new(&Product::from_inputs(inputs), &effective);
    let (amount, reason) = guardrails.clamp(limited, PriceReason::StepLimited);
    Quote { amount_cents: to_cents(amount), reason }
}

/// Preview for the admin: price at each stock level in `stocks` with current = None.
///
/// Each row carries the stock as given (even if negative) so the table lines up with what
/// the admin typed.
pub fn preview(base_cents: i64, cost_cents: i64, stocks: &[i64], rules: &RuleSet) -> Vec<(i64, Quote)> {
    stocks
        .iter()
        .map(|&stock| {
            let inputs = PriceInputs { base_cents, cost_cents, stock, current_cents: None };
            (stock, quote(&inputs, rules))
        })
        .collect()
}

const BP_PER_WHOLE: i128 = 10_000;
const CENTS_PER_EURO: i128 = 100;
/// The largest price we can report; every intermediate is saturated to it rather than wrapped.
const MAX_CENTS: i128 = i64::MAX as i128;

/// A rule set with every field forced into its validated range.
///
/// **Rationale:** clamping here (rather than erroring) means a bad row can never stop the
/// repricing consumer, and every guarantee the tests check (monotone in stock, within
/// guardrails, convergent) holds for any `RuleSet`, not only validated ones.
struct Effective {
    low_stock_below: i128,
    low_stock_markup_bp: i128,
    high_stock_above: i128,
    high_stock_discount_bp: i128,
    min_margin_bp: i128,
    ceiling_bp: i128,
    max_step_bp: i128,
    rounding: Rounding,
}

impl Effective {
    fn from_rules(rules: &RuleSet) -> Effective {
        let within = |value: i64, (min, max): (i64, i64)| i128::from(value.clamp(min, max));
        Effective {
            low_stock_below: i128::from(rules.low_stock_below.max(0)),
            low_stock_markup_bp: within(rules.low_stock_markup_bp, MARKUP_BP_RANGE),
            high_stock_above: i128::from(rules.high_stock_above.max(0)),
            high_stock_discount_bp: within(rules.high_stock_discount_bp, DISCOUNT_BP_RANGE),
            min_margin_bp: within(rules.min_margin_bp, MIN_MARGIN_BP_RANGE),
            ceiling_bp: within(rules.ceiling_bp, CEILING_BP_RANGE),
            max_step_bp: within(rules.max_step_bp, MAX_STEP_BP_RANGE),
            rounding: rules.rounding,
        }
    }
}

/// The product's numbers with hostile values neutralised: a negative stock is a data error
/// (oversold) and means "none left"; a negative base or cost means "nothing" rather than a
/// negative price.
struct Product {
    base: i128,
    cost: i128,
    stock: i128,
}

impl Product {
    fn from_inputs(inputs: &PriceInputs) -> Product {
        Product {
            base: i128::from(inputs.base_cents.max(0)),
            cost: i128::from(inputs.cost_cents.max(0)),
            stock: i128::from(inputs.stock.max(0)),
        }
    }
}

/// The band a price must stay in. Holds `0 <= floor <= ceiling <= i64::MAX`.
struct Guardrails {
    floor: i128,
    ceiling: i128,
    /// Cost plus margin was above the configured ceiling, so the ceiling was raised to the
    /// floor: selling at a loss is worse than selling above the usual cap.
    floor_wins: bool,
}

impl Guardrails {
    fn new(product: &Product, rules: &Effective) -> Guardrails {
        // The floor rounds up and the ceiling down, so both promises hold to the cent.
        let floor = ceil_div(product.cost * (BP_PER_WHOLE + rules.min_margin_bp), BP_PER_WHOLE).min(MAX_CENTS);
        let ceiling = (product.base * rules.ceiling_bp / BP_PER_WHOLE).min(MAX_CENTS);
        Guardrails { floor, ceiling: ceiling.max(floor), floor_wins: floor > ceiling }
    }

    fn contains(&self, cents: i128) -> bool {
        (self.floor..=self.ceiling).contains(&cents)
    }

    /// Pulls `cents` into the band; the reason stays `unclamped_reason` unless it had to move.
    fn clamp(&self, cents: i128, unclamped_reason: PriceReason) -> (i128, PriceReason) {
        if cents < self.floor {
            (self.floor, PriceReason::Floor)
        } else if cents > self.ceiling {
            let reason = if self.floor_wins { PriceReason::Floor } else { PriceReason::Ceiling };
            (self.ceiling, reason)
        } else {
            (cents, unclamped_reason)
        }
    }
}

/// The .99 price nearest `cents` inside the guardrails, or `None` if the band holds no .99
/// price (then the caller falls back to whole cents rather than break a guardrail).
fn charm99(cents: i128, guardrails: &Guardrails) -> Option<i128> {
    let charm = div_round_half_away(cents, CENTS_PER_EURO) * CENTS_PER_EURO - 1;
    let candidate = if charm < guardrails.floor {
        // The smallest x ≡ 99 (mod 100) with x >= floor.
        ceil_div(guardrails.floor + 1, CENTS_PER_EURO) * CENTS_PER_EURO - 1
    } else if charm > guardrails.ceiling {
        // The largest x ≡ 99 (mod 100) with x <= ceiling.
        (guardrails.ceiling + 1).div_euclid(CENTS_PER_EURO) * CENTS_PER_EURO - 1
    } else {
        charm
    };
    guardrails.contains(candidate).then_some(candidate)
}

/// `numerator / denominator` rounded half away from zero; `denominator` must be positive.
fn div_round_half_away(numerator: i128, denominator: i128) -> i128 {
    let half = denominator / 2;
    if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        -((-numerator + half) / denominator)
    }
}

/// `numerator / denominator` rounded up; `denominator` must be positive.
fn ceil_div(numerator: i128, denominator: i128) -> i128 {
    -((-numerator).div_euclid(denominator))
}

/// Back to `i64`. Callers only pass values already inside the guardrails, so the clamp is a
/// last line of defence, not a rule.
fn to_cents(cents: i128) -> i64 {
    i64::try_from(cents.clamp(0, MAX_CENTS)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use PriceReason::*;

    fn item(base_cents: i64, cost_cents: i64, stock: i64) -> PriceInputs {
        PriceInputs { base_cents, cost_cents, stock, current_cents: None }
    }

    fn charging(current_cents: i64, inputs: PriceInputs) -> PriceInputs {
        PriceInputs { current_cents: Some(current_cents), ..inputs }
    }

    fn charm() -> RuleSet {
        RuleSet { rounding: Rounding::Charm99, ..RuleSet::default() }
    }

    fn check(inputs: PriceInputs, rules: RuleSet, expected_cents: i64, expected_reason: PriceReason) {
        let actual = quote(&inputs, &rules);
        let expected = Quote { amount_cents: expected_cents, reason: expected_reason };
        assert_eq!(actual, expected, "inputs: {inputs:?}\nrules: {rules:?}");
    }

    fn check_rejected(rules: RuleSet, expected_fields: &[&str]) {
        let problems = rules.validate().expect_err("rule set should be rejected");
        let fields: Vec<&str> = problems.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, expected_fields, "problems: {problems:?}");
    }

    // The seed's defaults.

    #[test]
    fn three_left_of_a_ten_euro_item_costs_eleven_fifty() {
        check(item(1000, 0, 3), RuleSet::default(), 1150, LowStock);
    }

    #[test]
    fn a_hundred_and_fifty_in_stock_takes_five_percent_off() {
        check(item(1000, 0, 150), RuleSet::default(), 950, Overstock);
    }

    #[test]
    fn normal_stock_charges_the_base_price() {
        check(item(1000, 0, 50), RuleSet::default(), 1000, Base);
    }

    #[test]
    fn the_thresholds_are_strict() {
        check(item(1000, 0, 5), RuleSet::default(), 1000, Base);
        check(item(1000, 0, 100), RuleSet::default(), 1000, Base);
    }

    #[test]
    fn the_markup_rounds_half_cents_away_from_zero() {
        // 1003 * 1.15 = 1153.45 and 1010 * 0.95 = 959.5.
        check(item(1003, 0, 3), RuleSet::default(), 1153, LowStock);
        check(item(1010, 0, 150), RuleSet::default(), 960, Overstock);
    }

    // Guardrails.

    #[test]
    fn the_floor_beats_the_overstock_discount() {
        // Floor = ceil(900 * 1.1) = 990 > 950.
        check(item(1000, 900, 150), RuleSet::default(), 990, Floor);
    }

    #[test]
    fn the_floor_rounds_up_to_the_cent() {
        // 905 * 1.1 = 995.5.
        check(item(1000, 905, 150), RuleSet::default(), 996, Floor);
    }

    #[test]
    fn the_ceiling_beats_the_scarcity_markup() {
        let rules = RuleSet { low_stock_markup_bp: 5000, ..RuleSet::default() };
        check(item(1000, 0, 3), rules, 1300, Ceiling);
    }

    #[test]
    fn the_floor_beats_the_ceiling_when_they_conflict() {
        // Floor = ceil(1500 * 1.1) = 1650 > ceiling 1300: never sell below cost plus margin.
        check(item(1000, 1500, 50), RuleSet::default(), 1650, Floor);
        check(item(1000, 1500, 3), RuleSet::default(), 1650, Floor);
    }

    #[test]
    fn a_non_positive_base_price_charges_the_floor() {
        check(item(-500, 100, 50), RuleSet::default(), 110, Floor);
        check(item(0, 0, 50), RuleSet::default(), 0, Base);
    }

    #[test]
    fn negative_stock_counts_as_none_left() {
        check(item(1000, 0, -7), RuleSet::default(), 1150, LowStock);
    }

    #[test]
    fn a_negative_cost_counts_as_free() {
        check(item(1000, -10_000, 150), RuleSet::default(), 950, Overstock);
    }

    #[test]
    fn out_of_range_rules_are_pulled_into_range_not_trusted() {
        // A markup of 1000 % is treated as the maximum 100 %, then capped by the ceiling.
        let rules = RuleSet { low_stock_markup_bp: 100_000, ceiling_bp: 1_000_000, ..RuleSet::default() };
        check(item(1000, 0, 3), rules, 2000, LowStock);
        let rules = RuleSet { high_stock_discount_bp: i64::MAX, min_margin_bp: -1, ..RuleSet::default() };
        check(item(1000, 0, 150), rules, 100, Overstock);
    }

    #[test]
    fn huge_prices_saturate_instead_of_overflowing() {
        check(item(i64::MAX, 0, 3), RuleSet::default(), i64::MAX, Ceiling);
        check(item(0, i64::MAX, 3), RuleSet::default(), i64::MAX, Floor);
        check(charging(i64::MIN, item(i64::MAX, i64::MAX, i64::MIN)), RuleSet::default(), i64::MAX, Floor);
    }

    // Charm rounding.

    #[test]
    fn charm_rounding_goes_to_the_nearest_euro_minus_a_cent() {
        check(item(1725, 0, 50), charm(), 1699, Base);
        check(item(1760, 0, 50), charm(), 1799, Base);
        check(item(1750, 0, 50), charm(), 1799, Base);
        check(item(1000, 0, 3), charm(), 1199, LowStock);
    }

    #[test]
    fn charm_rounding_steps_up_to_the_next_99_above_the_floor() {
        // Floor = ceil(910 * 1.1) = 1001, so 9.99 is too cheap.
        check(item(1000, 910, 50), charm(), 1099, Floor);
    }

    #[test]
    fn charm_rounding_steps_down_to_the_last_99_below_the_ceiling() {
        let rules = RuleSet { low_stock_markup_bp: 10_000, ..charm() };
        check(item(1000, 0, 3), rules, 1299, Ceiling);
    }

    #[test]
    fn charm_rounding_stays_inside_the_band_without_a_guardrail_reason() {
        // 13.65 rounds to 13.99, above the ceiling of 13.65, so 12.99; still a base price.
        let rules = RuleSet { ceiling_bp: 10_000, ..charm() };
        check(item(1365, 0, 50), rules, 1299, Base);
    }

    #[test]
    fn charm_rounding_falls_back_to_cents_when_no_99_fits() {
        // The band is [1001, 1050]: neither 9.99 nor 10.99 fits.
        let rules = RuleSet { ceiling_bp: 10_000, ..charm() };
        check(item(1050, 910, 50), rules.clone(), 1050, Base);
        check(item(0, 0, 50), rules, 0, Base);
    }

    // The step limit.

    #[test]
    fn a_rise_is_limited_to_twenty_percent_of_the_current_price() {
        check(charging(1000, item(1500, 0, 50)), RuleSet::default(), 1200, StepLimited);
    }

    #[test]
    fn a_fall_is_limited_to_twenty_percent_of_the_current_price() {
        // A half-price overstock sale targets 500; the first move stops at 800.
        let rules = RuleSet { high_stock_discount_bp: 5000, ..RuleSet::default() };
        check(charging(1000, item(1000, 0, 150)), rules, 800, StepLimited);
    }

    #[test]
    fn a_move_within_the_limit_lands_on_the_target_with_its_reason() {
        check(charging(1100, item(1000, 0, 3)), RuleSet::default(), 1150, LowStock);
    }

    #[test]
    fn a_tiny_price_still_moves_at_least_one_cent() {
        check(charging(3, item(100, 0, 50)), RuleSet::default(), 4, StepLimited);
    }

    #[test]
    fn a_step_limit_of_zero_means_unlimited() {
        let rules = RuleSet { max_step_bp: 0, ..RuleSet::default() };
        check(charging(100, item(1000, 0, 50)), rules, 1000, Base);
    }

    #[test]
    fn a_new_product_has_no_step_limit() {
        check(item(1000, 0, 3), RuleSet::default(), 1150, LowStock);
    }

    #[test]
    fn the_floor_beats_the_step_limit() {
        // The step would stop at 600, but the floor is ceil(900 * 1.1) = 990.
        check(charging(500, item(1000, 900, 50)), RuleSet::default(), 990, Floor);
    }

    #[test]
    fn the_ceiling_beats_the_step_limit() {
        // The base was cut from 5000 to 1000: the step would stop at 4000, the ceiling is 1300.
        check(charging(5000, item(1000, 0, 50)), RuleSet::default(), 1300, Ceiling);
    }

    // Preview, reasons and validation.

    #[test]
    fn the_preview_prices_each_stock_level_from_scratch() {
        let rows = preview(1000, 0, &[0, 50, 150], &RuleSet::default());
        let amounts: Vec<(i64, i64)> = rows.iter().map(|(stock, quote)| (*stock, quote.amount_cents)).collect();
        assert_eq!(amounts, [(0, 1150), (50, 1000), (150, 950)]);
    }

    #[test]
    fn every_reason_round_trips_through_its_text_and_json() {
        for reason in PriceReason::ALL {
            assert_eq!(PriceReason::parse(reason.as_str()), Some(reason));
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
        }
        assert_eq!(PriceReason::parse("Base"), None);
    }

    #[test]
    fn the_default_rule_set_is_valid() {
        assert_eq!(RuleSet::default().validate(), Ok(()));
    }

    #[test]
    fn the_extremes_of_every_range_are_valid() {
        let widest = RuleSet {
            low_stock_below: 0,
            low_stock_markup_bp: 10_000,
            high_stock_above: 0,
            high_stock_discount_bp: 9_000,
            min_margin_bp: 50_000,
            ceiling_bp: 100_000,
            max_step_bp: 10_000,
            rounding: Rounding::Charm99,
        };
        assert_eq!(widest.validate(), Ok(()));
        let narrowest = RuleSet { ceiling_bp: 10_000, ..RuleSet::default() };
        assert_eq!(narrowest.validate(), Ok(()));
    }

    #[test]
    fn negative_thresholds_are_rejected() {
        check_rejected(RuleSet { low_stock_below: -1, ..RuleSet::default() }, &["low_stock_below"]);
        check_rejected(RuleSet { high_stock_above: -1, ..RuleSet::default() }, &["high_stock_above"]);
    }

    #[test]
    fn a_low_stock_threshold_above_the_high_one_is_rejected() {
        check_rejected(RuleSet { low_stock_below: 101, ..RuleSet::default() }, &["high_stock_above"]);
    }

    #[test]
    fn out_of_range_basis_points_are_rejected() {
        let d = RuleSet::default;
        check_rejected(RuleSet { low_stock_markup_bp: 10_001, ..d() }, &["low_stock_markup_bp"]);
        check_rejected(RuleSet { low_stock_markup_bp: -1, ..d() }, &["low_stock_markup_bp"]);
        check_rejected(RuleSet { high_stock_discount_bp: 9_001, ..d() }, &["high_stock_discount_bp"]);
        check_rejected(RuleSet { min_margin_bp: 50_001, ..d() }, &["min_margin_bp"]);
        check_rejected(RuleSet { ceiling_bp: 9_999, ..d() }, &["ceiling_bp"]);
        check_rejected(RuleSet { ceiling_bp: 100_001, ..d() }, &["ceiling_bp"]);
        check_rejected(RuleSet { max_step_bp: 10_001, ..d() }, &["max_step_bp"]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let rules = RuleSet { low_stock_below: -1, ceiling_bp: 0, max_step_bp: -5, ..RuleSet::default() };
        check_rejected(rules, &["low_stock_below", "ceiling_bp", "max_step_bp"]);
    }

    // Properties.

    fn rounding() -> impl Strategy<Value = Rounding> {
        prop_oneof![Just(Rounding::Cents), Just(Rounding::Charm99)]
    }

    /// Rule sets that pass `validate`.
    fn valid_rules() -> impl Strategy<Value = RuleSet> {
        let fields =
            (0..=200i64, 0..=500i64, 0..=10_000i64, 0..=9_000i64, 0..=50_000i64, 10_000..=100_000i64, 0..=10_000i64);
        (fields, rounding()).prop_map(|((low, gap, markup, discount, margin, ceiling, step), rounding)| RuleSet {
            low_stock_below: low,
            low_stock_markup_bp: markup,
            high_stock_above: low + gap,
            high_stock_discount_bp: discount,
            min_margin_bp: margin,
            ceiling_bp: ceiling,
            max_step_bp: step,
            rounding,
        })
    }

    /// Any i64, biased towards the small and the extreme values where bugs live.
    fn hostile() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            -1_000..=1_000i64,
            Just(i64::MIN),
            Just(i64::MAX),
            Just(i64::MAX / 10_000),
            Just(i64::MIN + 1),
        ]
    }

    fn hostile_rules() -> impl Strategy<Value = RuleSet> {
        (hostile(), hostile(), hostile(), hostile(), hostile(), hostile(), hostile(), rounding()).prop_map(
            |(low, markup, high, discount, margin, ceiling, step, rounding)| RuleSet {
                low_stock_below: low,
                low_stock_markup_bp: markup,
                high_stock_above: high,
                high_stock_discount_bp: discount,
                min_margin_bp: margin,
                ceiling_bp: ceiling,
                max_step_bp: step,
                rounding,
            },
        )
    }

    /// The guardrails as the spec states them, computed independently of the engine.
    fn reference_band(base_cents: i64, cost_cents: i64, rules: &RuleSet) -> (i64, i64) {
        let cost = i128::from(cost_cents.max(0));
        let base = i128::from(base_cents.max(0));
        let floor_numerator = cost * i128::from(10_000 + rules.min_margin_bp);
        let floor = (floor_numerator + 9_999) / 10_000;
        let ceiling = base * i128::from(rules.ceiling_bp) / 10_000;
        let floor = i64::try_from(floor).unwrap_or(i64::MAX);
        let ceiling = i64::try_from(ceiling).unwrap_or(i64::MAX);
        (floor, ceiling.max(floor))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn the_target_never_depends_on_the_current_price(
            base in 0..=10_000_000i64,
            cost in 0..=10_000_000i64,
            stock in -10..=1_000i64,
            current_a in hostile(),
            current_b in hostile(),
            rules in valid_rules(),
        ) {
            let inputs = item(base, cost, stock);
            let target = target_price(&inputs, &rules);
            prop_assert_eq!(target_price(&charging(current_a, inputs), &rules), target);
            prop_assert_eq!(target_price(&charging(current_b, inputs), &rules), target);
            prop_assert_eq!(quote(&inputs, &rules), target);
        }

        #[test]
        fn repricing_reaches_the_target_within_64_steps_and_stays_there(
            base in 0..=1_000_000i64,
            cost in 0..=1_000_000i64,
            stock in 0..=300i64,
            start_percent in 50..=200i64,
            jitter in -100..=100i64,
            step in prop_oneof![Just(0i64), 1_000..=10_000i64],
            rules in valid_rules(),
        ) {
            // At least 10 % per step from within a factor of two of the target: the walk is
            // geometric, so 64 steps is ample. (At 0.01 % per step no bound this small holds.)
            let rules = RuleSet { max_step_bp: step, ..rules };
            let inputs = item(base, cost, stock);
            let target = target_price(&inputs, &rules);
            let mut current = (target.amount_cents * start_percent / 100 + jitter).max(0);
            let mut n_steps = 0;
            while current != target.amount_cents {
                prop_assert!(n_steps < 64, "not converged after 64 steps: at {}, target {:?}", current, target);
                current = quote(&charging(current, inputs), &rules).amount_cents;
                n_steps += 1;
            }
            for _ in 0..3 {
                prop_assert_eq!(quote(&charging(current, inputs), &rules), target);
            }
        }

        #[test]
        fn the_quote_always_stays_within_the_guardrails(
            base in hostile(),
            cost in hostile(),
            stock in hostile(),
            current in proptest::option::of(hostile()),
            rules in valid_rules(),
        ) {
            let (floor, ceiling) = reference_band(base, cost, &rules);
            let inputs = PriceInputs { base_cents: base, cost_cents: cost, stock, current_cents: current };
            let quoted = quote(&inputs, &rules).amount_cents;
            prop_assert!(floor <= quoted && quoted <= ceiling, "{} not in [{}, {}]", quoted, floor, ceiling);
            let target = target_price(&inputs, &rules).amount_cents;
            prop_assert!(floor <= target && target <= ceiling, "target {} not in [{}, {}]", target, floor, ceiling);
        }

        #[test]
        fn more_stock_never_means_a_higher_price(
            base in prop_oneof![0..=10_000_000i64, hostile()],
            cost in prop_oneof![0..=10_000_000i64, hostile()],
            stock_a in prop_oneof![0..=300i64, hostile()],
            stock_b in prop_oneof![0..=300i64, hostile()],
            rules in prop_oneof![valid_rules(), hostile_rules()],
        ) {
            let (fewer, more) = (stock_a.min(stock_b), stock_a.max(stock_b));
            let price_with_fewer = target_price(&item(base, cost, fewer), &rules).amount_cents;
            let price_with_more = target_price(&item(base, cost, more), &rules).amount_cents;
            prop_assert!(price_with_fewer >= price_with_more, "stock {} → {}, stock {} → {}",
                fewer, price_with_fewer, more, price_with_more);
        }

        #[test]
        fn no_input_makes_the_engine_panic_or_go_negative(
            base in hostile(),
            cost in hostile(),
            stock in hostile(),
            current in proptest::option::of(hostile()),
            rules in hostile_rules(),
        ) {
            let inputs = PriceInputs { base_cents: base, cost_cents: cost, stock, current_cents: current };
            prop_assert!(target_price(&inputs, &rules).amount_cents >= 0);
            prop_assert!(quote(&inputs, &rules).amount_cents >= 0);
            for (_, quoted) in preview(base, cost, &[stock, 0, i64::MIN, i64::MAX], &rules) {
                prop_assert!(quoted.amount_cents >= 0);
            }
        }
    }
}
