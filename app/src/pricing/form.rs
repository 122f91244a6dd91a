//! The admin's rule form: text fields in percent and units, parsed into a [`RuleSet`]
//! without floats. Pure, so the preview is the same on the server and in the browser.

use super::domain::{CompetitorMode, Rounding, RuleSet};

/// The form's fields, as typed (query string or form post).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleForm {
    pub low_stock_below: String,
    pub low_stock_markup_pct: String,
    pub high_stock_above: String,
    pub high_stock_discount_pct: String,
    pub min_margin_pct: String,
    pub ceiling_pct: String,
    pub max_step_pct: String,
    pub rounding: String,
    pub cooldown_minutes: String,
    pub velocity_window_days: String,
    pub fast_cover_days_below: String,
    pub fast_markup_pct: String,
    pub slow_no_sale_days: String,
    pub slow_cover_days_above: String,
    pub slow_discount_pct: String,
    pub competitor: String,
    pub competitor_pct: String,
    pub competitor_max_age_hours: String,
}

/// Field names, in form order (also the query parameter names).
pub const FIELDS: [&str; 18] = [
    "low_stock_below",
    "low_stock_markup_pct",
    "high_stock_above",
    "high_stock_discount_pct",
    "min_margin_pct",
    "ceiling_pct",
    "max_step_pct",
    "rounding",
    "cooldown_minutes",
    "velocity_window_days",
    "fast_cover_days_below",
    "fast_markup_pct",
    "slow_no_sale_days",
    "slow_cover_days_above",
    "slow_discount_pct",
    "competitor",
    "competitor_pct",
    "competitor_max_age_hours",
];

/// "12.5" → 1250 basis points. At most two decimals; no sign, no exponent.
pub fn parse_percent(raw: &str) -> Result<i64, String> {
    crate::shared::money::parse_hundredths(raw.trim().trim_end_matches('%'))
        .ok_or_else(|| "Enter a percentage like 15 or 12.5.".to_string())
}

fn parse_units(raw: &str) -> Result<i64, String> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (0..=1_000_000).contains(n))
        .ok_or_else(|| "Enter a whole number of units.".into())
}

/// Basis points as the form shows them: 1250 → "12.5".
pub fn format_percent(bp: i64) -> String {
    if bp % 100 == 0 {
        format!("{}", bp / 100)
    } else if bp % 10 == 0 {
        format!("{}.{}", bp / 100, (bp % 100) / 10)
    } else {
        format!("{}.{:02}", bp / 100, bp % 100)
    }
}

impl RuleForm {
    pub fn from_rules(rules: &RuleSet) -> RuleForm {
        RuleForm {
            low_stock_below: rules.low_stock_below.to_string(),
            low_stock_markup_pct: format_percent(rules.low_stock_markup_bp),
            high_stock_above: rules.high_stock_above.to_string(),
            high_stock_discount_pct: format_percent(rules.high_stock_discount_bp),
            min_margin_pct: format_percent(rules.min_margin_bp),
            ceiling_pct: format_percent(rules.ceiling_bp),
            max_step_pct: format_percent(rules.max_step_bp),
            rounding: match rules.rounding {
                Rounding::Cents => "cents".into(),
                Rounding::Charm99 => "charm99".into(),
            },
            cooldown_minutes: rules.cooldown_minutes.to_string(),
            velocity_window_days: rules.velocity_window_days.to_string(),
            fast_cover_days_below: rules.fast_cover_days_below.to_string(),
            fast_markup_pct: format_percent(rules.fast_markup_bp),
            slow_no_sale_days: rules.slow_no_sale_days.to_string(),
            slow_cover_days_above: rules.slow_cover_days_above.to_string(),
            slow_discount_pct: format_percent(rules.slow_discount_bp),
            competitor: rules.competitor.as_str().into(),
            competitor_pct: format_percent(rules.competitor_bp),
            competitor_max_age_hours: rules.competitor_max_age_hours.to_string(),
        }
    }

