//! Experiments on the server: the in-memory catalog every request assigns from, exposures,
//! conversion attribution (an outbox consumer), results, segments and banners.

use super::domain::{
    Assignments, Banner, BannerContent, Decision, Experiment, Hero, HeroContent, Segment, Status, Variant, HERO,
};
use super::results::{ExperimentResults, RawCounts};
use crate::db::Db;
use crate::events::{self, buffer::EventBuffer, Event};
use crate::shared::{now_ms, AppError};
use serde::Deserialize;
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

/// The outbox consumer that records exposures and attributes conversions.
pub const EXPERIMENTS_CONSUMER: &str = "experiments";

const MS_PER_DAY: i64 = 86_400_000;

/// Running experiments, kept in memory so that assigning a visitor costs a hash, not a query.
/// Reloaded after every admin change on this server and every few seconds (other servers).
#[derive(Clone)]
pub struct ExperimentCatalog {
    experiments: Arc<RwLock<Arc<Vec<Experiment>>>>,
    /// `MERCATO_EXPERIMENTS=off`: everyone sees each experiment's control; nothing is recorded.
    enabled: bool,
    exposures: Arc<Mutex<ExposureLog>>,
}

/// Exposures already published today by this server, so a visitor who reloads the home page
/// does not add an event per view. The database key (experiment, visitor, day) is the real
/// guarantee; this only spares the outbox, so it remembers a 64-bit hash of each pair (no
/// allocation per page view; a collision at worst skips one analytics event).
#[derive(Default)]
struct ExposureLog {
    day: i64,
    seen: HashSet<u64>,
}

fn exposure_key(experiment: &str, visitor_id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (experiment, visitor_id).hash(&mut hasher);
    hasher.finish()
}

/// Distinct (experiment, visitor) pairs remembered per day at most.
const MAX_REMEMBERED_EXPOSURES: usize = 200_000;

