//! Plans, subscriptions, invoices and entitlement checks (server only).
//!
//! Invariants:
//! - A plan edit appends a version; a subscription points at the version it bought, so its
//!   price and entitlements do not move until the subscriber changes plan.
//! - Every subscription change writes, in one transaction: the subscription, its invoice
//!   (if any), an audit row, an outbox event, and clears the cached entitlements of the
//!   account's sessions, so the next request of any app server sees the new plan.
//! - Downgrades and cancellations take effect at the period end, never before.

use super::domain::{
    add_month, cheapest_plan_with, classify, pause_at, upgrade_lines, Change, Entitlements, Feature, Gate, InvoiceRow,
    Plan, PlanEdit, SubscriptionView, VersionStats, FREE_PLAN,
};
use crate::accounts::ssr::{token_hash, Identity};
use crate::db::Db;
use crate::events;
use crate::shared::{format_utc_date, now_ms, AppError};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The current version of every plan, kept for a moment in memory: anonymous visitors'
/// entitlements and "needs plan X" answers cost no query. Two seconds is how long another
/// app server may show an edited free plan's old features.
#[derive(Clone, Default)]
pub struct PlanCache {
    current: Arc<RwLock<Option<LoadedPlans>>>,
}

/// The plans and when they were read.
type LoadedPlans = (Instant, Arc<Vec<Plan>>);

const PLAN_CACHE_TTL: Duration = Duration::from_secs(2);

impl PlanCache {
    pub async fn plans(&self, db: &Db) -> Result<Arc<Vec<Plan>>, AppError> {
        if let Some((loaded_at, plans)) = self.current.read().ok().and_then(|cached| cached.clone()) {
            if loaded_at.elapsed() < PLAN_CACHE_TTL {
                return Ok(plans);
            }
        }
        let mut conn = db.pool().acquire().await?;
        let plans = Arc::new(current_plans(&mut conn).await?);
        if let Ok(mut cached) = self.current.write() {
            *cached = Some((Instant::now(), plans.clone()));
        }
        Ok(plans)
    }

    pub fn invalidate(&self) {
        if let Ok(mut cached) = self.current.write() {
            *cached = None;
        }
    }
}

/// The outcome of asking a payment provider to collect an invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    /// Paid now (a card on file was charged).
    Paid,
    /// Waiting: the invoice stays open until the provider or the owner marks it paid.
    Pending,
}

/// What a provider needs to know to collect an invoice.
#[derive(Clone, Debug)]
pub struct InvoiceToCollect {
    pub id: i64,
    pub user_id: i64,
    pub total_cents: i64,
}

pub type ProviderFuture<'a> = Pin<Box<dyn Future<Output = Result<Collection, AppError>> + Send + 'a>>;

/// Where subscription money comes from. Called after the invoice is committed, never inside
/// a database transaction, so a slow processor holds no locks.
pub trait PaymentProvider: Send + Sync {
    /// Stored on each invoice.
    fn name(&self) -> &'static str;
    fn collect<'a>(&'a self, invoice: &'a InvoiceToCollect) -> ProviderFuture<'a>;
}

/// The built-in provider: invoices wait for the shop owner to record the payment (bank
/// transfer, cash) in `/admin/plans`. Lets a shop without a card processor sell plans.
pub struct ManualInvoices;

impl PaymentProvider for ManualInvoices {
    fn name(&self) -> &'static str {
        "manual"
    }

    fn collect<'a>(&'a self, _invoice: &'a InvoiceToCollect) -> ProviderFuture<'a> {
        Box::pin(async { Ok(Collection::Pending) })
    }
}

fn plan_from_row(row: &sqlx::any::AnyRow) -> Result<Plan, sqlx::Error> {
    let features: String = row.try_get("features")?;
    Ok(Plan {
        key: row.try_get("key")?,
        name: row.try_get("name")?,
        rank: row.try_get("rank")?,
        version: row.try_get("version")?,
        price_cents: row.try_get("price_cents")?,
        features: Feature::parse_list(&features),
    })
}

const PLAN_COLUMNS: &str = "p.key, p.name, p.rank, v.version, v.price_cents, v.features";

/// Every plan at its current version, cheapest rank first.
pub async fn current_plans(conn: &mut AnyConnection) -> Result<Vec<Plan>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {PLAN_COLUMNS} FROM plans p JOIN plan_versions v ON v.plan_key = p.key AND v.version = p.current_version \
         ORDER BY p.rank"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(plan_from_row).collect()
}

