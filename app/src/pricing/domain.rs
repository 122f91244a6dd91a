//! Dynamic pricing: the pure rules that turn (base price, unit cost, the current signals —
//! stock, sales velocity, the lowest fresh competitor offer — and a rule set) into the price
//! to charge and the reason for it, and `simulate`, which replays a list of signal events
//! through a rule set.
//!
//! Everything here is integer cents and basis points (1 bp = 0.01 %), computed with `i128`
//! intermediates, so it gives the same answer on the server and in the wasm preview and no
//! input, however hostile, can make it panic, overflow or return a negative price.

use serde::{Deserialize, Serialize};

/// How a computed price is rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// Minutes an automatic price holds before it may move again; 0 means no cooldown.
    #[serde(default)]
    pub cooldown_minutes: i64,
    /// The trailing window sales velocity is measured over, in days.
    #[serde(default = "default_velocity_window_days")]
    pub velocity_window_days: i64,
    /// A fast seller has fewer days of cover (stock ÷ units sold per day) than this; 0 = off.
    #[serde(default)]
    pub fast_cover_days_below: i64,
    /// Basis points added to the BASE price for a fast seller.
    #[serde(default)]
    pub fast_markup_bp: i64,
    /// A slow mover has sold nothing for this many days; 0 = off.
    #[serde(default)]
    pub slow_no_sale_days: i64,
    /// A slow mover also has more days of cover than this; 0 = off.
    #[serde(default)]
    pub slow_cover_days_above: i64,
    /// Basis points taken off the BASE price for a slow mover.
    #[serde(default)]
    pub slow_discount_bp: i64,
    /// How the lowest fresh competitor offer moves the price.
    #[serde(default)]
    pub competitor: CompetitorMode,
    /// Beat by this much (`beat`), or stay at most this much above (`within`), in basis points.
    #[serde(default)]
    pub competitor_bp: i64,
    /// Competitor offers observed longer ago than this are stale and ignored, in hours.
    #[serde(default = "default_competitor_max_age_hours")]
    pub competitor_max_age_hours: i64,
}

/// What the lowest fresh competitor offer does to the price.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CompetitorMode {
    /// Competitor offers are ignored.
    #[default]
    Off,
    /// Charge the lowest competitor price.
    Match,
    /// Charge `competitor_bp` below the lowest competitor price.
    Beat,
    /// Charge at most `competitor_bp` above the lowest competitor price.
    Within,
}

impl CompetitorMode {
    pub const ALL: [CompetitorMode; 4] =
        [CompetitorMode::Off, CompetitorMode::Match, CompetitorMode::Beat, CompetitorMode::Within];

    pub fn as_str(self) -> &'static str {
        match self {
            CompetitorMode::Off => "off",
            CompetitorMode::Match => "match",
            CompetitorMode::Beat => "beat",
            CompetitorMode::Within => "within",
        }
    }

    pub fn parse(raw: &str) -> Option<CompetitorMode> {
        CompetitorMode::ALL.into_iter().find(|mode| mode.as_str() == raw.trim())
    }
}

fn default_velocity_window_days() -> i64 {
    14
}

fn default_competitor_max_age_hours() -> i64 {
    72
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
            // The signals beyond stock are off until the owner turns them on, so a shop that
            // upgrades keeps its prices.
            cooldown_minutes: 0,
            velocity_window_days: default_velocity_window_days(),
            fast_cover_days_below: 0,
            fast_markup_bp: 0,
            slow_no_sale_days: 0,
            slow_cover_days_above: 0,
            slow_discount_bp: 0,
            competitor: CompetitorMode::Off,
            competitor_bp: 0,
            competitor_max_age_hours: default_competitor_max_age_hours(),
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
const COOLDOWN_MINUTES_RANGE: (i64, i64) = (0, 7 * 24 * 60);
const VELOCITY_WINDOW_DAYS_RANGE: (i64, i64) = (1, 90);
const COVER_DAYS_RANGE: (i64, i64) = (0, 3650);
const COMPETITOR_BP_RANGE: (i64, i64) = (0, 5_000);
const COMPETITOR_MAX_AGE_HOURS_RANGE: (i64, i64) = (1, 24 * 90);

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
            ("fast_markup_bp", self.fast_markup_bp, MARKUP_BP_RANGE),
            ("slow_discount_bp", self.slow_discount_bp, DISCOUNT_BP_RANGE),
            ("competitor_bp", self.competitor_bp, COMPETITOR_BP_RANGE),
        ];
        for (field, value, (min, max)) in bp_fields {
            if !(min..=max).contains(&value) {
                let message =
                    format!("must be between {min} and {max} basis points ({}% to {}%)", min / 100, max / 100);
                problems.push((field, message));
            }
        }
        let whole_fields = [
            ("cooldown_minutes", self.cooldown_minutes, COOLDOWN_MINUTES_RANGE, "minutes"),
            ("velocity_window_days", self.velocity_window_days, VELOCITY_WINDOW_DAYS_RANGE, "days"),
            ("fast_cover_days_below", self.fast_cover_days_below, COVER_DAYS_RANGE, "days"),
            ("slow_no_sale_days", self.slow_no_sale_days, COVER_DAYS_RANGE, "days"),
            ("slow_cover_days_above", self.slow_cover_days_above, COVER_DAYS_RANGE, "days"),
            ("competitor_max_age_hours", self.competitor_max_age_hours, COMPETITOR_MAX_AGE_HOURS_RANGE, "hours"),
        ];
        for (field, value, (min, max), unit) in whole_fields {
            if !(min..=max).contains(&value) {
                problems.push((field, format!("must be between {min} and {max} {unit}")));
            }
        }
        if self.fast_cover_days_below > 0
            && self.slow_cover_days_above > 0
            && self.fast_cover_days_below > self.slow_cover_days_above
        {
            problems.push(("slow_cover_days_above", "must not be below the fast-seller cover".to_string()));
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
    pub signals: Signals,
}

