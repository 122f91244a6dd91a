//! Feature flags: a flag's targeting rules, their text form in the owner's editor, and
//! `evaluate`, the pure function every server and the browser agree on.
//!
//! **Model** (LaunchDarkly's and GrowthBook's): a flag switched off serves its `off` value to
//! everyone (the kill switch); switched on, the first rule whose condition matches serves its
//! value, and nobody matched gets the `default`. Percentage rollouts hash the visitor id with
//! the flag key as seed (GrowthBook hash version 2), so widening a rollout from 10 % to 20 %
//! keeps the first 10 % in.

use crate::experiments::domain::{hash, Assignments, Segment};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Flags the product itself reads (created by the migrations, on for everyone).
pub mod keys {
    /// The checkout's "pay with points" control, and redeeming points at checkout at all.
    pub const POINTS_REDEMPTION: &str = "points_redemption";
    /// The product page's "Frequently bought together" block (and that kind in the API).
    pub const FREQUENTLY_BOUGHT_TOGETHER: &str = "frequently_bought_together";
}

/// Rules a flag may have at most (evaluation stays a short loop).
pub const MAX_RULES: usize = 50;
/// Entries of one list condition at most.
pub const MAX_LIST: usize = 500;

/// Who is asking: what rules can match on.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub visitor_id: &'a str,
    pub user_id: Option<i64>,
    pub email: Option<&'a str>,
    /// The key of the plan the caller is on (`free` for visitors).
    pub plan: &'a str,
    pub segment: Segment,
    pub assignments: &'a Assignments,
}

/// What a rule matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    Everyone,
    PlanIn {
        plans: Vec<String>,
    },
    UserIn {
        ids: Vec<i64>,
    },
    EmailIn {
        emails: Vec<String>,
    },
    SegmentIn {
        segments: Vec<Segment>,
    },
    Variant {
        experiment: String,
        variant: String,
    },
    /// This share of visitors, in basis points (2000 = 20 %).
    Rollout {
        basis_points: u32,
    },
}

impl Condition {
    pub fn matches(&self, key: &str, ctx: &Context) -> bool {
        match self {
            Condition::Everyone => true,
            Condition::PlanIn { plans } => plans.iter().any(|p| p == ctx.plan),
            Condition::UserIn { ids } => ctx.user_id.is_some_and(|id| ids.contains(&id)),
            Condition::EmailIn { emails } => {
                ctx.email.is_some_and(|email| emails.iter().any(|e| e.eq_ignore_ascii_case(email)))
            }
            Condition::SegmentIn { segments } => segments.contains(&ctx.segment),
            Condition::Variant { experiment, variant } => ctx.assignments.get(experiment) == Some(variant.as_str()),
            Condition::Rollout { basis_points } => in_rollout(key, ctx.visitor_id, *basis_points),
        }
    }
}

/// Whether a visitor is within the first `basis_points` / 10,000 of a flag's rollout. The same
/// visitor stays in as the rollout widens (the hash does not depend on the percentage).
pub fn in_rollout(key: &str, visitor_id: &str, basis_points: u32) -> bool {
    if visitor_id.is_empty() {
        return false;
    }
    // GrowthBook's hash v2 is a multiple of 1/10,000: compare in whole basis points.
    hash(key, visitor_id, 2).is_some_and(|n| ((n * 10_000.0).round() as u32) < basis_points)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Rule {
    pub condition: Condition,
    pub value: Value,
}

/// Whether a flag's values are booleans or any JSON (a variant: a colour, a copy, a limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Boolean,
    Json,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Flag {
    pub key: String,
    pub description: String,
    pub kind: FlagKind,
    /// Off: everyone gets `off` (the kill switch).
    pub on: bool,
    /// On, for whoever no rule matches.
    pub default: Value,
    pub off: Value,
    pub rules: Vec<Rule>,
    /// Bumped by every saved change.
    pub version: i64,
}

/// `evaluate`'s answer with the reason, for the owner's preview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub value: Value,
    /// `off`, `default` or `rule N` (1-based).
    pub reason: String,
}

/// The value of `flag` for `ctx`.
pub fn evaluate<'f>(flag: &'f Flag, ctx: &Context) -> &'f Value {
    if !flag.on {
        return &flag.off;
    }
    flag.rules.iter().find(|rule| rule.condition.matches(&flag.key, ctx)).map_or(&flag.default, |rule| &rule.value)
}