impl ExperimentCatalog {
    pub fn new(enabled: bool) -> ExperimentCatalog {
        ExperimentCatalog { experiments: Arc::default(), enabled, exposures: Arc::default() }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Every experiment, whatever its status.
    pub fn all(&self) -> Arc<Vec<Experiment>> {
        self.experiments.read().map(|guard| guard.clone()).unwrap_or_default()
    }

    pub fn get(&self, key: &str) -> Option<Experiment> {
        self.all().iter().find(|e| e.key == key).cloned()
    }

    #[tracing::instrument(name = "experiments.reload", skip_all)]
    pub async fn reload(&self, db: &Db) -> Result<(), sqlx::Error> {
        let experiments = load_experiments(db).await?;
        if let Ok(mut guard) = self.experiments.write() {
            *guard = Arc::new(experiments);
        }
        Ok(())
    }

    /// Completes a visitor's assignments with every running experiment they are not yet in.
    /// Returns whether anything was added (then the cookie must be set). `segment` is only
    /// called for experiments that target segments (it may query the database).
    pub async fn assign<F, Fut>(&self, visitor_id: &str, assignments: &mut Assignments, segment: F) -> bool
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Segment>,
    {
        if !self.enabled || visitor_id.is_empty() {
            return false;
        }
        let experiments = self.all();
        let mut segment_fn = Some(segment);
        let mut segment_value: Option<Segment> = None;
        let mut changed = false;
        for experiment in experiments.iter().filter(|e| e.status == Status::Running) {
            if assignments.get(&experiment.key).is_some_and(|v| experiment.has_variant(v)) {
                continue;
            }
            let segment = if experiment.target_segments.is_empty() {
                Segment::New
            } else {
                match (segment_value, segment_fn.take()) {
                    (Some(value), _) => value,
                    (None, Some(compute)) => {
                        let value = compute().await;
                        segment_value = Some(value);
                        value
                    }
                    (None, None) => Segment::New,
                }
            };
            if !experiment.targets(segment) {
                continue;
            }
            let decision = experiment.decide(visitor_id, segment, None);
            if decision.in_experiment {
                assignments.set(&experiment.key, &decision.served);
                changed = true;
            }
        }
        changed
    }

    /// What the visitor sees of `experiment` (the control for everyone while experiments are off).
    fn decide(
        &self,
        experiment: &Experiment,
        visitor_id: &str,
        segment: Segment,
        assignments: &Assignments,
    ) -> Decision {
        if !self.enabled {
            let control = experiment.control().map(|v| v.key.clone()).unwrap_or_default();
            return Decision { served: control, in_experiment: false };
        }
        experiment.decide(visitor_id, segment, assignments.get(&experiment.key))
    }

    /// The hero for this visitor; records the exposure when they are in the experiment.
    pub fn hero(&self, events: &EventBuffer, visitor_id: &str, segment: Segment, assignments: &Assignments) -> Hero {
        let experiments = self.all();
        let Some(experiment) = experiments.iter().find(|e| e.key == HERO) else {
            return super::domain::default_hero();
        };
        let decision = self.expose(experiment, events, visitor_id, segment, assignments);
        let content = experiment
            .variant(&decision.served)
            .map(|v| v.content.clone())
            .unwrap_or_else(|| super::domain::default_hero().content);
        Hero { experiment: HERO.to_string(), variant: decision.served, content }
    }

    /// Records the hero's exposure for a page that was not rendered (served from the page
    /// cache): what [`Self::hero`] records, without building the hero.
    pub fn record_hero_exposure(
        &self,
        events: &EventBuffer,
        visitor_id: &str,
        segment: Segment,
        assignments: &Assignments,
    ) {
        if let Some(experiment) = self.all().iter().find(|e| e.key == HERO) {
            self.expose(experiment, events, visitor_id, segment, assignments);
        }
    }

    fn expose(
        &self,
        experiment: &Experiment,
        events: &EventBuffer,
        visitor_id: &str,
        segment: Segment,
        assignments: &Assignments,
    ) -> Decision {
        let decision = self.decide(experiment, visitor_id, segment, assignments);
        if decision.in_experiment {
            self.record_exposure(events, &experiment.key, visitor_id, &decision.served);
        }
        decision
    }

    /// Publishes an exposure unless this server already did today.
    pub fn record_exposure(&self, events: &EventBuffer, experiment: &str, visitor_id: &str, variant: &str) {
        let now = now_ms();
        let day = now.div_euclid(MS_PER_DAY);
        if let Ok(mut log) = self.exposures.lock() {
            if log.day != day || log.seen.len() >= MAX_REMEMBERED_EXPOSURES {
                log.day = day;
                log.seen.clear();
            }
            if !log.seen.insert(exposure_key(experiment, visitor_id)) {
                return;
            }
        }
        events.publish(
            events::kind::EXPERIMENT_EXPOSED,
            format!("experiment:{experiment}"),
            serde_json::json!({ "experiment": experiment, "variant": variant, "visitor_id": visitor_id, "at": now }),
        );
    }
}

/// Keeps the catalog fresh when another server changes an experiment.
pub async fn run_reloader(db: Db, catalog: ExperimentCatalog, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            changed = stop.changed() => if changed.is_err() { break },
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {
                if let Err(error) = catalog.reload(&db).await {
                    tracing::warn!(%error, "could not reload experiments");
                }
            }
        }
    }
}

fn variant_from_row(row: &sqlx::any::AnyRow) -> Result<(String, Variant), sqlx::Error> {
    Ok((
        row.try_get("experiment_key")?,
        Variant {
            key: row.try_get("key")?,
            weight_bp: row.try_get("weight_bp")?,
            content: HeroContent {
                headline: row.try_get("headline")?,
                subcopy: row.try_get("subcopy")?,
                cta_label: row.try_get("cta_label")?,
                cta_href: row.try_get("cta_href")?,
                image: row.try_get("image")?,
            },
        },
    ))
}