async fn plan_version(conn: &mut AnyConnection, key: &str, version: i64) -> Result<Plan, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {PLAN_COLUMNS} FROM plans p JOIN plan_versions v ON v.plan_key = p.key \
         WHERE p.key = $1 AND v.version = $2"
    ))
    .bind(key)
    .bind(version)
    .fetch_one(&mut *conn)
    .await?;
    plan_from_row(&row)
}

fn find<'a>(plans: &'a [Plan], key: &str) -> Result<&'a Plan, AppError> {
    plans.iter().find(|plan| plan.key == key).ok_or_else(|| AppError::NotFound(format!("plan '{key}'")))
}

#[derive(Clone, Debug)]
struct SubscriptionRow {
    plan_key: String,
    plan_version: i64,
    period_start: i64,
    period_end: i64,
    next_plan_key: Option<String>,
}

async fn load_subscription(
    conn: &mut AnyConnection,
    user_id: i64,
    for_update: &str,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT plan_key, plan_version, period_start, period_end, next_plan_key FROM subscriptions \
         WHERE user_id = $1{for_update}"
    ))
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        Ok(SubscriptionRow {
            plan_key: row.try_get("plan_key")?,
            plan_version: row.try_get("plan_version")?,
            period_start: row.try_get("period_start")?,
            period_end: row.try_get("period_end")?,
            next_plan_key: row.try_get("next_plan_key")?,
        })
    })
    .transpose()
}

/// When the account's oldest unpaid invoice was issued.
async fn oldest_open_invoice(conn: &mut AnyConnection, user_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT MIN(created_at) FROM invoices WHERE user_id = $1 AND status = 'open'")
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await
}

/// What the account may use at `now`, from the database (also read inside other
/// transactions, e.g. checkout's plan multiplier for points).
pub async fn compute_entitlements(
    conn: &mut AnyConnection,
    user_id: i64,
    now: i64,
) -> Result<Entitlements, sqlx::Error> {
    let plans = current_plans(conn).await?;
    let free = plans.iter().find(|plan| plan.is_free()).cloned().unwrap_or_else(|| Plan {
        key: FREE_PLAN.into(),
        name: "Free".into(),
        rank: 0,
        version: 0,
        price_cents: 0,
        features: vec![],
    });
    let Some(subscription) = load_subscription(conn, user_id, "").await? else {
        return Ok(Entitlements::of(&free, None));
    };
    let pause_at = pause_at(oldest_open_invoice(conn, user_id).await?);
    if pause_at.is_some_and(|at| now >= at) {
        // Paying the invoice clears the cached answer (see `record_payment`).
        return Ok(Entitlements { overdue: true, ..Entitlements::of(&free, None) });
    }
    if now < subscription.period_end {
        let plan = plan_version(conn, &subscription.plan_key, subscription.plan_version).await?;
        // At the period end a renewal or a scheduled downgrade may change the answer, and
        // at the end of an unpaid invoice's grace period the features pause.
        let until = pause_at.map_or(subscription.period_end, |at| at.min(subscription.period_end));
        return Ok(Entitlements::of(&plan, Some(until)));
    }
    // The period is over but the renewal job has not run yet: a scheduled change applies
    // now (never later than promised); otherwise the plan carries on until it renews.
    match subscription.next_plan_key.as_deref() {
        Some(next) => Ok(Entitlements::of(plans.iter().find(|plan| plan.key == next).unwrap_or(&free), None)),
        None => {
            let plan = plan_version(conn, &subscription.plan_key, subscription.plan_version).await?;
            Ok(Entitlements::of(&plan, None))
        }
    }
}