/// [`evaluate`] with the reason.
pub fn explain(flag: &Flag, ctx: &Context) -> Evaluation {
    if !flag.on {
        return Evaluation { value: flag.off.clone(), reason: "off".into() };
    }
    match flag.rules.iter().position(|rule| rule.condition.matches(&flag.key, ctx)) {
        Some(i) => Evaluation { value: flag.rules[i].value.clone(), reason: format!("rule {}", i + 1) },
        None => Evaluation { value: flag.default.clone(), reason: "default".into() },
    }
}

/// True when a boolean flag is on for `ctx` (anything but `true` is off).
pub fn is_on(flag: &Flag, ctx: &Context) -> bool {
    evaluate(flag, ctx) == &Value::Bool(true)
}

/// A flag key: 1–64 of `a-z`, `0-9`, `_` and `-`, starting with a letter.
pub fn parse_key(raw: &str) -> Result<String, String> {
    let key = raw.trim();
    let ok = !key.is_empty()
        && key.len() <= 64
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(key.to_string())
    } else {
        Err("Use 1 to 64 of a-z, 0-9, _ and -, starting with a letter.".into())
    }
}

/// A value of a flag of `kind`: `true`/`false` for boolean flags, any JSON otherwise.
pub fn parse_value(kind: FlagKind, raw: &str) -> Result<Value, String> {
    let value: Value = serde_json::from_str(raw.trim()).map_err(|_| format!("'{}' is not JSON.", raw.trim()))?;
    match (kind, &value) {
        (FlagKind::Boolean, Value::Bool(_)) | (FlagKind::Json, _) => Ok(value),
        (FlagKind::Boolean, _) => Err("A boolean flag serves true or false.".into()),
    }
}

fn list(raw: &str) -> Vec<String> {
    raw.split(',').map(|item| item.trim().to_string()).filter(|item| !item.is_empty()).collect()
}

/// One rule from its line in the editor:
///
/// ```text
/// plan in basic, premium => true
/// user in 12, 15 => true
/// email in ada@example.com => {"copy": "Hi Ada"}
/// segment in high_value => true
/// variant hero = variant_a => true
/// rollout 20% => true
/// everyone => false
/// ```
pub fn parse_rule(kind: FlagKind, line: &str) -> Result<Rule, String> {
    let (condition, value) =
        line.split_once("=>").ok_or("Write a rule as 'condition => value', e.g. 'rollout 20% => true'.")?;
    let value = parse_value(kind, value)?;
    let condition = condition.trim();
    let (head, rest) = condition.split_once(char::is_whitespace).unwrap_or((condition, ""));
    let rest = rest.trim();
    let items = |what: &str| -> Result<Vec<String>, String> {
        let items = list(rest.strip_prefix("in").ok_or(format!("Write '{what} in a, b'."))?);
        if items.is_empty() || items.len() > MAX_LIST {
            return Err(format!("List 1 to {MAX_LIST} {what} values."));
        }
        Ok(items)
    };
    let condition = match head {
        "everyone" if rest.is_empty() => Condition::Everyone,
        "plan" => Condition::PlanIn { plans: items("plan")? },
        "user" => Condition::UserIn {
            ids: items("user")?
                .iter()
                .map(|id| id.parse::<i64>().map_err(|_| format!("'{id}' is not a user id.")))
                .collect::<Result<_, _>>()?,
        },
        "email" => Condition::EmailIn {
            emails: items("email")?
                .into_iter()
                .map(|email| {
                    if email.contains('@') && email.len() <= 254 {
                        Ok(email.to_ascii_lowercase())
                    } else {
                        Err(format!("'{email}' is not an e-mail address."))
                    }
                })
                .collect::<Result<_, _>>()?,
        },
        "segment" => Condition::SegmentIn {
            segments: items("segment")?
                .iter()
                .map(|s| Segment::parse(s).ok_or(format!("'{s}' is not a segment (new, returning, high_value).")))
                .collect::<Result<_, _>>()?,
        },
        "variant" => {
            let (experiment, variant) = rest.split_once('=').ok_or("Write 'variant <experiment> = <variant>'.")?;
            let (experiment, variant) = (experiment.trim(), variant.trim());
            if !crate::experiments::domain::is_key(experiment) || !crate::experiments::domain::is_key(variant) {
                return Err("Experiment and variant are keys of a-z, 0-9, _ and -.".into());
            }
            Condition::Variant { experiment: experiment.into(), variant: variant.into() }
        }
        "rollout" => {
            let percent = rest.strip_suffix('%').unwrap_or(rest).trim();
            let basis_points =
                parse_percent(percent).ok_or("Write the rollout as a percentage, e.g. 'rollout 12.5%'.")?;
            Condition::Rollout { basis_points }
        }
        _ => {
            return Err(format!(
                "'{head}' is not a condition: use everyone, plan, user, email, segment, variant or rollout."
            ))
        }
    };
    Ok(Rule { condition, value })
}

