//! The review fixture for `./x bench` (`mercato bench-reviews-fixture`, a hidden subcommand):
//! on the database `DATABASE_URL` names, already migrated and seeded by the app that is
//! serving it right now, it gives one product `count` approved reviews and leaves a second
//! one without any, so the bench can compare the product page of both. SQLite's busy
//! timeout lets it write beside the running server.
//!
//! The two products are the first two in stock without a review, by SKU. The reviews go
//! through `reviews::ssr::submit_review` and `approve_imported`, the paths a shopper's review
//! and an import take, so the rating summary, the points and the events are the real ones.
//!
//! Prints one JSON object on stdout: `reviewed_sku`, `plain_sku`, `reviews` and `seconds`
//! (wall time to create the reviewers, submit and approve the reviews).

use crate::sample::SplitMix64;
use app::accounts::domain::{Role, User};
use app::db::Db;
use app::loyalty::domain::LoyaltyRules;
use app::reviews::domain::{ReviewDraft, Target};
use app::shared::now_ms;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

/// Reviewer accounts per multi-row insert.
const USERS_PER_INSERT: usize = 500;
/// Reviews per `approve_imported` call (one write transaction each).
const APPROVALS_PER_CALL: usize = 200;

/// Ratings lean positive, as real ones do; every star appears.
const RATINGS: [i64; 10] = [5, 5, 5, 4, 4, 4, 3, 3, 2, 1];
/// Titles by stars (index 0: one star).
const TITLES: [[&str; 2]; 5] = [
    ["Disappointed", "Not for me"],
    ["Below expectations", "Mixed feelings"],
    ["Does the job", "Fair for the price"],
    ["Solid value", "Better than expected"],
    ["Exactly what I hoped for", "Would buy again"],
];
const SENTENCES: [&str; 8] = [
    "Arrived well packed and on time.",
    "The quality feels right for the price.",
    "I have used it daily for a few weeks now.",
    "It matches the description and the photos.",
    "A friend recommended it and I can see why.",
    "There is room for improvement in the details.",
    "Setting it up took a couple of minutes.",
    "I compared several options before choosing this one.",
];

fn draft(n: u64) -> anyhow::Result<ReviewDraft> {
    let r = SplitMix64(n).next_u64();
    let rating = RATINGS[(r % RATINGS.len() as u64) as usize];
    let title = format!("{} (#{})", TITLES[rating as usize - 1][((r >> 8) % 2) as usize], n + 1);
    // One to four different sentences.
    let (first, sentences) = ((r >> 16) as usize, 1 + ((r >> 24) % 4) as usize);
    let body = (0..sentences).map(|k| SENTENCES[(first + k) % SENTENCES.len()]).collect::<Vec<_>>().join(" ");
    ReviewDraft::parse(rating, &title, &body).map_err(|e| anyhow::anyhow!("review draft {n}: {}", e.message))
}

/// Inserts `count` reviewer accounts in multi-row batches and returns them.
///
/// They exist only as review authors: their password hash is `'!bench'`, which is not an
/// argon2 hash, so no password ever verifies against it and nobody can log in as them.
async fn create_reviewers(db: &Db, count: usize) -> anyhow::Result<Vec<User>> {
    let now = now_ms();
    let mut users = Vec::with_capacity(count);
    let mut start = 0;
    while start < count {
        let end = (start + USERS_PER_INSERT).min(count);
        let mut tx = db.begin_write().await?;
        // Read inside the write transaction: the running app cannot register anyone between
        // this and the insert.
        let max_id: i64 =
            sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM users").fetch_one(&mut *tx).await?;
        let batch: Vec<User> = (1..=(end - start) as i64)
            .map(|k| {
                let id = max_id + k;
                User {
                    id,
                    email: format!("reviewer-{id}@bench.invalid"),
                    display_name: format!("Reviewer {id}"),
                    role: Role::Shopper,
                }
            })
            .collect();
        // Only numbers are interpolated; nothing here comes from outside the process.
        let values = batch
            .iter()
            .map(|User { id, .. }| {
                format!("({id}, 'reviewer-{id}@bench.invalid', 'Reviewer {id}', '!bench', 'shopper', {now})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "INSERT INTO users (id, email, display_name, password_hash, role, created_at) VALUES {values}"
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        users.extend(batch);
        start = end;
    }
    Ok(users)
}

fn progress_bar(len: usize, what: &str) -> ProgressBar {
    let progress = ProgressBar::new(len as u64);
    progress.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} {{pos}}/{{len}} [{{bar:40}}] {{per_sec}} eta {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress
}

pub async fn run(database_url: &str, count: usize) -> anyhow::Result<()> {
    anyhow::ensure!(count > 0, "--count must be at least 1");
    // No migrations and no seed: the app serving this database already did both.
    let db = Db::connect(database_url, 2).await?;
    let skus: Vec<String> = sqlx::query_scalar(
        "SELECT sku FROM products WHERE stock > 0 AND sku NOT IN (SELECT sku FROM reviews) ORDER BY sku LIMIT 2",
    )
    .fetch_all(db.pool())
    .await?;
    let [reviewed, plain] = <[String; 2]>::try_from(skus)
        .map_err(|found| anyhow::anyhow!("need two in-stock products without reviews, found {}", found.len()))?;
    let rules = LoyaltyRules::default();
    eprintln!("giving {reviewed} {count} approved reviews ({plain} keeps none)");

    let started = Instant::now();
    let reviewers = create_reviewers(&db, count).await?;

    let progress = progress_bar(count, "reviews");
    let mut ids = Vec::with_capacity(count);
    for (n, user) in reviewers.iter().enumerate() {
        let saved = app::reviews::ssr::submit_review(&db, &rules, user, &reviewed, &draft(n as u64)?)
            .await
            .map_err(|e| anyhow::anyhow!("review {n} of {reviewed}: {e}"))?;
        ids.push(saved.review.id);
        progress.inc(1);
    }
    progress.finish_and_clear();

    let progress = progress_bar(count, "approvals");
    for chunk in ids.chunks(APPROVALS_PER_CALL) {
        app::reviews::ssr::approve_imported(&db, &rules, Target::Review, chunk)
            .await
            .map_err(|e| anyhow::anyhow!("approving reviews of {reviewed}: {e}"))?;
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();

    // The rows the page lists and the summary it shows must both count every review.
    let approved: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reviews WHERE sku = $1 AND status = 'approved'")
        .bind(&reviewed)
        .fetch_one(db.pool())
        .await?;
    anyhow::ensure!(approved == count as i64, "{reviewed} has {approved} approved reviews, expected {count}");
    let summary = app::reviews::ssr::summary(&db, &reviewed).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        summary.count() == count as i64,
        "{reviewed}'s rating summary counts {} reviews, expected {count}",
        summary.count()
    );

    let report = serde_json::json!({
        "reviewed_sku": reviewed,
        "plain_sku": plain,
        "reviews": count,
        "seconds": seconds,
    });
    println!("{report}");
    db.close().await;
    Ok(())
}