/// The caller's entitlements. A logged-in account's are cached on its session row (read by
/// the identity middleware with the session), so a check costs nothing until a plan change
/// clears the cache or the period ends; a visitor's are the free plan's.
pub async fn entitlements(state: &crate::state::AppState, identity: &Identity) -> Result<Entitlements, AppError> {
    let Some(user) = &identity.user else {
        let plans = state.plans.plans(&state.db).await?;
        let free = find(&plans, FREE_PLAN)?;
        return Ok(Entitlements::of(free, None));
    };
    let now = now_ms();
    if let Some(cached) = identity.cached_entitlements.as_deref() {
        if let Ok(entitlements) = serde_json::from_str::<Entitlements>(cached) {
            if entitlements.is_valid_at(now) {
                metrics::counter!("mercato_entitlement_checks_total", "source" => "session").increment(1);
                return Ok(entitlements);
            }
        }
    }
    metrics::counter!("mercato_entitlement_checks_total", "source" => "database").increment(1);
    let mut conn = state.db.pool().acquire().await?;
    let entitlements = compute_entitlements(&mut conn, user.id, now).await?;
    if let Some(token) = identity.session_token.as_deref() {
        let json = serde_json::to_string(&entitlements).map_err(|_| AppError::Internal)?;
        sqlx::query("UPDATE sessions SET entitlements = $1 WHERE token_hash = $2")
            .bind(json)
            .bind(token_hash(token))
            .execute(&mut *conn)
            .await?;
    }
    Ok(entitlements)
}

/// The error for a feature the caller's plan lacks, naming the cheapest plan that has it.
async fn plan_required(state: &crate::state::AppState, feature: Feature) -> Result<AppError, AppError> {
    let plans = state.plans.plans(&state.db).await?;
    Ok(match cheapest_plan_with(&plans, feature) {
        Some(plan) => AppError::PlanRequired {
            feature: feature.key().into(),
            feature_name: feature.label().into(),
            plan: plan.key.clone(),
            plan_name: plan.name.clone(),
        },
        None => AppError::Forbidden,
    })
}

/// Ok when `entitlements` include `feature`; otherwise 403 naming the plan needed. Lets a
/// request that checks several features read the caller's entitlements once.
pub async fn ensure(
    state: &crate::state::AppState,
    entitlements: &Entitlements,
    feature: Feature,
) -> Result<(), AppError> {
    if entitlements.has(feature) {
        Ok(())
    } else {
        Err(plan_required(state, feature).await?)
    }
}

/// Ok when the caller's plan includes `feature`; otherwise 403 naming the plan needed.
/// Features tied to an account (wishlist, support) call `require_user` first.
pub async fn require(
    state: &crate::state::AppState,
    identity: &Identity,
    feature: Feature,
) -> Result<Entitlements, AppError> {
    let entitlements = entitlements(state, identity).await?;
    ensure(state, &entitlements, feature).await?;
    Ok(entitlements)
}

/// What a page shows for `feature` given the caller's `entitlements`: open, log in first
/// (`needs_account`), or locked.
pub async fn gate_of(
    state: &crate::state::AppState,
    identity: &Identity,
    entitlements: &Entitlements,
    feature: Feature,
    needs_account: bool,
) -> Result<Gate, AppError> {
    if needs_account && identity.user.is_none() {
        return Ok(Gate::LogIn);
    }
    match ensure(state, entitlements, feature).await {
        Ok(()) => Ok(Gate::Open),
        Err(AppError::PlanRequired { plan, plan_name, .. }) => Ok(Gate::Locked { plan, plan_name }),
        Err(error) => Err(error),
    }
}

/// [`gate_of`] for a request that checks one feature.
pub async fn gate(
    state: &crate::state::AppState,
    identity: &Identity,
    feature: Feature,
    needs_account: bool,
) -> Result<Gate, AppError> {
    if needs_account && identity.user.is_none() {
        return Ok(Gate::LogIn);
    }
    let entitlements = entitlements(state, identity).await?;
    gate_of(state, identity, &entitlements, feature, needs_account).await
}

/// An invoice line before it is stored.
struct Line {
    description: String,
    amount_cents: i64,
    plan_key: String,
    plan_version: i64,
    period_start: i64,
    period_end: i64,
}

fn period_line(plan: &Plan, start: i64, end: i64, what: &str) -> Line {
    Line {
        description: format!("{} plan, {what} ({} – {})", plan.name, format_utc_date(start), format_utc_date(end)),
        amount_cents: plan.price_cents,
        plan_key: plan.key.clone(),
        plan_version: plan.version,
        period_start: start,
        period_end: end,
    }
}