    /// Builds a form from name/value lookups (a query map or form fields).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<RuleForm> {
        // A form is present only if at least its first field is. The signal fields came later:
        // a link or bookmark without them keeps the defaults rather than failing to parse.
        get(FIELDS[0])?;
        let field = |name: &str| get(name).unwrap_or_default();
        let defaults = RuleForm::from_rules(&RuleSet::default());
        let or_default = |name: &str| get(name).unwrap_or_else(|| defaults.value(name));
        Some(RuleForm {
            cooldown_minutes: or_default("cooldown_minutes"),
            velocity_window_days: or_default("velocity_window_days"),
            fast_cover_days_below: or_default("fast_cover_days_below"),
            fast_markup_pct: or_default("fast_markup_pct"),
            slow_no_sale_days: or_default("slow_no_sale_days"),
            slow_cover_days_above: or_default("slow_cover_days_above"),
            slow_discount_pct: or_default("slow_discount_pct"),
            competitor: or_default("competitor"),
            competitor_pct: or_default("competitor_pct"),
            competitor_max_age_hours: or_default("competitor_max_age_hours"),
            low_stock_below: field("low_stock_below"),
            low_stock_markup_pct: field("low_stock_markup_pct"),
            high_stock_above: field("high_stock_above"),
            high_stock_discount_pct: field("high_stock_discount_pct"),
            min_margin_pct: field("min_margin_pct"),
            ceiling_pct: field("ceiling_pct"),
            max_step_pct: field("max_step_pct"),
            rounding: field("rounding"),
        })
    }

    pub fn value(&self, name: &str) -> String {
        match name {
            "low_stock_below" => self.low_stock_below.clone(),
            "low_stock_markup_pct" => self.low_stock_markup_pct.clone(),
            "high_stock_above" => self.high_stock_above.clone(),
            "high_stock_discount_pct" => self.high_stock_discount_pct.clone(),
            "min_margin_pct" => self.min_margin_pct.clone(),
            "ceiling_pct" => self.ceiling_pct.clone(),
            "max_step_pct" => self.max_step_pct.clone(),
            "rounding" => self.rounding.clone(),
            "cooldown_minutes" => self.cooldown_minutes.clone(),
            "velocity_window_days" => self.velocity_window_days.clone(),
            "fast_cover_days_below" => self.fast_cover_days_below.clone(),
            "fast_markup_pct" => self.fast_markup_pct.clone(),
            "slow_no_sale_days" => self.slow_no_sale_days.clone(),
            "slow_cover_days_above" => self.slow_cover_days_above.clone(),
            "slow_discount_pct" => self.slow_discount_pct.clone(),
            "competitor" => self.competitor.clone(),
            "competitor_pct" => self.competitor_pct.clone(),
            "competitor_max_age_hours" => self.competitor_max_age_hours.clone(),
            _ => String::new(),
        }
    }

    /// The rule set, or every problem with the field it belongs to.
    pub fn parse(&self) -> Result<RuleSet, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let mut units = |name: &'static str, raw: &str| {
            parse_units(raw).unwrap_or_else(|message| {
                problems.push((name, message));
                0
            })
        };
        let low_stock_below = units("low_stock_below", &self.low_stock_below);
        let high_stock_above = units("high_stock_above", &self.high_stock_above);
        let cooldown_minutes = units("cooldown_minutes", &self.cooldown_minutes);
        let velocity_window_days = units("velocity_window_days", &self.velocity_window_days);
        let fast_cover_days_below = units("fast_cover_days_below", &self.fast_cover_days_below);
        let slow_no_sale_days = units("slow_no_sale_days", &self.slow_no_sale_days);
        let slow_cover_days_above = units("slow_cover_days_above", &self.slow_cover_days_above);
        let competitor_max_age_hours = units("competitor_max_age_hours", &self.competitor_max_age_hours);
        let competitor = CompetitorMode::parse(&self.competitor).unwrap_or_else(|| {
            problems.push(("competitor", "Choose off, match, beat or within.".into()));
            CompetitorMode::Off
        });
        let mut percent = |name: &'static str, raw: &str| {
            parse_percent(raw).unwrap_or_else(|message| {
                problems.push((name, message));
                0
            })
        };
        let rules = RuleSet {
            low_stock_below,
            low_stock_markup_bp: percent("low_stock_markup_pct", &self.low_stock_markup_pct),
            high_stock_above,
            high_stock_discount_bp: percent("high_stock_discount_pct", &self.high_stock_discount_pct),
            min_margin_bp: percent("min_margin_pct", &self.min_margin_pct),
            ceiling_bp: percent("ceiling_pct", &self.ceiling_pct),
            max_step_bp: percent("max_step_pct", &self.max_step_pct),
            rounding: if self.rounding == "charm99" { Rounding::Charm99 } else { Rounding::Cents },
            cooldown_minutes,
            velocity_window_days,
            fast_cover_days_below,
            fast_markup_bp: percent("fast_markup_pct", &self.fast_markup_pct),
            slow_no_sale_days,
            slow_cover_days_above,
            slow_discount_bp: percent("slow_discount_pct", &self.slow_discount_pct),
            competitor,
            competitor_bp: percent("competitor_pct", &self.competitor_pct),
            competitor_max_age_hours,
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        rules
            .validate()
            .map_err(|problems| problems.into_iter().map(|(field, m)| (form_field(field), m)).collect::<Vec<_>>())?;
        Ok(rules)
    }
}