/// `12.5` → 1250 basis points; 0 to 100 with at most two decimals.
fn parse_percent(raw: &str) -> Option<u32> {
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty() || fraction.len() > 2 || !(whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit())) {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let fraction: u32 = if fraction.is_empty() { 0 } else { format!("{fraction:0<2}").parse().ok()? };
    let basis_points = whole.checked_mul(100)?.checked_add(fraction)?;
    (basis_points <= 10_000).then_some(basis_points)
}

/// The editor's text of a rule (what [`parse_rule`] reads back).
pub fn format_rule(rule: &Rule) -> String {
    let condition = match &rule.condition {
        Condition::Everyone => "everyone".to_string(),
        Condition::PlanIn { plans } => format!("plan in {}", plans.join(", ")),
        Condition::UserIn { ids } => {
            format!("user in {}", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))
        }
        Condition::EmailIn { emails } => format!("email in {}", emails.join(", ")),
        Condition::SegmentIn { segments } => {
            format!("segment in {}", segments.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
        }
        Condition::Variant { experiment, variant } => format!("variant {experiment} = {variant}"),
        Condition::Rollout { basis_points } => {
            if basis_points % 100 == 0 {
                format!("rollout {}%", basis_points / 100)
            } else {
                let fraction = format!("{:02}", basis_points % 100);
                format!("rollout {}.{}%", basis_points / 100, fraction.trim_end_matches('0'))
            }
        }
    };
    format!("{condition} => {}", rule.value)
}

/// A rule that arrived as JSON (the API), held to the editor's rules: it must read back the
/// same through its text form, so both ways in accept exactly the same rules.
pub fn check_rule(kind: FlagKind, rule: &Rule) -> Result<Rule, String> {
    let parsed = parse_rule(kind, &format_rule(rule))?;
    if &parsed == rule {
        Ok(parsed)
    } else {
        Err(format!("'{}' is not a rule the editor can show.", format_rule(rule)))
    }
}