/// The signals beyond stock, as of `now_ms`. `Signals::default()` is "no sales history, no
/// competitor, never repriced": the stock-only engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signals {
    /// Units sold in the rule set's trailing window (`velocity_window_days`).
    pub units_in_window: i64,
    /// Whole days since the last sale (or since the product was listed, if it never sold).
    pub days_without_sale: i64,
    /// The lowest competitor price among fresh offers (see [`lowest_fresh_offer`]).
    pub lowest_competitor_cents: Option<i64>,
    pub now_ms: i64,
    /// When the price last changed automatically (for the cooldown).
    pub last_change_ms: Option<i64>,
}

/// What caused a repricing, stored next to each price history row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PriceCause {
    /// A stock change (inventory webhook or checkout).
    Stock,
    /// Sales: an order, or the periodic review that notices a product stopped selling.
    Velocity,
    /// A competitor price import.
    Competitor,
    /// The owner changed the rules.
    Manual,
}

impl PriceCause {
    pub const ALL: [PriceCause; 4] =
        [PriceCause::Stock, PriceCause::Velocity, PriceCause::Competitor, PriceCause::Manual];

    pub fn as_str(self) -> &'static str {
        match self {
            PriceCause::Stock => "stock",
            PriceCause::Velocity => "velocity",
            PriceCause::Competitor => "competitor",
            PriceCause::Manual => "manual",
        }
    }

    pub fn parse(raw: &str) -> Option<PriceCause> {
        PriceCause::ALL.into_iter().find(|cause| cause.as_str() == raw)
    }

    /// The cause of a change found by the periodic review, where nothing but time moved: an
    /// offer that went stale (or a competitor price still being walked towards) is the
    /// competitor's doing; otherwise sales stopped or slowed.
    pub fn of_review(previous: &str, new: PriceReason) -> PriceCause {
        if previous == PriceReason::Competitor.as_str() || new == PriceReason::Competitor {
            PriceCause::Competitor
        } else {
            PriceCause::Velocity
        }
    }
}

pub const MS_PER_DAY: i64 = 24 * 3600 * 1000;

/// The lowest price among `offers` (price in cents, observed at ms) observed at most
/// `max_age_hours` before `now_ms`; offers from the future count as fresh. Non-positive
/// prices are ignored.
pub fn lowest_fresh_offer(
    offers: impl IntoIterator<Item = (i64, i64)>,
    now_ms: i64,
    max_age_hours: i64,
) -> Option<i64> {
    let max_age_ms =
        max_age_hours.clamp(COMPETITOR_MAX_AGE_HOURS_RANGE.0, COMPETITOR_MAX_AGE_HOURS_RANGE.1) * 3_600_000;
    offers
        .into_iter()
        .filter(|&(price, observed_at)| price > 0 && now_ms.saturating_sub(observed_at) <= max_age_ms)
        .map(|(price, _)| price)
        .min()
}

/// Why the price is what it is (stored as text and shown in admin / API `reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// Selling out faster than the fast-seller cover: the velocity markup applied.
    FastSeller,
    /// Not selling: the slow-mover discount applied.
    SlowMover,
    /// Set by the lowest fresh competitor offer.
    Competitor,
    /// Held at the current price until the cooldown since the last change ends.
    Cooldown,
}