/// Stores an invoice. One whose total is not positive (an upgrade between plans of equal
/// price) has nothing to collect and is recorded as paid.
async fn create_invoice(
    conn: &mut AnyConnection,
    user_id: i64,
    provider: &str,
    lines: &[Line],
    now: i64,
) -> Result<InvoiceToCollect, sqlx::Error> {
    let total_cents: i64 = lines.iter().map(|line| line.amount_cents).sum();
    let settled = total_cents <= 0;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO invoices (user_id, status, total_cents, provider, created_at, paid_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user_id)
    .bind(if settled { "paid" } else { "open" })
    .bind(total_cents)
    .bind(provider)
    .bind(now)
    .bind(settled.then_some(now))
    .fetch_one(&mut *conn)
    .await?;
    for line in lines {
        sqlx::query(
            "INSERT INTO invoice_lines (invoice_id, description, amount_cents, plan_key, plan_version, \
             period_start, period_end) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(&line.description)
        .bind(line.amount_cents)
        .bind(&line.plan_key)
        .bind(line.plan_version)
        .bind(line.period_start)
        .bind(line.period_end)
        .execute(&mut *conn)
        .await?;
    }
    Ok(InvoiceToCollect { id, user_id, total_cents })
}

async fn audit(
    conn: &mut AnyConnection,
    user_id: i64,
    actor_id: Option<i64>,
    action: &str,
    detail: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscription_audit (user_id, actor_id, action, detail, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(actor_id)
    .bind(action)
    .bind(detail)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The account's sessions recompute their entitlements on their next request.
async fn clear_cached_entitlements(conn: &mut AnyConnection, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET entitlements = NULL WHERE user_id = $1 AND entitlements IS NOT NULL")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Audit row, outbox event and cache invalidation: what every subscription change records.
#[allow(clippy::too_many_arguments)]
async fn record_change(
    conn: &mut AnyConnection,
    user_id: i64,
    actor_id: Option<i64>,
    action: &str,
    from: &str,
    to: &str,
    effective_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let detail = format!("{from} → {to}, effective {}", crate::shared::format_time(effective_at));
    audit(conn, user_id, actor_id, action, &detail, now).await?;
    events::publish(
        conn,
        events::kind::SUBSCRIPTION_CHANGED,
        &format!("user:{user_id}"),
        &serde_json::json!({
            "user_id": user_id, "action": action, "from": from, "to": to, "effective_at": effective_at,
        }),
    )
    .await?;
    clear_cached_entitlements(conn, user_id).await
}

/// Brings one subscription up to date at `now`: each period that ended renews (invoiced at
/// the subscribed version's price) or switches to the scheduled plan. Returns the invoices
/// to collect. Call inside a write transaction.
async fn renew_in_tx(
    conn: &mut AnyConnection,
    for_update: &str,
    provider: &str,
    user_id: i64,
    now: i64,
) -> Result<Vec<InvoiceToCollect>, sqlx::Error> {
    let mut invoices = Vec::new();
    // A server that was down for months catches up period by period, but never forever.
    for _ in 0..36 {
        let Some(subscription) = load_subscription(conn, user_id, for_update).await? else {
            break;
        };
        if subscription.period_end > now {
            break;
        }
        let start = subscription.period_end;
        let end = add_month(start);
        let (plan, what, action) = match subscription.next_plan_key.as_deref() {
            Some(FREE_PLAN) => {
                sqlx::query("DELETE FROM subscriptions WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
                record_change(conn, user_id, None, "ended", &subscription.plan_key, FREE_PLAN, start, now).await?;
                break;
            }
            // A scheduled downgrade starts on the plan's current version.
            Some(next) => match current_plans(conn).await?.into_iter().find(|plan| plan.key == next) {
                Some(plan) => (plan, "monthly", "downgraded"),
                None => break,
            },
            None => {
                (plan_version(conn, &subscription.plan_key, subscription.plan_version).await?, "renewal", "renewed")
            }
        };
        sqlx::query(
            "UPDATE subscriptions SET plan_key = $1, plan_version = $2, period_start = $3, period_end = $4, \
             next_plan_key = NULL, updated_at = $5 WHERE user_id = $6",
        )
        .bind(&plan.key)
        .bind(plan.version)
        .bind(start)
        .bind(end)
        .bind(now)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        invoices.push(create_invoice(conn, user_id, provider, &[period_line(&plan, start, end, what)], now).await?);
        record_change(conn, user_id, None, action, &subscription.plan_key, &plan.key, start, now).await?;
    }
    Ok(invoices)
}

/// Hands new invoices to the provider (after the commit) and records what it says.
async fn collect(db: &Db, provider: &dyn PaymentProvider, invoices: Vec<InvoiceToCollect>) -> Result<(), AppError> {
    for invoice in invoices.into_iter().filter(|invoice| invoice.total_cents > 0) {
        match provider.collect(&invoice).await {
            Ok(Collection::Paid) => record_payment(db, invoice.id, None).await?,
            Ok(Collection::Pending) => {}
            Err(error) => tracing::warn!(invoice = invoice.id, %error, "collecting an invoice failed; it stays open"),
        }
    }
    Ok(())
}

/// What a change did, for the page and the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangeOutcome {
    pub change: Change,
    pub plan: String,
    /// When the new plan applies (now, or the period end for a downgrade or cancellation).
    pub effective_at: i64,
    pub invoice_id: Option<i64>,
}

/// Moves an account to `target` (see [`Change`] for what each move does).
#[tracing::instrument(name = "plans.change_plan", skip(db, payments))]
pub async fn change_plan(
    db: &Db,
    payments: &dyn PaymentProvider,
    user_id: i64,
    actor_id: Option<i64>,
    target: &str,
) -> Result<ChangeOutcome, AppError> {
    let provider = payments.name();
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    // Serialises changes of one account, also when it has no subscription row to lock yet
    // (two tabs subscribing at once must not create two subscriptions and two invoices).
    sqlx::query(&format!("SELECT id FROM users WHERE id = $1{}", db.for_update()))
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut invoices = renew_in_tx(&mut tx, db.for_update(), provider, user_id, now).await?;
    let plans = current_plans(&mut tx).await?;
    let target = find(&plans, target)?.clone();
    let subscription = load_subscription(&mut tx, user_id, db.for_update()).await?;
    let current = match &subscription {
        Some(row) => plan_version(&mut tx, &row.plan_key, row.plan_version).await?,
        None => find(&plans, FREE_PLAN)?.clone(),
    };
    let scheduled = subscription.as_ref().and_then(|row| row.next_plan_key.clone());
    let Some(change) = classify(&current, scheduled.as_deref(), &target) else {
        return Err(AppError::Conflict(match scheduled {
            Some(_) => format!("The {} plan is already scheduled.", target.name),
            None => format!("You are already on the {} plan.", target.name),
        }));
    };
    let mut effective_at = now;
    let mut invoice_id = None;
    match (change, &subscription) {
        (Change::Subscribe, _) => {
            let end = add_month(now);
            sqlx::query(
                "INSERT INTO subscriptions (user_id, plan_key, plan_version, period_start, period_end, next_plan_key, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, NULL, $4) ON CONFLICT (user_id) DO UPDATE SET \
                 plan_key = $2, plan_version = $3, period_start = $4, period_end = $5, next_plan_key = NULL, updated_at = $4",
            )
            .bind(user_id)
            .bind(&target.key)
            .bind(target.version)
            .bind(now)
            .bind(end)
            .execute(&mut *tx)
            .await?;
            let invoice =
                create_invoice(&mut tx, user_id, provider, &[period_line(&target, now, end, "monthly")], now).await?;
            invoice_id = Some(invoice.id);
            invoices.push(invoice);
        }
        (Change::Upgrade, Some(row)) => {
            let lines = upgrade_lines(&current, &target, row.period_start, row.period_end, now).map(
                |(description, amount_cents)| Line {
                    description,
                    amount_cents,
                    plan_key: if amount_cents < 0 { current.key.clone() } else { target.key.clone() },
                    plan_version: if amount_cents < 0 { current.version } else { target.version },
                    period_start: now,
                    period_end: row.period_end,
                },
            );
            sqlx::query(
                "UPDATE subscriptions SET plan_key = $1, plan_version = $2, next_plan_key = NULL, updated_at = $3 \
                 WHERE user_id = $4",
            )
            .bind(&target.key)
            .bind(target.version)
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            let invoice = create_invoice(&mut tx, user_id, provider, &lines, now).await?;
            invoice_id = Some(invoice.id);
            invoices.push(invoice);
        }
        (Change::Downgrade | Change::Cancel, Some(row)) => {
            effective_at = row.period_end;
            sqlx::query("UPDATE subscriptions SET next_plan_key = $1, updated_at = $2 WHERE user_id = $3")
                .bind(&target.key)
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        (Change::Resume, Some(_)) => {
            sqlx::query("UPDATE subscriptions SET next_plan_key = NULL, updated_at = $1 WHERE user_id = $2")
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        // Without a subscription the account is on free: only `Subscribe` can apply.
        _ => return Err(AppError::Conflict("That change does not apply to your plan.".into())),
    }
    let action = serde_json::to_value(change).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    record_change(&mut tx, user_id, actor_id, &action, &current.key, &target.key, effective_at, now).await?;
    tx.commit().await?;
    db.wake_outbox();
    collect(db, payments, invoices).await?;
    Ok(ChangeOutcome { change, plan: target.key, effective_at, invoice_id })
}

/// Renews or ends every subscription whose period is over (the background job, and tests
/// with a `now` in the future). Returns how many subscriptions it touched.
#[tracing::instrument(name = "plans.renew_due", skip(db, payments))]
pub async fn renew_due(db: &Db, payments: &dyn PaymentProvider, now: i64) -> Result<usize, AppError> {
    let due: Vec<i64> =
        sqlx::query_scalar("SELECT user_id FROM subscriptions WHERE period_end <= $1 ORDER BY period_end LIMIT 500")
            .bind(now)
            .fetch_all(db.pool())
            .await?;
    for user_id in &due {
        let mut tx = db.begin_write().await?;
        let invoices = renew_in_tx(&mut tx, db.for_update(), payments.name(), *user_id, now).await?;
        tx.commit().await?;
        db.wake_outbox();
        collect(db, payments, invoices).await?;
    }
    Ok(due.len())
}

/// Runs [`renew_due`] every minute until `stop` turns true.
pub async fn run_renewals(state: crate::state::AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(error) = renew_due(&state.db, state.payments.as_ref(), now_ms()).await {
            tracing::warn!(%error, "subscription renewals failed; retrying");
        }
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => break,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {},
        }
    }
}

/// Marks an open invoice paid (`actor_id`: the admin who recorded it; `None`: the provider).
pub async fn record_payment(db: &Db, invoice_id: i64, actor_id: Option<i64>) -> Result<(), AppError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(&format!("SELECT user_id, status FROM invoices WHERE id = $1{}", db.for_update()))
        .bind(invoice_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("invoice {invoice_id}")))?;
    let (user_id, status): (i64, String) = (row.try_get("user_id")?, row.try_get("status")?);
    if status != "open" {
        return Err(AppError::Conflict(format!("Invoice {invoice_id} is already {status}.")));
    }
    sqlx::query("UPDATE invoices SET status = 'paid', paid_at = $1 WHERE id = $2")
        .bind(now)
        .bind(invoice_id)
        .execute(&mut *tx)
        .await?;
    audit(&mut tx, user_id, actor_id, "invoice_paid", &format!("invoice {invoice_id}"), now).await?;
    // Features paused for this invoice resume on the next request.
    clear_cached_entitlements(&mut tx, user_id).await?;
    events::publish(
        &mut tx,
        events::kind::INVOICE_PAID,
        &format!("invoice:{invoice_id}"),
        &serde_json::json!({ "invoice_id": invoice_id, "user_id": user_id }),
    )
    .await?;
    tx.commit().await?;
    db.wake_outbox();
    Ok(())
}

/// Appends a version to a plan and makes it the one sold from now on. Subscribers keep the
/// version they bought; accounts on the free plan (no subscription) get the new one.
#[tracing::instrument(name = "plans.save_plan", skip(state, edit))]
pub async fn save_plan(
    state: &crate::state::AppState,
    key: &str,
    edit: &PlanEdit,
    admin_id: i64,
) -> Result<Plan, AppError> {
    let db = &state.db;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let current: Option<i64> =
        sqlx::query_scalar(&format!("SELECT current_version FROM plans WHERE key = $1{}", db.for_update()))
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
    let version = current.ok_or_else(|| AppError::NotFound(format!("plan '{key}'")))? + 1;
    let features = Feature::join(&edit.features);
    sqlx::query(
        "INSERT INTO plan_versions (plan_key, version, price_cents, features, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key)
    .bind(version)
    .bind(edit.price_cents)
    .bind(&features)
    .bind(now)
    .bind(admin_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE plans SET name = $1, current_version = $2 WHERE key = $3")
        .bind(&edit.name)
        .bind(version)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    let detail =
        format!("{} v{version}: {} a month; {features}", edit.name, crate::shared::Money::from_cents(edit.price_cents));
    sqlx::query("INSERT INTO plan_audit (plan_key, version, detail, user_id, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(key)
        .bind(version)
        .bind(&detail)
        .bind(admin_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    events::publish(
        &mut tx,
        events::kind::PLAN_CHANGED,
        &format!("plan:{key}"),
        &serde_json::json!({ "plan": key, "version": version, "price_cents": edit.price_cents, "features": features }),
    )
    .await?;
    // Accounts without a subscription follow the free plan's current version.
    if key == FREE_PLAN {
        sqlx::query("UPDATE sessions SET entitlements = NULL WHERE entitlements IS NOT NULL").execute(&mut *tx).await?;
    }
    let plan = plan_version(&mut tx, key, version).await?;
    tx.commit().await?;
    db.wake_outbox();
    state.plans.invalidate();
    Ok(plan)
}

/// Invoices, newest first: one account's (`user_id`), or the shop's open ones.
pub async fn invoices(db: &Db, user_id: Option<i64>, limit: i64) -> Result<Vec<InvoiceRow>, AppError> {
    let filter = if user_id.is_some() { "i.user_id = $2" } else { "i.status = 'open'" };
    let sql = format!(
        "SELECT i.id, u.email, i.status, i.total_cents, i.created_at, i.paid_at FROM invoices i \
         JOIN users u ON u.id = i.user_id WHERE {filter} ORDER BY i.id DESC LIMIT $1"
    );
    let mut query = sqlx::query(&sql).bind(limit);
    if let Some(user_id) = user_id {
        query = query.bind(user_id);
    }
    let rows = query.fetch_all(db.pool()).await?;
    let mut invoices = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let lines =
            sqlx::query("SELECT description, amount_cents FROM invoice_lines WHERE invoice_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(db.pool())
                .await?
                .iter()
                .map(|line| Ok((line.try_get("description")?, line.try_get("amount_cents")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
        invoices.push(InvoiceRow {
            id,
            email: row.try_get("email")?,
            status: row.try_get("status")?,
            total_cents: row.try_get("total_cents")?,
            created_at: row.try_get("created_at")?,
            paid_at: row.try_get("paid_at")?,
            lines,
        });
    }
    Ok(invoices)
}

pub async fn subscription_view(db: &Db, user_id: i64) -> Result<SubscriptionView, AppError> {
    let mut conn = db.pool().acquire().await?;
    let plans = current_plans(&mut conn).await?;
    let oldest_open = oldest_open_invoice(&mut conn, user_id).await?;
    let overdue_since = oldest_open.filter(|_| pause_at(oldest_open).is_some_and(|at| now_ms() >= at));
    let view = match load_subscription(&mut conn, user_id, "").await? {
        Some(row) => SubscriptionView {
            plan: plan_version(&mut conn, &row.plan_key, row.plan_version).await?,
            period_end: Some(row.period_end),
            next_plan: row
                .next_plan_key
                .and_then(|key| plans.iter().find(|plan| plan.key == key))
                .map(|p| p.name.clone()),
            overdue_since,
        },
        None => SubscriptionView {
            plan: find(&plans, FREE_PLAN)?.clone(),
            period_end: None,
            next_plan: None,
            overdue_since: None,
        },
    };
    Ok(view)
}

/// Paid subscribers per plan version (accounts without a row are on free).
pub async fn version_stats(db: &Db) -> Result<Vec<VersionStats>, AppError> {
    let rows = sqlx::query(
        "SELECT s.plan_key, s.plan_version, v.price_cents, COUNT(*) AS subscribers, \
         SUM(CASE WHEN s.next_plan_key IS NULL THEN 0 ELSE 1 END) AS leaving \
         FROM subscriptions s JOIN plan_versions v ON v.plan_key = s.plan_key AND v.version = s.plan_version \
         GROUP BY s.plan_key, s.plan_version, v.price_cents ORDER BY s.plan_key, s.plan_version",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let price_cents: i64 = row.try_get("price_cents")?;
            let subscribers: i64 = row.try_get("subscribers")?;
            Ok(VersionStats {
                plan: row.try_get("plan_key")?,
                version: row.try_get("plan_version")?,
                price_cents,
                subscribers,
                leaving: row.try_get("leaving")?,
                mrr_cents: price_cents * subscribers,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Recent subscription and plan changes, newest first, for the admin page.
pub async fn recent_audit(db: &Db, limit: i64) -> Result<Vec<(i64, String, String, String)>, AppError> {
    let rows = sqlx::query(
        "SELECT a.created_at, u.email, a.action, a.detail FROM subscription_audit a JOIN users u ON u.id = a.user_id \
         ORDER BY a.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok((row.try_get("created_at")?, row.try_get("email")?, row.try_get("action")?, row.try_get("detail")?))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}