/// All rules from the editor's text, one per line (blank lines and `#` comments skipped).
/// Errors name the line.
pub fn parse_rules(kind: FlagKind, text: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        rules.push(parse_rule(kind, line).map_err(|e| format!("Line {}: {e}", n + 1))?);
    }
    if rules.len() > MAX_RULES {
        return Err(format!("At most {MAX_RULES} rules."));
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flag(rules: &str) -> Flag {
        Flag {
            key: "new_checkout".into(),
            description: String::new(),
            kind: FlagKind::Boolean,
            on: true,
            default: json!(false),
            off: json!(false),
            rules: parse_rules(FlagKind::Boolean, rules).unwrap(),
            version: 1,
        }
    }

    fn ctx<'a>(assignments: &'a Assignments) -> Context<'a> {
        Context {
            visitor_id: "visitor-1",
            user_id: Some(12),
            email: Some("Ada@Example.com"),
            plan: "basic",
            segment: Segment::Returning,
            assignments,
        }
    }

    #[test]
    fn the_first_matching_rule_decides_table_driven() {
        let mut assignments = Assignments::default();
        assignments.set("hero", "variant_a");
        let c = ctx(&assignments);
        let anonymous = Context { user_id: None, email: None, plan: "free", segment: Segment::New, ..c };
        let cases: &[(&str, &Context, &str, bool)] = &[
            ("plan in premium => true", &c, "no rule matches: default", false),
            ("plan in basic, premium => true", &c, "plan in", true),
            ("plan in basic => true", &anonymous, "a visitor is on free", false),
            ("user in 3, 12 => true", &c, "user id listed", true),
            ("user in 12 => true", &anonymous, "no user", false),
            ("email in ada@example.com => true", &c, "e-mail, any case", true),
            ("segment in returning, high_value => true", &c, "segment", true),
            ("segment in high_value => true", &c, "other segment", false),
            ("variant hero = variant_a => true", &c, "experiment variant", true),
            ("variant hero = control => true", &c, "other variant", false),
            ("rollout 100% => true", &c, "everyone rolled out", true),
            ("rollout 0% => true", &c, "nobody rolled out", false),
            ("everyone => true", &anonymous, "everyone", true),
            ("plan in basic => false\neveryone => true", &c, "first rule wins", false),
            ("# a comment\n\nuser in 99 => false\nplan in basic => true", &c, "skips comments", true),
        ];
        for (rules, ctx, why, expected) in cases {
            assert_eq!(is_on(&flag(rules), ctx), *expected, "{why}: {rules}");
        }
    }

    #[test]
    fn the_kill_switch_serves_off_to_everyone() {
        let assignments = Assignments::default();
        let mut f = flag("everyone => true");
        f.on = false;
        assert!(!is_on(&f, &ctx(&assignments)));
        assert_eq!(explain(&f, &ctx(&assignments)).reason, "off");
        f.on = true;
        assert_eq!(explain(&f, &ctx(&assignments)).reason, "rule 1");
    }

    #[test]
    fn json_flags_serve_variants() {
        let assignments = Assignments::default();
        let mut f = flag("");
        f.kind = FlagKind::Json;
        f.rules = parse_rules(FlagKind::Json, r#"plan in basic => {"color": "green"}"#).unwrap();
        f.default = json!({ "color": "grey" });
        assert_eq!(evaluate(&f, &ctx(&assignments)), &json!({ "color": "green" }));
    }

    #[test]
    fn widening_a_rollout_keeps_everyone_already_in() {
        let ids: Vec<String> = (0..5000).map(|i| format!("visitor-{i}")).collect();
        let inside = |bp: u32| ids.iter().filter(|id| in_rollout("new_checkout", id, bp)).cloned().collect::<Vec<_>>();
        let ten = inside(1000);
        let twenty = inside(2000);
        assert!(ten.iter().all(|id| twenty.contains(id)), "10 % ⊂ 20 %");
        assert!((400..600).contains(&ten.len()), "about 10 %: {}", ten.len());
        assert!((900..1100).contains(&twenty.len()), "about 20 %: {}", twenty.len());
        // Another flag's rollout picks other visitors (the key is the seed).
        let other: Vec<_> = ids.iter().filter(|id| in_rollout("other_flag", id, 1000)).collect();
        assert!(other.iter().filter(|id| ten.contains(id)).count() < 150);
    }

    #[test]
    fn rules_round_trip_through_their_text() {
        let text = "plan in basic, premium => true\nuser in 12, 15 => false\nemail in ada@example.com => true\n\
                    segment in new, high_value => true\nvariant hero = variant_a => true\nrollout 12.5% => true\n\
                    rollout 20% => true\neveryone => false";
        let rules = parse_rules(FlagKind::Boolean, text).unwrap();
        let back: Vec<String> = rules.iter().map(format_rule).collect();
        assert_eq!(back.join("\n"), text);
    }

    #[test]
    fn bad_rules_say_which_line_and_why() {
        let err = |text: &str| parse_rules(FlagKind::Boolean, text).unwrap_err();
        assert!(err("plan in basic").contains("Line 1"));
        assert!(err("everyone => true\nrollout 120% => true").starts_with("Line 2"));
        assert!(err("rollout 12.345% => true").contains("percentage"));
        assert!(err("plan in basic => 3").contains("true or false"));
        assert!(err("segment in vip => true").contains("not a segment"));
        assert!(err("user in twelve => true").contains("not a user id"));
        assert!(err("colour in red => true").contains("not a condition"));
        assert!(err("email in nobody => true").contains("e-mail"));
        assert!(err("plan in => true").contains("1 to"));
        assert!(parse_key("New Checkout").is_err() && parse_key("new_checkout").is_ok());
        let rollout = |bp| Rule { condition: Condition::Rollout { basis_points: bp }, value: serde_json::json!(true) };
        assert!(check_rule(FlagKind::Boolean, &rollout(2500)).is_ok());
        assert!(check_rule(FlagKind::Boolean, &rollout(20_000)).is_err(), "over 100 %");
        let empty = Rule { condition: Condition::PlanIn { plans: vec![] }, value: serde_json::json!(true) };
        assert!(check_rule(FlagKind::Boolean, &empty).is_err());
        let comma = Rule { condition: Condition::PlanIn { plans: vec!["a,b".into()] }, value: serde_json::json!(true) };
        assert!(check_rule(FlagKind::Boolean, &comma).is_err(), "does not read back the same");
    }
}