impl PriceReason {
    const ALL: [PriceReason; 10] = [
        PriceReason::Base,
        PriceReason::LowStock,
        PriceReason::Overstock,
        PriceReason::Floor,
        PriceReason::Ceiling,
        PriceReason::StepLimited,
        PriceReason::FastSeller,
        PriceReason::SlowMover,
        PriceReason::Competitor,
        PriceReason::Cooldown,
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
            PriceReason::FastSeller => "fast_seller",
            PriceReason::SlowMover => "slow_mover",
            PriceReason::Competitor => "competitor",
            PriceReason::Cooldown => "cooldown",
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

/// The target price from base + signals + rules, BEFORE the step limit and the cooldown: a
/// pure function of (base, cost, stock, sales velocity, competitor offer, rules) — never of
/// the current price — so recomputing never compounds.
///
/// The stock and velocity adjustments are added up in basis points of the base price; a
/// competitor rule then replaces (match, beat) or caps (within) that price; the guardrails
/// clamp the result. The reason is the signal that moved the price most.
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
    let (stock_bp, stock_reason) = if product.stock < rules.low_stock_below {
        (rules.low_stock_markup_bp, PriceReason::LowStock)
    } else if product.stock > rules.high_stock_above {
        (-rules.high_stock_discount_bp, PriceReason::Overstock)
    } else {
        (0, PriceReason::Base)
    };
    let (velocity_bp, velocity_reason) = velocity_adjustment(&product, &inputs.signals, &rules);
    let rule_reason = if velocity_bp != 0 && (stock_bp == 0 || velocity_bp.abs() > stock_bp.abs()) {
        velocity_reason
    } else {
        stock_reason
    };
    let factor_bp = (BP_PER_WHOLE + stock_bp + velocity_bp).max(0);
    let adjusted = div_round_half_away(product.base * factor_bp, BP_PER_WHOLE);
    let (adjusted, rule_reason) = match competitor_price(adjusted, &inputs.signals, &rules) {
        Some(price) => (price, PriceReason::Competitor),
        None => (adjusted, rule_reason),
    };

    // The reason is decided on the unrounded price: charm rounding is cosmetic, and a .99
    // that had to be nudged to stay inside the band was not "clamped" by a guardrail.
    let (clamped, reason) = guardrails.clamp(adjusted, rule_reason);
    let amount = match rules.rounding {
        Rounding::Cents => clamped,
        Rounding::Charm99 => charm99(adjusted, &guardrails).unwrap_or(clamped),
    };
    Quote { amount_cents: to_cents(amount), reason }
}

/// The velocity rules' basis points on the base price. Fast sellers are checked first, for
/// the same reason as low stock: more stock means more days of cover, never a higher price.
fn velocity_adjustment(product: &Product, signals: &Signals, rules: &Effective) -> (i128, PriceReason) {
    let units = i128::from(signals.units_in_window.max(0));
    let window = rules.velocity_window_days;
    // Days of cover = stock ÷ (units ÷ window), compared without dividing.
    let stock_days = product.stock * window;
    let fast = rules.fast_cover_days_below > 0 && units > 0 && stock_days < rules.fast_cover_days_below * units;
    if fast {
        return (rules.fast_markup_bp, PriceReason::FastSeller);
    }
    // Something sold out is not slow: there is nothing left to move.
    let idle = rules.slow_no_sale_days > 0 && i128::from(signals.days_without_sale) >= rules.slow_no_sale_days;
    let overstocked = rules.slow_cover_days_above > 0 && stock_days > rules.slow_cover_days_above * units;
    if product.stock > 0 && (idle || overstocked) {
        return (-rules.slow_discount_bp, PriceReason::SlowMover);
    }
    (0, PriceReason::Base)
}

/// The price the competitor rule asks for instead of `adjusted`, if it applies and differs.
fn competitor_price(adjusted: i128, signals: &Signals, rules: &Effective) -> Option<i128> {
    let lowest = i128::from(signals.lowest_competitor_cents.filter(|cents| *cents > 0)?);
    let wanted = match rules.competitor {
        CompetitorMode::Off => return None,
        CompetitorMode::Match => lowest,
        CompetitorMode::Beat => div_round_half_away(lowest * (BP_PER_WHOLE - rules.competitor_bp), BP_PER_WHOLE),
        CompetitorMode::Within => adjusted.min(lowest * (BP_PER_WHOLE + rules.competitor_bp) / BP_PER_WHOLE),
    };
    (wanted != adjusted).then_some(wanted)
}

/// The price to charge now: the target, moved from `current_cents` by at most max_step_bp of
/// the current price (reason StepLimited when the limit bit), then clamped to the guardrails
/// again. Within the cooldown after the last automatic change the current price holds
/// (reason Cooldown), still inside the guardrails.
///
/// **Rationale:** the step limit exists so shoppers do not see a price jump 50 % between two
/// page loads; it only slows the walk towards the target, which does not depend on the
/// current price, so repeated calls converge instead of drifting. The guardrails beat the
/// step limit and the cooldown: never selling below cost plus margin is a business rule,
/// smoothness is not.
pub fn quote(inputs: &PriceInputs, rules: &RuleSet) -> Quote {
    let target = target_price(inputs, rules);
    let effective = Effective::from_rules(rules);
    let Some(current) = inputs.current_cents else {
        return target;
    };
    if target.amount_cents == current {
        return target;
    }
    let guardrails = Guardrails::new(&Product::from_inputs(inputs), &effective);
    let current = i128::from(current.max(0));
    if let Some(last_change) = inputs.signals.last_change_ms {
        let since = i128::from(inputs.signals.now_ms) - i128::from(last_change);
        if since >= 0 && since < effective.cooldown_minutes * 60_000 {
            let (amount, reason) = guardrails.clamp(current, PriceReason::Cooldown);
            return Quote { amount_cents: to_cents(amount), reason };
        }
    }
    if effective.max_step_bp == 0 {
        return target;
    }
    // Rounded towards the current price so the limit is never exceeded, but at least one
    // cent: otherwise a price under 1 / max_step (e.g. 4 cents at 20 %) could never move.
    let max_move = (current * effective.max_step_bp / BP_PER_WHOLE).max(1);
    let target_cents = i128::from(target.amount_cents);
    let limited = target_cents.clamp(current - max_move, current + max_move);
    if limited == target_cents {
        return target;
    }
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
            let inputs =
                PriceInputs { base_cents, cost_cents, stock, current_cents: None, signals: Signals::default() };
            (stock, quote(&inputs, rules))
        })
        .collect()
}