pub async fn load_experiments(db: &Db) -> Result<Vec<Experiment>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT key, name, status, coverage_bp, target_segments, winner FROM experiments ORDER BY key")
            .fetch_all(db.pool())
            .await?;
    let variant_rows = sqlx::query(
        "SELECT experiment_key, key, weight_bp, headline, subcopy, cta_label, cta_href, image \
         FROM experiment_variants ORDER BY experiment_key, position",
    )
    .fetch_all(db.pool())
    .await?;
    let mut variants: BTreeMap<String, Vec<Variant>> = BTreeMap::new();
    for row in &variant_rows {
        let (experiment, variant) = variant_from_row(row)?;
        variants.entry(experiment).or_default().push(variant);
    }
    rows.iter()
        .map(|row| {
            let key: String = row.try_get("key")?;
            let status: String = row.try_get("status")?;
            let targets: String = row.try_get("target_segments")?;
            Ok(Experiment {
                variants: variants.remove(&key).unwrap_or_default(),
                key,
                name: row.try_get("name")?,
                status: Status::parse(&status).unwrap_or(Status::Draft),
                coverage_bp: row.try_get("coverage_bp")?,
                target_segments: targets.split(',').filter_map(Segment::parse).collect(),
                winner: row.try_get("winner")?,
            })
        })
        .collect()
}

/// Creates or replaces an experiment and its variants; stamps start and stop times.
#[tracing::instrument(name = "experiments.save", skip(db, experiment), fields(key = %experiment.key))]
pub async fn save_experiment(db: &Db, experiment: &Experiment) -> Result<(), AppError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let previous: Option<String> = sqlx::query_scalar("SELECT status FROM experiments WHERE key = $1")
        .bind(&experiment.key)
        .fetch_optional(&mut *tx)
        .await?;
    let status = experiment.status.as_str();
    let targets = experiment.target_segments.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
    sqlx::query(
        "INSERT INTO experiments (key, name, status, coverage_bp, target_segments, winner, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (key) DO UPDATE SET name = $2, status = $3, coverage_bp = $4, target_segments = $5, \
         winner = $6, updated_at = $7",
    )
    .bind(&experiment.key)
    .bind(&experiment.name)
    .bind(status)
    .bind(experiment.coverage_bp)
    .bind(targets)
    .bind(experiment.winner.clone())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if previous.as_deref() != Some(status) {
        let column = match experiment.status {
            Status::Running => Some("started_at"),
            Status::Stopped => Some("stopped_at"),
            Status::Draft => None,
        };
        if let Some(column) = column {
            sqlx::query(&format!("UPDATE experiments SET {column} = $1 WHERE key = $2"))
                .bind(now)
                .bind(&experiment.key)
                .execute(&mut *tx)
                .await?;
        }
    }
    sqlx::query("DELETE FROM experiment_variants WHERE experiment_key = $1")
        .bind(&experiment.key)
        .execute(&mut *tx)
        .await?;
    for (position, variant) in experiment.variants.iter().enumerate() {
        sqlx::query(
            "INSERT INTO experiment_variants \
             (experiment_key, key, position, weight_bp, headline, subcopy, cta_label, cta_href, image) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&experiment.key)
        .bind(&variant.key)
        .bind(position as i64)
        .bind(variant.weight_bp)
        .bind(&variant.content.headline)
        .bind(&variant.content.subcopy)
        .bind(&variant.content.cta_label)
        .bind(&variant.content.cta_href)
        .bind(&variant.content.image)
        .execute(&mut *tx)
        .await?;
    }
    events::publish(
        &mut tx,
        events::kind::EXPERIMENT_CHANGED,
        &format!("experiment:{}", experiment.key),
        &serde_json::json!({ "experiment": experiment.key, "status": status, "winner": experiment.winner }),
    )
    .await?;
    tx.commit().await?;
    db.wake_outbox();
    Ok(())
}

