//! The loyalty ledger at scale, for `./x bench` (`mercato bench-loyalty`, a hidden
//! subcommand, on the database `DATABASE_URL` names; give it a fresh one). Prints one JSON
//! object on stdout:
//!
//! - `leaderboard_ms`: latency of the leaderboard query (top 20 of a period) with `members`
//!   shoppers holding points in every period: p50 / p95 / p99 over 300 queries per period.
//! - `ledger_writes_per_s`: ledger appends committed per second by `writers` concurrent
//!   tasks for `seconds`, each append its own write transaction (row + balance + period
//!   totals), spread over the members.
//! - `balanced`: every balance still equals the sum of its ledger afterwards.

use crate::sample::{percentile, SplitMix64};
use app::db::Db;
use app::loyalty::domain::{period_keys, Period};
use app::shared::now_ms;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const QUERIES_PER_PERIOD: usize = 300;
const ROWS_PER_INSERT: usize = 500;

/// A deterministic number per member id (balances, period points, writers' picks).
fn points_of(seed: u64) -> u64 {
    SplitMix64(seed).next_u64()
}

/// Inserts `members` shoppers with points accounts and period totals, in multi-row batches.
async fn seed_members(db: &Db, members: usize) -> anyhow::Result<i64> {
    let first_id: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM users").fetch_one(db.pool()).await?;
    let now = now_ms();
    let periods = period_keys(now);
    let progress = ProgressBar::new(members as u64);
    progress.set_style(
        ProgressStyle::with_template("{spinner} members {pos}/{len} [{bar:40}] {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut start = 0;
    while start < members {
        let end = (start + ROWS_PER_INSERT).min(members);
        let ids: Vec<i64> = (start..end).map(|i| first_id + 1 + i as i64).collect();
        let mut tx = db.begin_write().await?;
        // Only numbers are interpolated; nothing here comes from outside the process.
        let users = ids
            .iter()
            .map(|id| format!("({id}, 'member-{id}@bench.invalid', 'Member {id}', '!', 'shopper', {now})"))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "INSERT INTO users (id, email, display_name, password_hash, role, created_at) VALUES {users}"
        ))
        .execute(&mut *tx)
        .await?;
        let balance = |id: i64| (points_of(id as u64) % 50_000) as i64;
        let accounts = ids
            .iter()
            .map(|id| format!("({id}, {}, 0, {}, {now}, 0)", balance(*id), balance(*id)))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "INSERT INTO points_accounts (user_id, balance, pending, earned_total, last_activity_at, leaderboard_opt_out) \
             VALUES {accounts}"
        ))
        .execute(&mut *tx)
        .await?;
        // The ledger row each balance is the sum of (one opening balance per member).
        let ledger = ids
            .iter()
            .filter(|id| balance(**id) > 0)
            .map(|id| {
                format!("({id}, 'available', {}, 'adjust', 'bench:{id}', 'Opening balance', {now})", balance(*id))
            })
            .collect::<Vec<_>>()
            .join(", ");
        if !ledger.is_empty() {
            sqlx::query(&format!(
                "INSERT INTO points_ledger (user_id, bucket, delta, kind, source, reason, created_at) VALUES {ledger}"
            ))
            .execute(&mut *tx)
            .await?;
        }
        for (salt, period) in periods.iter().enumerate() {
            let totals = ids
                .iter()
                .map(|id| format!("('{period}', {id}, {})", 1 + (points_of(*id as u64 ^ (salt as u64 + 1)) % 10_000)))
                .collect::<Vec<_>>()
                .join(", ");
            sqlx::query(&format!("INSERT INTO points_period_totals (period, user_id, points) VALUES {totals}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        progress.set_position(end as u64);
        start = end;
    }
    progress.finish_and_clear();
    // Fresh statistics, as a long-running shop's database has them.
    sqlx::query("ANALYZE").execute(db.pool()).await?;
    Ok(first_id + 1)
}

pub async fn run(database_url: &str, members: usize, writers: usize, seconds: u64) -> anyhow::Result<()> {
    let db = Db::connect(database_url, (writers as u32 + 2).max(4)).await?;
    db.migrate().await?;
    eprintln!("seeding {members} members with points in every leaderboard period");
    let first_id = seed_members(&db, members).await?;

    let mut leaderboard = serde_json::Map::new();
    for period in [Period::Week, Period::Month, Period::All] {
        let mut samples = Vec::with_capacity(QUERIES_PER_PERIOD);
        for _ in 0..QUERIES_PER_PERIOD {
            let started = Instant::now();
            let entries =
                app::loyalty::ssr::leaderboard(&db, period, None, 20).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(entries.len() == 20, "the {} leaderboard has {} entries", period.key(), entries.len());
        }
        samples.sort_by(f64::total_cmp);
        leaderboard.insert(
            period.key().into(),
            serde_json::json!({
                "p50": percentile(&samples, 50.0),
                "p95": percentile(&samples, 95.0),
                "p99": percentile(&samples, 99.0),
            }),
        );
    }

    eprintln!("ledger writes: {writers} writers for {seconds} s");
    let written = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let (db, written) = (db.clone(), written.clone());
        tasks.push(tokio::spawn(async move {
            let mut n: u64 = 0;
            while Instant::now() < deadline {
                let user_id = first_id + (points_of((writer as u64) << 32 | n) % members as u64) as i64;
                let mut tx = db.begin_write().await?;
                let source = format!("bench:write:{writer}:{n}");
                app::loyalty::ssr::award(&mut tx, user_id, 10, "challenge", source, "Bench reward".into())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                tx.commit().await?;
                n += 1;
                written.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let writes = written.load(Ordering::Relaxed);
    let unbalanced: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM points_accounts a WHERE a.balance <> \
         (SELECT COALESCE(SUM(delta), 0) FROM points_ledger l WHERE l.user_id = a.user_id AND l.bucket = 'available')",
    )
    .fetch_one(db.pool())
    .await?;
    let report = serde_json::json!({
        "backend": format!("{:?}", db.backend()).to_lowercase(),
        "members": members,
        "leaderboard_ms": leaderboard,
        "queries_per_period": QUERIES_PER_PERIOD,
        "writers": writers,
        "seconds": elapsed,
        "ledger_writes": writes,
        "ledger_writes_per_s": writes as f64 / elapsed,
        "balanced": unbalanced == 0,
    });
    println!("{report}");
    db.close().await;
    Ok(())
}