/// A signal event replayed by [`simulate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignalEvent {
    /// `units` sold at `at_ms`. Held as observed: the simulation does not model how demand
    /// would have answered another price.
    Order { at_ms: i64, units: i64 },
    /// Stock was `stock` from `at_ms` on (as recorded, checkouts included).
    Stock { at_ms: i64, stock: i64 },
    /// A competitor offer arrived at `at_ms`.
    Offer { at_ms: i64, source: String, price_cents: i64, observed_at_ms: i64 },
}

impl SignalEvent {
    pub fn at_ms(&self) -> i64 {
        match self {
            SignalEvent::Order { at_ms, .. } | SignalEvent::Stock { at_ms, .. } | SignalEvent::Offer { at_ms, .. } => {
                *at_ms
            }
        }
    }
}

/// A product's state when a simulation starts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStart {
    pub base_cents: i64,
    pub cost_cents: i64,
    pub stock: i64,
    pub price_cents: i64,
    pub from_ms: i64,
    pub to_ms: i64,
    /// When the product was listed (a product that never sold is idle since then).
    pub listed_at_ms: i64,
    /// Units sold per day (days since the epoch) before `from_ms`, for the trailing window.
    pub prior_sales: Vec<(i64, i64)>,
}

/// One point of a simulated price path: the price from `at_ms` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SimPoint {
    pub at_ms: i64,
    pub price_cents: i64,
    pub reason: PriceReason,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Simulation {
    pub path: Vec<SimPoint>,
    pub units: i64,
    /// Units × the simulated price at the time of each order.
    pub revenue_cents: i64,
    /// Revenue less units × unit cost.
    pub margin_cents: i64,
}