/// The segment of the caller: anonymous visitors are `new`.
#[tracing::instrument(name = "experiments.segment", skip(db))]
pub async fn segment_of(db: &Db, user_id: Option<i64>, high_value_cents: i64) -> Result<Segment, AppError> {
    let Some(user_id) = user_id else {
        return Ok(Segment::New);
    };
    let row = sqlx::query(
        "SELECT COUNT(*) AS n_orders, CAST(COALESCE(SUM(total_cents), 0) AS BIGINT) AS lifetime \
         FROM orders WHERE user_id = $1 AND status <> 'cancelled'",
    )
    .bind(user_id)
    .fetch_one(db.pool())
    .await?;
    Ok(Segment::of(row.try_get("n_orders")?, row.try_get("lifetime")?, high_value_cents))
}

pub async fn banner(db: &Db, segment: Segment) -> Result<Option<Banner>, AppError> {
    let row = sqlx::query("SELECT headline, body, cta_label, cta_href FROM banners WHERE segment = $1")
        .bind(segment.as_str())
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Banner { segment, content: banner_content(&row)? }))
}

fn banner_content(row: &sqlx::any::AnyRow) -> Result<BannerContent, sqlx::Error> {
    Ok(BannerContent {
        headline: row.try_get("headline")?,
        body: row.try_get("body")?,
        cta_label: row.try_get("cta_label")?,
        cta_href: row.try_get("cta_href")?,
    })
}

pub async fn banners(db: &Db) -> Result<Vec<Banner>, AppError> {
    let rows =
        sqlx::query("SELECT segment, headline, body, cta_label, cta_href FROM banners").fetch_all(db.pool()).await?;
    let mut banners = Vec::new();
    for row in &rows {
        let segment: String = row.try_get("segment")?;
        if let Some(segment) = Segment::parse(&segment) {
            banners.push(Banner { segment, content: banner_content(row)? });
        }
    }
    banners.sort_by_key(|b| b.segment);
    Ok(banners)
}

pub async fn save_banner(db: &Db, banner: &Banner) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO banners (segment, headline, body, cta_label, cta_href, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (segment) DO UPDATE SET headline = $2, body = $3, cta_label = $4, cta_href = $5, updated_at = $6",
    )
    .bind(banner.segment.as_str())
    .bind(&banner.content.headline)
    .bind(&banner.content.body)
    .bind(&banner.content.cta_label)
    .bind(&banner.content.cta_href)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Deserialize)]
struct Exposed {
    experiment: String,
    variant: String,
    visitor_id: String,
    at: i64,
}

#[derive(Deserialize)]
struct Converted {
    #[serde(default)]
    visitor_id: Option<String>,
    #[serde(default)]
    total_cents: Option<i64>,
}

