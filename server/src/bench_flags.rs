//! What evaluating a feature flag costs, for `./x bench` (`mercato bench-flags [--n N]`, a
//! hidden subcommand). Prints one JSON object on stdout:
//!
//! - `eval_ns_10_rules`: `flags::domain::evaluate` of a flag with 10 rules where the first
//!   nine (plan, user, e-mail, segment and experiment-variant conditions) do not match and the
//!   tenth is a 50 % rollout, so every call walks all ten and hashes the visitor id: the
//!   worst case of a 10-rule flag.
//! - `eval_ns_first_rule`: the same flag for a caller the first rule matches.
//! - `rollout_share`: the share of the N visitor ids the 50 % rollout let in.
//!
//! Nanoseconds per call over N distinct visitor ids, the median of 5 timed runs. In memory:
//! no database, no HTTP.

use app::experiments::domain::{Assignments, Segment};
use app::flags::domain::{evaluate, parse_rules, Context, Flag, FlagKind};
use serde_json::Value;
use std::hint::black_box;
use std::time::Instant;

const RUNS: usize = 5;

/// Nine rules that miss a free-plan shopper, then a 50 % rollout.
const RULES: &str = "plan in basic, premium => true
user in 1, 2, 3, 4, 5, 6, 7, 8 => true
email in owner@example.com, beta@example.com, qa@example.com => true
segment in high_value => true
variant hero = variant_b => true
plan in enterprise => true
user in 1000, 1001 => true
email in press@example.com => true
segment in returning => true
rollout 50% => true";

/// A free-plan shopper in the control group, the caller most rules miss.
fn context<'a>(visitor_id: &'a str, plan: &'static str, assignments: &'a Assignments) -> Context<'a> {
    Context {
        visitor_id,
        user_id: Some(42),
        email: Some("shopper@example.com"),
        plan,
        segment: Segment::New,
        assignments,
    }
}

/// `mercato bench-flags-fixture --count N` on DATABASE_URL (the running bench app's
/// database): replaces the bench's own flags (`bench_*`) by N flags of the ten rules above,
/// each on, so every render evaluates them; the shop's own flags stay as they are.
pub async fn fixture(database_url: &str, count: usize) -> anyhow::Result<()> {
    let db = app::db::Db::connect(database_url, 1).await?;
    let rules = serde_json::to_string(&parse_rules(FlagKind::Boolean, RULES).map_err(|e| anyhow::anyhow!(e))?)?;
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM flags WHERE key LIKE 'bench!_%' ESCAPE '!'").execute(&mut *tx).await?;
    for i in 0..count {
        sqlx::query(
            "INSERT INTO flags (key, description, kind, is_on, default_value, off_value, rules, version, updated_at) \
             VALUES ($1, 'bench', 'boolean', 1, 'false', 'false', $2, 1, 0)",
        )
        .bind(format!("bench_{i:02}"))
        .bind(&rules)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE flags_state SET generation = generation + 1 WHERE id = 1").execute(&mut *tx).await?;
    tx.commit().await?;
    println!("{}", serde_json::json!({ "bench_flags": count }));
    Ok(())
}

pub fn run(n: usize) -> anyhow::Result<()> {
    let flag = Flag {
        key: "bench_flag".into(),
        description: String::new(),
        kind: FlagKind::Boolean,
        on: true,
        default: Value::Bool(false),
        off: Value::Bool(false),
        rules: parse_rules(FlagKind::Boolean, RULES).map_err(|e| anyhow::anyhow!(e))?,
        version: 1,
    };
    anyhow::ensure!(flag.rules.len() == 10);
    let ids: Vec<String> =
        (0..n).map(|i| format!("{:032x}", (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C))).collect();
    let mut assignments = Assignments::default();
    assignments.set("hero", "control");
    let time = |plan: &'static str| {
        let mut runs: Vec<f64> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                for id in &ids {
                    black_box(evaluate(black_box(&flag), &context(id, plan, &assignments)));
                }
                started.elapsed().as_nanos() as f64 / ids.len() as f64
            })
            .collect();
        runs.sort_by(f64::total_cmp);
        runs[RUNS / 2]
    };
    let worst = time("free");
    let first = time("basic");
    let inside =
        ids.iter().filter(|id| evaluate(&flag, &context(id, "free", &assignments)) == &Value::Bool(true)).count();
    println!(
        "{}",
        serde_json::json!({
            "n": n,
            "runs": RUNS,
            "rules": flag.rules.len(),
            "eval_ns_10_rules": worst,
            "eval_ns_first_rule": first,
            "rollout_share": inside as f64 / n as f64,
        })
    );
    Ok(())
}