/// Replays `events` (sorted here by time) from `start` through `rules`: every event and a
/// daily review (as the server's periodic job does) reprice the product exactly as the
/// server would, step limit and cooldown included. Pure, so the admin can compare a
/// proposed rule set with the current one on the same history before saving.
pub fn simulate(start: &SimStart, events: &[SignalEvent], rules: &RuleSet) -> Simulation {
    use std::collections::{BTreeMap, HashMap};
    let mut events: Vec<&SignalEvent> =
        events.iter().filter(|event| (start.from_ms..=start.to_ms).contains(&event.at_ms())).collect();
    events.sort_by_key(|event| event.at_ms());
    let mut sales: BTreeMap<i64, i64> = start.prior_sales.iter().copied().collect();
    let mut offers: HashMap<&str, (i64, i64)> = HashMap::new();
    let mut stock = start.stock;
    let mut price = start.price_cents;
    let mut last_change: Option<i64> = None;
    let (mut units, mut revenue, mut margin) = (0i128, 0i128, 0i128);
    let window = rules.velocity_window_days.clamp(VELOCITY_WINDOW_DAYS_RANGE.0, VELOCITY_WINDOW_DAYS_RANGE.1);
    let mut path = Vec::new();

    let reprice = |at_ms: i64,
                   stock: i64,
                   sales: &BTreeMap<i64, i64>,
                   offers: &HashMap<&str, (i64, i64)>,
                   price: &mut i64,
                   last_change: &mut Option<i64>,
                   path: &mut Vec<SimPoint>| {
        let today = at_ms.div_euclid(MS_PER_DAY);
        let units_in_window: i64 = sales.range(today - window + 1..=today).map(|(_, units)| *units).sum();
        let last_sale_ms = sales.range(..=today).next_back().map(|(day, _)| day * MS_PER_DAY);
        let idle_since = last_sale_ms.unwrap_or(start.listed_at_ms).min(at_ms);
        let signals = Signals {
            units_in_window,
            days_without_sale: (at_ms - idle_since) / MS_PER_DAY,
            lowest_competitor_cents: lowest_fresh_offer(
                offers.values().copied(),
                at_ms,
                rules.competitor_max_age_hours,
            ),
            now_ms: at_ms,
            last_change_ms: *last_change,
        };
        let inputs = PriceInputs {
            base_cents: start.base_cents,
            cost_cents: start.cost_cents,
            stock,
            current_cents: Some(*price),
            signals,
        };
        let quoted = quote(&inputs, rules);
        if path.is_empty() || quoted.amount_cents != *price {
            if quoted.amount_cents != *price {
                *last_change = Some(at_ms);
            }
            *price = quoted.amount_cents;
            path.push(SimPoint { at_ms, price_cents: *price, reason: quoted.reason });
        }
    };

    reprice(start.from_ms, stock, &sales, &offers, &mut price, &mut last_change, &mut path);
    let mut next_review = start.from_ms + MS_PER_DAY;
    for event in events {
        while next_review <= event.at_ms() {
            reprice(next_review, stock, &sales, &offers, &mut price, &mut last_change, &mut path);
            next_review += MS_PER_DAY;
        }
        match event {
            SignalEvent::Order { at_ms, units: sold } => {
                let sold = (*sold).max(0);
                units += i128::from(sold);
                revenue += i128::from(sold) * i128::from(price);
                margin += i128::from(sold) * (i128::from(price) - i128::from(start.cost_cents.max(0)));
                *sales.entry(at_ms.div_euclid(MS_PER_DAY)).or_insert(0) += sold;
            }
            SignalEvent::Stock { stock: now, .. } => stock = *now,
            SignalEvent::Offer { source, price_cents, observed_at_ms, .. } => {
                offers.insert(source.as_str(), (*price_cents, *observed_at_ms));
            }
        }
        reprice(event.at_ms(), stock, &sales, &offers, &mut price, &mut last_change, &mut path);
    }
    while next_review <= start.to_ms {
        reprice(next_review, stock, &sales, &offers, &mut price, &mut last_change, &mut path);
        next_review += MS_PER_DAY;
    }
    let saturate = |value: i128| i64::try_from(value.clamp(i128::from(i64::MIN), i128::from(i64::MAX))).unwrap_or(0);
    Simulation { path, units: saturate(units), revenue_cents: saturate(revenue), margin_cents: saturate(margin) }
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
    cooldown_minutes: i128,
    velocity_window_days: i128,
    fast_cover_days_below: i128,
    fast_markup_bp: i128,
    slow_no_sale_days: i128,
    slow_cover_days_above: i128,
    slow_discount_bp: i128,
    competitor: CompetitorMode,
    competitor_bp: i128,
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
            cooldown_minutes: within(rules.cooldown_minutes, COOLDOWN_MINUTES_RANGE),
            velocity_window_days: within(rules.velocity_window_days, VELOCITY_WINDOW_DAYS_RANGE),
            fast_cover_days_below: within(rules.fast_cover_days_below, COVER_DAYS_RANGE),
            fast_markup_bp: within(rules.fast_markup_bp, MARKUP_BP_RANGE),
            slow_no_sale_days: within(rules.slow_no_sale_days, COVER_DAYS_RANGE),
            slow_cover_days_above: within(rules.slow_cover_days_above, COVER_DAYS_RANGE),
            slow_discount_bp: within(rules.slow_discount_bp, DISCOUNT_BP_RANGE),
            competitor: rules.competitor,
            competitor_bp: within(rules.competitor_bp, COMPETITOR_BP_RANGE),
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
        PriceInputs { base_cents, cost_cents, stock, current_cents: None, signals: Signals::default() }
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
            ..RuleSet::default()
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

    // Sales velocity.

    /// 14-day window, fast below 7 days of cover (+10 %), slow after 10 idle days or above
    /// 60 days of cover (-10 %).
    fn velocity() -> RuleSet {
        RuleSet {
            fast_cover_days_below: 7,
            fast_markup_bp: 1000,
            slow_no_sale_days: 10,
            slow_cover_days_above: 60,
            slow_discount_bp: 1000,
            ..RuleSet::default()
        }
    }

    fn selling(units_in_window: i64, days_without_sale: i64, inputs: PriceInputs) -> PriceInputs {
        PriceInputs { signals: Signals { units_in_window, days_without_sale, ..inputs.signals }, ..inputs }
    }

    fn offered(lowest: i64, inputs: PriceInputs) -> PriceInputs {
        PriceInputs { signals: Signals { lowest_competitor_cents: Some(lowest), ..inputs.signals }, ..inputs }
    }

    #[test]
    fn a_fast_seller_steps_up_from_base() {
        // 28 sold in 14 days = 2 a day; 10 in stock = 5 days of cover < 7.
        check(selling(28, 0, item(1000, 0, 10)), velocity(), 1100, FastSeller);
    }

    #[test]
    fn enough_cover_is_not_a_fast_seller() {
        // 20 in stock = 10 days of cover.
        check(selling(28, 0, item(1000, 0, 20)), velocity(), 1000, Base);
    }

    #[test]
    fn no_sale_for_the_idle_days_is_a_slow_mover() {
        check(selling(0, 10, item(1000, 0, 20)), velocity(), 900, SlowMover);
        check(selling(0, 9, item(1000, 0, 0)), velocity(), 1150, LowStock);
    }

    #[test]
    fn too_many_days_of_cover_is_a_slow_mover() {
        // 14 sold in 14 days = 1 a day; 61 in stock = 61 days of cover.
        check(selling(14, 0, item(1000, 0, 61)), velocity(), 900, SlowMover);
        check(selling(14, 0, item(1000, 0, 60)), velocity(), 1000, Base);
    }

    #[test]
    fn a_sold_out_product_is_never_a_slow_mover() {
        check(selling(0, 400, item(1000, 0, 0)), RuleSet { low_stock_below: 0, ..velocity() }, 1000, Base);
    }

    #[test]
    fn the_velocity_rules_are_off_by_default() {
        check(selling(1000, 0, item(1000, 0, 10)), RuleSet::default(), 1000, Base);
        check(selling(0, 400, item(1000, 0, 50)), RuleSet::default(), 1000, Base);
    }

    #[test]
    fn stock_and_velocity_adjustments_add_up_on_the_base_price() {
        // Low stock +15 % and fast seller +10 %: 1250, the larger one names the reason.
        check(selling(28, 0, item(1000, 0, 3)), velocity(), 1250, LowStock);
        let rules = RuleSet { fast_markup_bp: 2000, ..velocity() };
        check(selling(28, 0, item(1000, 0, 3)), rules, 1300, Ceiling);
        // Overstock -5 % and slow -10 %.
        check(selling(0, 30, item(1000, 0, 150)), velocity(), 850, SlowMover);
    }

    #[test]
    fn velocity_moves_stay_inside_the_guardrails() {
        check(selling(0, 30, item(1000, 900, 50)), velocity(), 990, Floor);
        let rules = RuleSet { fast_markup_bp: 10_000, ..velocity() };
        check(selling(28, 0, item(1000, 0, 10)), rules, 1300, Ceiling);
    }

    // Competitor prices.

    fn competing(mode: CompetitorMode, bp: i64) -> RuleSet {
        RuleSet { competitor: mode, competitor_bp: bp, ..RuleSet::default() }
    }

    #[test]
    fn match_charges_the_lowest_competitor_price() {
        check(offered(930, item(1000, 0, 50)), competing(CompetitorMode::Match, 0), 930, Competitor);
        check(offered(1100, item(1000, 0, 50)), competing(CompetitorMode::Match, 0), 1100, Competitor);
    }

    #[test]
    fn beat_undercuts_the_lowest_competitor_price() {
        // 2 % under 950 = 931.
        check(offered(950, item(1000, 0, 50)), competing(CompetitorMode::Beat, 200), 931, Competitor);
    }

    #[test]
    fn within_caps_the_price_above_the_lowest_competitor_price() {
        // At most 5 % above 900 = 945; a price already below the cap is left alone.
        check(offered(900, item(1000, 0, 50)), competing(CompetitorMode::Within, 500), 945, Competitor);
        check(offered(990, item(1000, 0, 50)), competing(CompetitorMode::Within, 500), 1000, Base);
    }

    #[test]
    fn competitor_prices_never_break_the_floor_or_the_ceiling() {
        check(offered(500, item(1000, 800, 50)), competing(CompetitorMode::Match, 0), 880, Floor);
        check(offered(5000, item(1000, 0, 50)), competing(CompetitorMode::Match, 0), 1300, Ceiling);
    }

    #[test]
    fn no_offer_or_mode_off_ignores_competitors() {
        check(item(1000, 0, 50), competing(CompetitorMode::Match, 0), 1000, Base);
        check(offered(500, item(1000, 0, 50)), RuleSet::default(), 1000, Base);
        check(offered(0, item(1000, 0, 50)), competing(CompetitorMode::Match, 0), 1000, Base);
    }

    #[test]
    fn stale_offers_are_ignored() {
        let hour = 3_600_000;
        let offers = [(900, 100 * hour), (800, 20 * hour), (0, 100 * hour)];
        assert_eq!(lowest_fresh_offer(offers, 100 * hour, 72), Some(900));
        assert_eq!(lowest_fresh_offer(offers, 92 * hour, 72), Some(800));
        assert_eq!(lowest_fresh_offer(offers, 200 * hour, 72), None);
    }

    // The cooldown.

    fn changed(last_change_ms: i64, now_ms: i64, inputs: PriceInputs) -> PriceInputs {
        PriceInputs { signals: Signals { last_change_ms: Some(last_change_ms), now_ms, ..inputs.signals }, ..inputs }
    }

    #[test]
    fn the_price_holds_during_the_cooldown_and_moves_after_it() {
        let rules = RuleSet { cooldown_minutes: 60, ..RuleSet::default() };
        let minute = 60_000;
        check(changed(0, 59 * minute, charging(1000, item(1000, 0, 3))), rules.clone(), 1000, Cooldown);
        check(changed(0, 60 * minute, charging(1000, item(1000, 0, 3))), rules.clone(), 1150, LowStock);
        // No cooldown configured, or never changed: no hold.
        check(changed(0, minute, charging(1000, item(1000, 0, 3))), RuleSet::default(), 1150, LowStock);
        check(charging(1000, item(1000, 0, 3)), rules, 1150, LowStock);
    }

    #[test]
    fn the_floor_beats_the_cooldown() {
        let rules = RuleSet { cooldown_minutes: 60, ..RuleSet::default() };
        check(changed(0, 1, charging(500, item(1000, 900, 50))), rules, 990, Floor);
    }

    #[test]
    fn old_rule_sets_without_the_signal_fields_read_as_stock_only() {
        let stored = r#"{"low_stock_below":5,"low_stock_markup_bp":1500,"high_stock_above":100,
            "high_stock_discount_bp":500,"min_margin_bp":1000,"ceiling_bp":13000,"max_step_bp":2000,
            "rounding":"cents"}"#;
        let rules: RuleSet = serde_json::from_str(stored).unwrap();
        assert_eq!(rules, RuleSet::default());
    }

    #[test]
    fn out_of_range_signal_rules_are_rejected() {
        let d = velocity;
        check_rejected(RuleSet { velocity_window_days: 0, ..d() }, &["velocity_window_days"]);
        check_rejected(RuleSet { fast_markup_bp: 10_001, ..d() }, &["fast_markup_bp"]);
        check_rejected(RuleSet { slow_discount_bp: -1, ..d() }, &["slow_discount_bp"]);
        check_rejected(RuleSet { competitor_bp: 5_001, ..d() }, &["competitor_bp"]);
        check_rejected(RuleSet { competitor_max_age_hours: 0, ..d() }, &["competitor_max_age_hours"]);
        check_rejected(RuleSet { cooldown_minutes: -1, ..d() }, &["cooldown_minutes"]);
        check_rejected(RuleSet { fast_cover_days_below: 61, ..d() }, &["slow_cover_days_above"]);
    }

    // Simulation.

    fn sim_start() -> SimStart {
        SimStart {
            base_cents: 1000,
            cost_cents: 400,
            stock: 50,
            price_cents: 1000,
            from_ms: 0,
            to_ms: 30 * MS_PER_DAY,
            listed_at_ms: 0,
            prior_sales: Vec::new(),
        }
    }

    #[test]
    fn a_simulation_without_signals_keeps_the_price_and_counts_the_orders() {
        let events = [SignalEvent::Order { at_ms: 5 * MS_PER_DAY, units: 3 }];
        let run = simulate(&sim_start(), &events, &RuleSet::default());
        assert_eq!(run.path, [SimPoint { at_ms: 0, price_cents: 1000, reason: Base }]);
        assert_eq!((run.units, run.revenue_cents, run.margin_cents), (3, 3000, 1800));
    }

    #[test]
    fn a_simulation_charges_each_order_the_price_of_its_time() {
        // Stock falls to 3 on day 2: +15 %; the order on day 3 pays 1150.
        let events = [
            SignalEvent::Order { at_ms: MS_PER_DAY, units: 1 },
            SignalEvent::Stock { at_ms: 2 * MS_PER_DAY, stock: 3 },
            SignalEvent::Order { at_ms: 3 * MS_PER_DAY, units: 2 },
        ];
        let run = simulate(&sim_start(), &events, &RuleSet::default());
        let prices: Vec<i64> = run.path.iter().map(|point| point.price_cents).collect();
        assert_eq!(prices, [1000, 1150]);
        assert_eq!(run.revenue_cents, 1000 + 2 * 1150);
        assert_eq!(run.margin_cents, 600 + 2 * 750);
    }

    #[test]
    fn a_simulation_finds_the_slow_mover_through_the_daily_review() {
        // Listed on day 0, nothing sold: slow from day 10 (without the cover rule, which an
        // empty window meets at once).
        let run = simulate(&sim_start(), &[], &RuleSet { slow_cover_days_above: 0, ..velocity() });
        assert_eq!(run.path.last(), Some(&SimPoint { at_ms: 10 * MS_PER_DAY, price_cents: 900, reason: SlowMover }));
    }

    #[test]
    fn a_simulation_ignores_offers_once_they_are_stale() {
        let rules = RuleSet { competitor: CompetitorMode::Match, competitor_max_age_hours: 48, ..RuleSet::default() };
        let offer =
            SignalEvent::Offer { at_ms: MS_PER_DAY, source: "a".into(), price_cents: 950, observed_at_ms: MS_PER_DAY };
        let run = simulate(&sim_start(), &[offer], &rules);
        let prices: Vec<(i64, i64)> =
            run.path.iter().map(|point| (point.at_ms / MS_PER_DAY, point.price_cents)).collect();
        assert_eq!(prices, [(0, 1000), (1, 950), (4, 1000)]);
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
            ..RuleSet::default()
        })
    }

    /// Valid rule sets with the velocity and competitor rules on (no cooldown: the walk test
    /// calls `quote` with one clock).
    fn signal_rules() -> impl Strategy<Value = RuleSet> {
        let modes = prop_oneof![
            Just(CompetitorMode::Off),
            Just(CompetitorMode::Match),
            Just(CompetitorMode::Beat),
            Just(CompetitorMode::Within)
        ];
        let velocity = (1..=90i64, 0..=30i64, 0..=10_000i64, 0..=60i64, 0..=400i64, 0..=9_000i64);
        (valid_rules(), velocity, modes, 0..=5_000i64, 1_000..=10_000i64).prop_map(
            |(rules, (window, fast, markup, idle, slow_gap, discount), competitor, competitor_bp, step)| RuleSet {
                velocity_window_days: window,
                fast_cover_days_below: fast,
                fast_markup_bp: markup,
                slow_no_sale_days: idle,
                slow_cover_days_above: if slow_gap == 0 { 0 } else { fast + slow_gap },
                slow_discount_bp: discount,
                competitor,
                competitor_bp,
                max_step_bp: step,
                ..rules
            },
        )
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
                ..RuleSet::default()
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
            let inputs = PriceInputs { base_cents: base, cost_cents: cost, stock, current_cents: current, signals: Signals::default() };
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
            let inputs = PriceInputs { base_cents: base, cost_cents: cost, stock, current_cents: current, signals: Signals::default() };
            prop_assert!(target_price(&inputs, &rules).amount_cents >= 0);
            prop_assert!(quote(&inputs, &rules).amount_cents >= 0);
            for (_, quoted) in preview(base, cost, &[stock, 0, i64::MIN, i64::MAX], &rules) {
                prop_assert!(quoted.amount_cents >= 0);
            }
        }

        #[test]
        fn repeated_repricing_with_any_signals_never_drifts_or_leaves_the_guardrails(
            base in 0..=1_000_000i64,
            cost in 0..=1_000_000i64,
            stock in 0..=300i64,
            units in 0..=500i64,
            idle in 0..=100i64,
            lowest in proptest::option::of(0..=2_000_000i64),
            start in 0..=2_000_000i64,
            rules in signal_rules(),
        ) {
            let signals = Signals { units_in_window: units, days_without_sale: idle, lowest_competitor_cents: lowest, ..Signals::default() };
            let inputs = PriceInputs { base_cents: base, cost_cents: cost, stock, current_cents: None, signals };
            let target = target_price(&inputs, &rules);
            let (floor, ceiling) = reference_band(base, cost, &rules);
            prop_assert!(floor <= target.amount_cents && target.amount_cents <= ceiling);
            let mut current = start;
            for _ in 0..400 {
                let next = quote(&charging(current, inputs), &rules).amount_cents;
                if current == target.amount_cents {
                    prop_assert_eq!(next, current, "repricing with the same signals moved the price");
                }
                current = next;
                prop_assert!(floor <= current && current <= ceiling, "{} not in [{}, {}]", current, floor, ceiling);
            }
            prop_assert_eq!(current, target.amount_cents, "not converged");
        }

        #[test]
        fn more_stock_never_means_a_higher_price_with_any_velocity(
            base in 0..=1_000_000i64,
            stock_a in 0..=300i64,
            stock_b in 0..=300i64,
            units in 0..=500i64,
            idle in 0..=100i64,
            rules in signal_rules(),
        ) {
            let (fewer, more) = (stock_a.min(stock_b), stock_a.max(stock_b));
            let at = |stock| selling(units, idle, item(base, 0, stock));
            prop_assert!(target_price(&at(fewer), &rules).amount_cents >= target_price(&at(more), &rules).amount_cents);
        }
    }
}