/// The form field a `RuleSet::validate` problem belongs to.
fn form_field(rule_field: &'static str) -> &'static str {
    match rule_field {
        "low_stock_markup_bp" => "low_stock_markup_pct",
        "high_stock_discount_bp" => "high_stock_discount_pct",
        "min_margin_bp" => "min_margin_pct",
        "ceiling_bp" => "ceiling_pct",
        "max_step_bp" => "max_step_pct",
        "fast_markup_bp" => "fast_markup_pct",
        "slow_discount_bp" => "slow_discount_pct",
        "competitor_bp" => "competitor_pct",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: Result<i64, ()>) {
        assert_eq!(parse_percent(raw).map_err(|_| ()), expected, "{raw}");
    }

    #[test]
    fn percentages_become_exact_basis_points() {
        check("15", Ok(1500));
        check("12.5", Ok(1250));
        check("0.05", Ok(5));
        check(" 130 % ", Ok(13000));
    }

    #[test]
    fn signs_exponents_and_extra_decimals_are_refused() {
        check("-5", Err(()));
        check("1e3", Err(()));
        check("1.234", Err(()));
        check("", Err(()));
    }

    #[test]
    fn the_default_rules_round_trip_through_the_form() {
        let rules = RuleSet::default();
        assert_eq!(RuleForm::from_rules(&rules).parse(), Ok(rules));
    }

    #[test]
    fn signal_rules_round_trip_through_the_form() {
        let rules = RuleSet {
            cooldown_minutes: 30,
            fast_cover_days_below: 7,
            fast_markup_bp: 750,
            slow_no_sale_days: 21,
            slow_discount_bp: 1000,
            competitor: CompetitorMode::Beat,
            competitor_bp: 150,
            competitor_max_age_hours: 48,
            ..RuleSet::default()
        };
        assert_eq!(RuleForm::from_rules(&rules).parse(), Ok(rules));
    }

    #[test]
    fn a_form_without_the_signal_fields_keeps_their_defaults() {
        let stock_only = RuleForm::from_rules(&RuleSet::default());
        let form = RuleForm::from_lookup(|name| FIELDS[..8].contains(&name).then(|| stock_only.value(name))).unwrap();
        assert_eq!(form.parse(), Ok(RuleSet::default()));
    }

    #[test]
    fn an_unknown_competitor_mode_is_reported_next_to_its_field() {
        let mut form = RuleForm::from_rules(&RuleSet::default());
        form.competitor = "undercut".into();
        assert_eq!(form.parse().unwrap_err()[0].0, "competitor");
    }

    #[test]
    fn a_bad_field_is_reported_next_to_that_field() {
        let mut form = RuleForm::from_rules(&RuleSet::default());
        form.ceiling_pct = "50".into();
        let problems = form.parse().unwrap_err();
        assert_eq!(problems[0].0, "ceiling_pct");
        form.ceiling_pct = "lots".into();
        assert_eq!(form.parse().unwrap_err()[0].0, "ceiling_pct");
    }
}