/// Outbox consumer: `experiment_exposed` → one exposure row per visitor, experiment and day;
/// `cart_item_added` and `order_placed` → one conversion row with the visitor it came from.
/// [`results`] attributes conversions to variants by joining the two on the visitor and the
/// time of the change, so delivery order does not matter.
pub async fn apply_experiments(conn: &mut AnyConnection, event: &Event) -> Result<(), sqlx::Error> {
    match event.kind.as_str() {
        events::kind::EXPERIMENT_EXPOSED => {
            let Ok(exposed) = serde_json::from_value::<Exposed>(event.payload.clone()) else {
                tracing::warn!(event_id = event.id, "malformed exposure ignored");
                return Ok(());
            };
            sqlx::query(
                "INSERT INTO experiment_exposures (experiment_key, visitor_id, day, variant, first_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (experiment_key, visitor_id, day) DO NOTHING",
            )
            .bind(&exposed.experiment)
            .bind(&exposed.visitor_id)
            .bind(exposed.at.div_euclid(MS_PER_DAY))
            .bind(&exposed.variant)
            .bind(exposed.at)
            .execute(&mut *conn)
            .await?;
        }
        events::kind::CART_ITEM_ADDED | events::kind::ORDER_PLACED => {
            let Ok(converted) = serde_json::from_value::<Converted>(event.payload.clone()) else {
                return Ok(());
            };
            let Some(visitor_id) = converted.visitor_id.filter(|v| !v.is_empty()) else {
                return Ok(());
            };
            let (kind, revenue) = if event.kind == events::kind::ORDER_PLACED {
                ("purchase", converted.total_cents.unwrap_or(0))
            } else {
                ("add_to_cart", 0)
            };
            sqlx::query(
                "INSERT INTO visitor_conversions (event_id, visitor_id, kind, revenue_cents, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(event.id)
            .bind(&visitor_id)
            .bind(kind)
            .bind(revenue)
            .bind(event.created_at)
            .execute(&mut *conn)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Counts behind an experiment's results (the statistics are computed by [`super::results`]).
#[tracing::instrument(name = "experiments.results", skip(db))]
pub async fn results(db: &Db, experiment: &Experiment) -> Result<ExperimentResults, AppError> {
    let key = &experiment.key;
    let mut raw: BTreeMap<String, RawCounts> = BTreeMap::new();
    let rows = sqlx::query(
        "SELECT variant, COUNT(*) AS n FROM (SELECT visitor_id, MIN(variant) AS variant \
         FROM experiment_exposures WHERE experiment_key = $1 GROUP BY visitor_id) e GROUP BY variant",
    )
    .bind(key)
    .fetch_all(db.pool())
    .await?;
    for row in &rows {
        let variant: String = row.try_get("variant")?;
        raw.entry(variant).or_default().visitors = row.try_get::<i64, _>("n")?.max(0) as u64;
    }
    // Each visitor counts once, for the variant of their first exposure; a conversion counts
    // when it happened at or after that exposure.
    let rows = sqlx::query(
        "SELECT e.variant, c.kind, COUNT(DISTINCT c.visitor_id) AS n, \
         CAST(COALESCE(SUM(c.revenue_cents), 0) AS BIGINT) AS revenue \
         FROM (SELECT visitor_id, MIN(variant) AS variant, MIN(first_at) AS first_at \
               FROM experiment_exposures WHERE experiment_key = $1 GROUP BY visitor_id) e \
         JOIN visitor_conversions c ON c.visitor_id = e.visitor_id AND c.created_at >= e.first_at \
         GROUP BY e.variant, c.kind",
    )
    .bind(key)
    .fetch_all(db.pool())
    .await?;
    for row in &rows {
        let variant: String = row.try_get("variant")?;
        let kind: String = row.try_get("kind")?;
        let n = row.try_get::<i64, _>("n")?.max(0) as u64;
        let counts = raw.entry(variant).or_default();
        match kind.as_str() {
            "purchase" => {
                counts.purchasers = n;
                counts.revenue_cents = row.try_get("revenue")?;
            }
            "add_to_cart" => counts.adders = n,
            _ => {}
        }
    }
    let rows = sqlx::query(
        "SELECT day, variant, COUNT(*) AS n FROM experiment_exposures WHERE experiment_key = $1 \
         GROUP BY day, variant ORDER BY day",
    )
    .bind(key)
    .fetch_all(db.pool())
    .await?;
    let mut daily: BTreeMap<i64, BTreeMap<String, u64>> = BTreeMap::new();
    for row in &rows {
        let day: i64 = row.try_get("day")?;
        let variant: String = row.try_get("variant")?;
        daily.entry(day).or_default().insert(variant, row.try_get::<i64, _>("n")?.max(0) as u64);
    }
    Ok(super::results::compute(experiment, &raw, &daily))
}

/// The caller's assignments after the server completed them (a request extension set by the
/// server's experiments middleware; the page cache keys on it).
#[derive(Clone, Debug, Default)]
pub struct RequestAssignments(pub Assignments);

/// The caller's assignments inside a server function.
pub async fn request_assignments() -> Assignments {
    leptos_axum::extract::<axum::Extension<RequestAssignments>>().await.map(|ext| ext.0 .0).unwrap_or_default()
}
