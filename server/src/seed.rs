//! Deterministic demo data: the catalog, shoppers (some subscribed to plans) and shipped
//! order history with its loyalty points, so recommendations, leaderboards and analytics
//! have real content on first start. Same input, same data.

use crate::sample::SplitMix64;
use app::catalog::ssr::{seed_catalog, SeedCatalog};
use app::db::Db;
use app::shared::now_ms;
use indicatif::{ProgressBar, ProgressStyle};

const CATALOG_JSON: &str = include_str!("../seed/catalog.json");

/// Orders are written in transactions of this many.
const ORDERS_PER_BATCH: u64 = 500;

pub fn demo_catalog() -> SeedCatalog {
    serde_json::from_str(CATALOG_JSON).expect("server/seed/catalog.json is valid (checked by a test)")
}

pub async fn catalog_is_empty(db: &Db) -> anyhow::Result<bool> {
    let n_products: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products").fetch_one(db.pool()).await?;
    Ok(n_products == 0)
}

const FIRST_NAMES: &[&str] = &[
    "Ada", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kaja", "Luis", "Mila", "Nico",
    "Olu", "Pia", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wim", "Yara",
];

/// Seeds the catalog, demo shoppers and `n_orders` historical orders. Idempotent for the
/// catalog and shoppers; orders are added on each call (it is a generator for scale tests).
pub async fn seed_demo(db: &Db, n_orders: u64, show_progress: bool) -> anyhow::Result<()> {
    let catalog = demo_catalog();
    let n_new = seed_catalog(db, &catalog).await?;
    tracing::info!(n_new, "catalog seeded");
    // The demo's brands, one or two categories each, for the brand insights and their keys.
    sqlx::query(
        "UPDATE products SET brand = CASE category_slug WHEN 'coffee' THEN 'Alto Roasters' \
         WHEN 'tea' THEN 'Leafline' WHEN 'brewing' THEN 'Brewcraft' WHEN 'mugs' THEN 'Brewcraft' \
         ELSE 'Pantry & Co' END WHERE brand IS NULL",
    )
    .execute(db.pool())
    .await?;

    let mut shopper_ids = Vec::new();
    for (i, first) in FIRST_NAMES.iter().enumerate() {
        let email = app::accounts::domain::Email::parse(&format!("shopper{:02}@demo.mercato.test", i + 1))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let name = app::accounts::domain::DisplayName::parse(first).map_err(|e| anyhow::anyhow!("{e}"))?;
        // A random password nobody knows: demo shoppers exist for their history, not to log in.
        let password = app::accounts::ssr::random_token();
        let id = app::accounts::ssr::create_shopper(db, &email, &name, &password)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        shopper_ids.push(id);
    }

    // Some shoppers pay for a plan, so the plan admin shows subscribers, MRR and invoices.
    for (i, &user_id) in shopper_ids.iter().enumerate() {
        let plan = match i % 6 {
            0 | 3 => "basic",
            1 => "premium",
            _ => continue,
        };
        let payments = app::plans::ssr::ManualInvoices;
        match app::plans::ssr::change_plan(db, &payments, user_id, None, plan).await {
            // Already subscribed by an earlier seed.
            Ok(_) | Err(app::shared::AppError::Conflict(_)) => {}
            Err(error) => return Err(anyhow::anyhow!("subscribing a demo shopper: {error}")),
        }
    }

    let products: Vec<(String, String, i64)> =
        catalog.products.iter().map(|p| (p.sku.clone(), p.name.clone(), p.base_cents)).collect();
    // Products grouped by category: a basket mostly stays near one interest, which gives
    // "frequently bought together" real signal.
    let mut by_category: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (index, product) in catalog.products.iter().enumerate() {
        by_category.entry(product.category.as_str()).or_default().push(index);
    }
    let categories: Vec<&Vec<usize>> = by_category.values().collect();

    let progress = if show_progress { ProgressBar::new(n_orders) } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{spinner} orders {pos}/{len} [{bar:40}] {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let rules = app::loyalty::domain::LoyaltyRules::default();
    let orders_before: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM orders").fetch_one(db.pool()).await?;
    let mut rng = SplitMix64(0x5EED_0000 + n_orders);
    let now = now_ms();
    let sixty_days_ms = 60 * 24 * 3600 * 1000_i64;
    let mut written = 0;
    while written < n_orders {
        let batch = ORDERS_PER_BATCH.min(n_orders - written);
        let mut tx = db.begin_write().await?;
        for _ in 0..batch {
            let user_id = shopper_ids[rng.below(shopper_ids.len() as u64) as usize];
            let created_at = now - (rng.below(sixty_days_ms as u64) as i64);
            let home = categories[rng.below(categories.len() as u64) as usize];
            let n_lines = 1 + rng.below(4) as usize;
            let mut lines: Vec<usize> = Vec::with_capacity(n_lines);
            for _ in 0..n_lines {
                // Three in four lines come from the basket's home category.
                let pool =
                    if rng.below(4) < 3 { home } else { categories[rng.below(categories.len() as u64) as usize] };
                let pick = pool[rng.below(pool.len() as u64) as usize];
                if !lines.contains(&pick) {
                    lines.push(pick);
                }
            }
            let quantities: Vec<i64> = lines.iter().map(|_| 1 + rng.below(3) as i64).collect();
            let total: i64 = lines.iter().zip(&quantities).map(|(&i, &q)| products[i].2 * q).sum();
            // History is shipped: each order is fulfilled and its points posted when it was placed.
            let order_id: i64 = sqlx::query_scalar(
                "INSERT INTO orders (user_id, total_cents, status, created_at, status_changed_at) \
                 VALUES ($1, $2, 'fulfilled', $3, $3) RETURNING id",
            )
            .bind(user_id)
            .bind(total)
            .bind(created_at)
            .fetch_one(&mut *tx)
            .await?;
            for (&i, &quantity) in lines.iter().zip(&quantities) {
                sqlx::query(
                    "INSERT INTO order_lines (order_id, sku, name, quantity, unit_cents) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(order_id)
                .bind(&products[i].0)
                .bind(&products[i].1)
                .bind(quantity)
                .bind(products[i].2)
                .execute(&mut *tx)
                .await?;
            }
            let points = app::loyalty::domain::purchase_points(total, &rules, 10_000, 10_000);
            let entry = app::loyalty::ssr::Entry {
                user_id,
                bucket: app::loyalty::ssr::Bucket::Available,
                delta: points,
                kind: "fulfil",
                source: format!("order:{order_id}:fulfil"),
                reason: format!("Order #{order_id} shipped"),
                actor_id: None,
            };
            app::loyalty::ssr::append(&mut tx, &entry, created_at).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        tx.commit().await?;
        written += batch;
        progress.set_position(written);
    }
    progress.finish_and_clear();

    // Imported history: counters are rebuilt from the order lines in one statement rather
    // than replayed as live events.
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO product_stats (sku, views, units_sold, orders) \
         SELECT sku, 0, CAST(SUM(quantity) AS BIGINT), COUNT(*) FROM order_lines GROUP BY sku \
         ON CONFLICT (sku) DO UPDATE SET units_sold = excluded.units_sold, orders = excluded.orders",
    )
    .execute(&mut *tx)
    .await?;
    app::recommendations::ssr::rebuild(&mut tx).await?;
    app::pricing::signals::rebuild_sales(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(n_orders, "demo orders seeded");
    seed_analytics(db, orders_before, n_orders, &mut rng).await?;
    seed_reviews(db, &shopper_ids, &rules).await?;
    seed_community(db, &shopper_ids).await?;
    Ok(())
}

/// Demo topics: (category, title, opening post, replies).
const TOPICS: &[(&str, &str, &str, &[&str])] = &[
    (
        "coffee",
        "Best grind size for a moka pot?",
        "I keep getting a bitter cup from my moka pot.\n\nIs a *finer* grind the culprit, or the heat?",
        &[
            "Go a bit coarser than espresso and keep the heat low. Take it off as soon as it gurgles.",
            "Pre-heating the water in a kettle made the biggest difference for me.",
        ],
    ),
    (
        "tea",
        "How long do you steep green tea?",
        "Two minutes at 80 °C works for me, but I would love to hear other routines.",
        &["Sencha: one minute, then a second infusion of thirty seconds. Never boiling water!"],
    ),
    (
        "brewing",
        "Pour-over or French press for a weekend breakfast?",
        "Cooking for four this weekend. Which one would you pick for a relaxed breakfast?",
        &["French press: one batch for everyone, and nobody has to stand over the kettle."],
    ),
    (
        "mugs",
        "Do double-walled mugs really keep coffee warm?",
        "Thinking of buying a pair. Do they make a difference or is it marketing?",
        &[],
    ),
];

/// A few community topics with replies from premium demo shoppers, published through the
/// same approval path as moderated posts, and one reply left waiting in the queue.
async fn seed_community(db: &Db, shopper_ids: &[i64]) -> anyhow::Result<()> {
    use app::community::domain::TopicDraft;
    use app::community::ssr::{approve_imported, submit_post, NewPost};
    let err = |e: app::shared::AppError| anyhow::anyhow!("seeding the community: {e}");
    let n_topics: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM community_topics").fetch_one(db.pool()).await?;
    if n_topics > 0 || shopper_ids.is_empty() {
        return Ok(());
    }
    let shopper = |n: usize| {
        let i = n % shopper_ids.len();
        app::accounts::domain::User {
            id: shopper_ids[i],
            email: format!("shopper{:02}@demo.mercato.test", i + 1),
            display_name: FIRST_NAMES[i].to_string(),
            role: app::accounts::domain::Role::Shopper,
        }
    };
    let mut replies_ids = Vec::new();
    let mut n_author = 0;
    for (category, title, body, replies) in TOPICS {
        let draft = TopicDraft::parse(category, title, body).map_err(|e| anyhow::anyhow!("{}", e.message))?;
        let opening = submit_post(db, &shopper(n_author), &NewPost::Topic(draft)).await.map_err(err)?;
        // The opening post is approved first, so its topic takes replies.
        approve_imported(db, &[opening.id]).await.map_err(err)?;
        for reply in *replies {
            n_author += 1;
            let reply = NewPost::Reply { topic_id: opening.topic_id, body: reply.to_string() };
            let saved = submit_post(db, &shopper(n_author), &reply).await.map_err(err)?;
            replies_ids.push(saved.id);
        }
        n_author += 1;
    }
    // The last reply stays in the moderation queue.
    let waiting = replies_ids.pop();
    approve_imported(db, &replies_ids).await.map_err(err)?;
    tracing::info!(topics = TOPICS.len(), waiting = waiting.is_some(), "demo community seeded");
    Ok(())
}

/// Browsing sessions seeded at most.
const MAX_BROWSING_SESSIONS: u64 = 20_000;

/// Analytics of the imported history: a session of page views before each order, and twice
/// as many browsing sessions that bought nothing (up to [`MAX_BROWSING_SESSIONS`]), through
/// the same session rule as live events, written as one rollup.
async fn seed_analytics(db: &Db, orders_before: i64, n_orders: u64, rng: &mut SplitMix64) -> anyhow::Result<()> {
    use app::admin::domain::{metric, Rollup, Touch};
    use app::recommendations::domain::Kind;
    let now = now_ms();
    let sixty_days_ms = 60 * 24 * 3600 * 1000_u64;
    let mut rollup = Rollup::default();
    let mut tx = db.begin_write().await?;
    app::admin::ssr::rollup_imported_orders(&mut tx, &mut rollup, orders_before, |user_id| {
        format!("demo-shopper-{user_id}")
    })
    .await?;
    // Capped: a seed for scale tests (millions of order lines) needs no more browsing.
    let mut visits: Vec<(String, i64, i64)> = (0..(n_orders * 2).min(MAX_BROWSING_SESSIONS))
        .map(|_| {
            let visitor = format!("demo-visitor-{}", rng.below(n_orders.max(1)));
            (visitor, now - rng.below(sixty_days_ms) as i64, 1 + rng.below(5) as i64)
        })
        .collect();
    // The session rule reads each visitor's activity in time order.
    visits.sort();
    for (visitor, at, pages) in &visits {
        for page in 0..*pages {
            rollup.touch(visitor, at + page * 45_000, Touch::Page);
            // Past the first page, a product page with its two recommendation blocks; one
            // visitor in twenty-five follows one.
            if page > 0 {
                let day = app::admin::domain::day_of(*at);
                for kind in [Kind::FrequentlyBoughtTogether, Kind::Upsell] {
                    rollup.count(day, metric::REC_SHOWN, kind.key(), 1);
                }
                if rng.below(25) == 0 {
                    let kind = if rng.below(2) == 0 { Kind::FrequentlyBoughtTogether } else { Kind::Upsell };
                    rollup.count(day, metric::REC_CLICKED, kind.key(), 1);
                }
            }
        }
    }
    app::admin::ssr::write(&mut tx, &rollup).await?;
    tx.commit().await?;
    tracing::info!(sessions = visits.len(), "demo analytics seeded");
    Ok(())
}

/// Review texts by rating (index 0 = 1 star): (title, body).
const REVIEW_TEXTS: [[(&str, &str); 2]; 5] = [
    [
        ("Not for me", "Arrived on time, but it did not live up to the description. I would not buy it again."),
        ("Disappointed", "The quality was below what I expected for the price."),
    ],
    [
        ("Just okay", "It does the job, barely. There are better options in this shop."),
        ("Mixed feelings", "Some things are good, but it broke my routine more than it helped."),
    ],
    [
        ("Decent", "Solid for everyday use. Nothing special, nothing wrong."),
        ("Fair value", "Good for the price. I might try something else next time."),
    ],
    [
        ("Very good", "Exactly as described and well packed. Would recommend."),
        ("Happy with it", "Great quality; it has become part of my morning."),
    ],
    [
        ("Excellent", "Wonderful. I have already ordered a second one as a gift."),
        ("Best in the shop", "Outstanding quality, fast delivery, and it tastes or works just right."),
    ],
];

/// Reviews from demo shoppers of products they bought (most published, a few waiting in the
/// moderation queue), and a few questions answered by other buyers.
async fn seed_reviews(db: &Db, shopper_ids: &[i64], rules: &app::loyalty::domain::LoyaltyRules) -> anyhow::Result<()> {
    use app::reviews::domain::{ReviewDraft, Target};
    let err = |e: app::shared::AppError| anyhow::anyhow!("seeding reviews: {e}");
    // A second seed (more orders on top, as `mercato bench-recs` does) keeps the reviews it
    // has: the same shoppers writing the same texts again is what the pre-screen refuses.
    let n_reviews: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reviews").fetch_one(db.pool()).await?;
    if n_reviews > 0 {
        return Ok(());
    }
    let mut rng = SplitMix64(0x5EED_BEEF);
    let mut approve = Vec::new();
    let mut first_buyers: Vec<(String, i64)> = Vec::new();
    for (i, &user_id) in shopper_ids.iter().enumerate() {
        let user = app::accounts::domain::User {
            id: user_id,
            email: format!("shopper{:02}@demo.mercato.test", i + 1),
            display_name: FIRST_NAMES[i].to_string(),
            role: app::accounts::domain::Role::Shopper,
        };
        let bought: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.user_id = $1 \
             ORDER BY l.sku",
        )
        .bind(user_id)
        .fetch_all(db.pool())
        .await?;
        let picked: Vec<&String> = bought.iter().filter(|_| rng.below(3) == 0).take(4).collect();
        let mut used = Vec::new();
        for sku in picked {
            // Mostly happy customers, as in real shops, with an honest tail.
            let rating = [1, 2, 3, 4, 4, 5, 5, 5][rng.below(8) as usize];
            let first = rng.below(2) as usize;
            // The pre-screen refuses an author's repeated text, so nobody writes the same twice.
            let Some(text) = [first, 1 - first].into_iter().find(|&i| !used.contains(&(rating, i))) else { continue };
            used.push((rating, text));
            let (title, body) = REVIEW_TEXTS[rating as usize - 1][text];
            let draft = ReviewDraft::parse(rating, title, body).map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let saved = app::reviews::ssr::submit_review(db, rules, &user, sku, &draft).await.map_err(err)?;
            if rng.below(10) != 0 {
                approve.push(saved.review.id);
            }
            if !first_buyers.iter().any(|(s, _)| s == sku) {
                first_buyers.push((sku.clone(), user_id));
            }
        }
    }
    app::reviews::ssr::approve_imported(db, rules, Target::Review, &approve).await.map_err(err)?;
    // Questions from one shopper, answered by another buyer of the product.
    let questions = ["Is it easy to clean?", "How long does a bag last for two people?", "Does it come gift-wrapped?"];
    // Distinct answers: the pre-screen refuses one author's repeated text.
    let answers = [
        "Yes, in my experience it rinses clean in a minute.",
        "About two weeks for us, with two cups a day each.",
        "Mine came in a plain box, but the shop added a card.",
    ];
    for (n, (sku, answerer)) in first_buyers.iter().take(questions.len()).enumerate() {
        let Some(&asker) = shopper_ids.iter().find(|&&id| id != *answerer) else { continue };
        let asker = app::accounts::domain::User {
            id: asker,
            email: String::new(),
            display_name: "Asker".into(),
            role: app::accounts::domain::Role::Shopper,
        };
        let question = app::reviews::ssr::ask(db, &asker, sku, questions[n]).await.map_err(err)?;
        app::reviews::ssr::approve_imported(db, rules, Target::Question, &[question.id]).await.map_err(err)?;
        let buyer = app::accounts::domain::User {
            id: *answerer,
            email: String::new(),
            display_name: String::new(),
            role: app::accounts::domain::Role::Shopper,
        };
        let answer = app::reviews::ssr::answer(db, &buyer, question.id, answers[n]).await.map_err(err)?;
        app::reviews::ssr::approve_imported(db, rules, Target::Answer, &[answer.id]).await.map_err(err)?;
    }
    tracing::info!(reviews = approve.len(), "demo reviews seeded");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalog_is_a_real_shop() {
        let catalog = demo_catalog();
        assert!(catalog.products.len() >= 40);
        assert!(catalog.categories.len() >= 5);
        let stocks: Vec<i64> = catalog.products.iter().map(|p| p.stock).collect();
        assert!(stocks.contains(&0), "some products are sold out");
        assert!(stocks.iter().any(|&s| s > 100) && stocks.iter().all(|&s| (0..=200).contains(&s)));
        for product in &catalog.products {
            assert!(app::shared::Sku::parse(&product.sku).is_ok(), "{}", product.sku);
            assert!(product.cost_cents < product.base_cents, "{} sells below cost", product.sku);
            assert!(catalog.categories.iter().any(|c| c.slug == product.category));
            let image = format!("{}/../public{}", env!("CARGO_MANIFEST_DIR"), product.image);
            assert!(std::path::Path::new(&image).exists(), "missing image {image}");
        }
    }
}
