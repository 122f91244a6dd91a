//! Flag storage, the per-server cache, and evaluation for a request.
//!
//! **Propagation:** every change bumps `flags_state.generation` in its transaction. A server
//! keeps its flags for at most [`RECHECK`]; after that the next request reads the generation
//! (one row) and reloads the flags only if it moved. So a change, or the kill switch, reaches
//! every app server on the database within about a second, without a restart or a message bus.

use super::domain::{Context, Evaluation, Flag, FlagKind, Rule};
use crate::accounts::ssr::Identity;
use crate::db::Db;
use crate::experiments::domain::{Assignments, Segment};
use crate::shared::{now_ms, AppError};
use serde_json::Value;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a server trusts its cached flags before looking at the generation again.
pub const RECHECK: Duration = Duration::from_millis(500);

/// The flags of one generation, ready to evaluate.
#[derive(Debug, Default)]
pub struct FlagSet {
    pub generation: i64,
    pub flags: BTreeMap<String, Flag>,
    /// Whether any rule looks at the plan or the segment (each costs a lookup per request).
    needs_plan: bool,
    needs_segment: bool,
    /// Flags that are on and roll out by percentage: the only ones whose value differs
    /// between anonymous visitors of one experiment group (the page cache keys on them).
    rollouts: Vec<String>,
}

impl FlagSet {
    pub fn new(generation: i64, flags: Vec<Flag>) -> FlagSet {
        use super::domain::Condition;
        let conditions = || flags.iter().filter(|f| f.on).flat_map(|f| f.rules.iter().map(|r| &r.condition));
        let needs_plan = conditions().any(|c| matches!(c, Condition::PlanIn { .. }));
        let needs_segment = conditions().any(|c| matches!(c, Condition::SegmentIn { .. }));
        let rollouts = flags
            .iter()
            .filter(|f| f.on && f.rules.iter().any(|r| matches!(r.condition, Condition::Rollout { .. })))
            .map(|f| f.key.clone())
            .collect();
        FlagSet {
            generation,
            flags: flags.into_iter().map(|f| (f.key.clone(), f)).collect(),
            needs_plan,
            needs_segment,
            rollouts,
        }
    }

    /// What distinguishes one anonymous visitor's pages from another's by flags: the values
    /// of the rolled-out flags (empty when none rolls out). Anonymous visitors are on the
    /// free plan in the `new` segment with no account, so no other rule tells them apart;
    /// experiment variants are keyed separately.
    pub fn anonymous_key(&self, visitor_id: &str, assignments: &Assignments) -> String {
        let mut key = String::new();
        let ctx = Context {
            visitor_id,
            user_id: None,
            email: None,
            plan: crate::plans::domain::FREE_PLAN,
            segment: Segment::New,
            assignments,
        };
        for name in &self.rollouts {
            if let Some(flag) = self.flags.get(name) {
                key.push_str(name);
                key.push('=');
                key.push_str(&super::domain::evaluate(flag, &ctx).to_string());
                key.push(';');
            }
        }
        key
    }

    /// The value of flag `key` for `ctx`; `Value::Null` for a flag that does not exist.
    pub fn value(&self, key: &str, ctx: &Context) -> Value {
        self.flags.get(key).map_or(Value::Null, |flag| super::domain::evaluate(flag, ctx).clone())
    }

    /// Whether boolean flag `key` is on for `ctx` (a flag that does not exist is off).
    pub fn is_on(&self, key: &str, ctx: &Context) -> bool {
        self.flags.get(key).is_some_and(|flag| super::domain::is_on(flag, ctx))
    }

    /// Every flag's value for `ctx` (what `GET /api/v1/flags` answers).
    pub fn values(&self, ctx: &Context) -> BTreeMap<String, Value> {
        self.flags.iter().map(|(key, flag)| (key.clone(), super::domain::evaluate(flag, ctx).clone())).collect()
    }
}

type Cached = (Instant, Arc<FlagSet>);

/// The flags, kept per server (see the module's rationale).
#[derive(Clone, Default)]
pub struct FlagCache {
    current: Arc<RwLock<Option<Cached>>>,
}

impl FlagCache {
    /// The flags this server holds, if it checked them within [`RECHECK`] (no query).
    pub fn fresh(&self) -> Option<Arc<FlagSet>> {
        let current = self.current.read().ok()?;
        let (checked_at, set) = current.as_ref()?;
        (checked_at.elapsed() < RECHECK).then(|| set.clone())
    }

    pub async fn load(&self, db: &Db) -> Result<Arc<FlagSet>, AppError> {
        let cached = self.current.read().ok().and_then(|c| c.clone());
        if let Some((checked_at, set)) = &cached {
            if checked_at.elapsed() < RECHECK {
                return Ok(set.clone());
            }
        }
        let generation: i64 =
            sqlx::query_scalar("SELECT generation FROM flags_state WHERE id = 1").fetch_one(db.pool()).await?;
        let set = match cached {
            Some((_, set)) if set.generation == generation => set,
            _ => Arc::new(FlagSet::new(generation, all(db).await?)),
        };
        if let Ok(mut current) = self.current.write() {
            *current = Some((Instant::now(), set.clone()));
        }
        Ok(set)
    }

    /// Drops the cached flags (this server's own changes show at once).
    pub fn invalidate(&self) {
        if let Ok(mut current) = self.current.write() {
            *current = None;
        }
    }
}

fn flag_from_row(row: &sqlx::any::AnyRow) -> Result<Flag, AppError> {
    let decode = |what: &str, text: &str| -> Result<Value, AppError> {
        serde_json::from_str(text).map_err(|error| {
            tracing::error!(%error, what, "a stored flag does not parse");
            AppError::Internal
        })
    };
    let kind: String = row.try_get("kind")?;
    let rules: String = row.try_get("rules")?;
    let rules: Vec<Rule> = serde_json::from_value(decode("rules", &rules)?).map_err(|_| AppError::Internal)?;
    let is_on: i64 = row.try_get("is_on")?;
    Ok(Flag {
        key: row.try_get("key")?,
        description: row.try_get("description")?,
        kind: if kind == "json" { FlagKind::Json } else { FlagKind::Boolean },
        on: is_on != 0,
        default: decode("default", &row.try_get::<String, _>("default_value")?)?,
        off: decode("off", &row.try_get::<String, _>("off_value")?)?,
        rules,
        version: row.try_get("version")?,
    })
}

const FLAG_COLUMNS: &str = "key, description, kind, is_on, default_value, off_value, rules, version";

/// Every flag, by key.
pub async fn all(db: &Db) -> Result<Vec<Flag>, AppError> {
    let rows = sqlx::query(&format!("SELECT {FLAG_COLUMNS} FROM flags ORDER BY key")).fetch_all(db.pool()).await?;
    rows.iter().map(flag_from_row).collect()
}

async fn find(conn: &mut AnyConnection, key: &str, lock: &str) -> Result<Option<Flag>, AppError> {
    let row = sqlx::query(&format!("SELECT {FLAG_COLUMNS} FROM flags WHERE key = $1{lock}"))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(flag_from_row).transpose()
}

async fn bump_and_audit(
    conn: &mut AnyConnection,
    key: &str,
    version: i64,
    action: &str,
    detail: &str,
    actor_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO flag_audit (flag_key, version, action, detail, actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key)
    .bind(version)
    .bind(action)
    .bind(detail)
    .bind(actor_id)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE flags_state SET generation = generation + 1 WHERE id = 1").execute(&mut *conn).await?;
    Ok(())
}

/// A flag as the owner's form sends it, parsed.
#[derive(Clone, Debug)]
pub struct FlagInput {
    pub key: String,
    pub description: String,
    pub kind: FlagKind,
    pub on: bool,
    pub default: Value,
    pub off: Value,
    pub rules: Vec<Rule>,
}

/// Creates a flag or saves a new version of it, with an audit row saying what changed.
/// A flag keeps its kind: values of the other kind are refused.
pub async fn save(db: &Db, input: FlagInput, actor_id: i64) -> Result<Flag, AppError> {
    let mut tx = db.begin_write().await?;
    let existing = find(&mut tx, &input.key, db.for_update()).await?;
    if let Some(existing) = &existing {
        if existing.kind != input.kind {
            return Err(AppError::invalid("kind", "A flag keeps its kind; create a new flag for other values."));
        }
    }
    let version = existing.as_ref().map_or(1, |f| f.version + 1);
    let rules = serde_json::to_string(&input.rules).map_err(|_| AppError::Internal)?;
    let kind = match input.kind {
        FlagKind::Boolean => "boolean",
        FlagKind::Json => "json",
    };
    sqlx::query(
        "INSERT INTO flags (key, description, kind, is_on, default_value, off_value, rules, version, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (key) DO UPDATE SET description = excluded.description, is_on = excluded.is_on, \
         default_value = excluded.default_value, off_value = excluded.off_value, rules = excluded.rules, \
         version = excluded.version, updated_at = excluded.updated_at",
    )
    .bind(&input.key)
    .bind(&input.description)
    .bind(kind)
    .bind(i64::from(input.on))
    .bind(input.default.to_string())
    .bind(input.off.to_string())
    .bind(&rules)
    .bind(version)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let saved = Flag {
        key: input.key.clone(),
        description: input.description,
        kind: input.kind,
        on: input.on,
        default: input.default,
        off: input.off,
        rules: input.rules,
        version,
    };
    let (action, detail) = match &existing {
        None => ("created", summary(&saved)),
        Some(before) => ("edited", changes(before, &saved)),
    };
    bump_and_audit(&mut tx, &saved.key, version, action, &detail, actor_id).await?;
    tx.commit().await?;
    Ok(saved)
}

/// The kill switch (and its undo): on or off for everyone, at once.
pub async fn switch(db: &Db, key: &str, on: bool, actor_id: i64) -> Result<Flag, AppError> {
    let mut tx = db.begin_write().await?;
    let mut flag =
        find(&mut tx, key, db.for_update()).await?.ok_or_else(|| AppError::NotFound(format!("flag '{key}'")))?;
    if flag.on == on {
        return Ok(flag);
    }
    flag.on = on;
    flag.version += 1;
    sqlx::query("UPDATE flags SET is_on = $1, version = $2, updated_at = $3 WHERE key = $4")
        .bind(i64::from(on))
        .bind(flag.version)
        .bind(now_ms())
        .bind(key)
        .execute(&mut *tx)
        .await?;
    let action = if on { "switched on" } else { "switched off" };
    bump_and_audit(&mut tx, key, flag.version, action, action, actor_id).await?;
    tx.commit().await?;
    Ok(flag)
}

fn summary(flag: &Flag) -> String {
    format!(
        "{}, default {}, off {}, {} rule(s)",
        if flag.on { "on" } else { "off" },
        flag.default,
        flag.off,
        flag.rules.len()
    )
}

/// What an edit changed, for the audit log.
fn changes(before: &Flag, after: &Flag) -> String {
    let mut changed = Vec::new();
    if before.on != after.on {
        changed.push(format!("switched {}", if after.on { "on" } else { "off" }));
    }
    if before.description != after.description {
        changed.push("description".to_string());
    }
    if before.default != after.default {
        changed.push(format!("default {} → {}", before.default, after.default));
    }
    if before.off != after.off {
        changed.push(format!("off {} → {}", before.off, after.off));
    }
    if before.rules != after.rules {
        let text = |rules: &[Rule]| rules.iter().map(super::domain::format_rule).collect::<Vec<_>>().join("; ");
        changed.push(format!("rules [{}] → [{}]", text(&before.rules), text(&after.rules)));
    }
    if changed.is_empty() {
        "no change".to_string()
    } else {
        changed.join(", ")
    }
}

/// One audit row: when, who, which flag and version, what.
pub type AuditRow = (i64, String, String, i64, String, String);

pub async fn audit(db: &Db, limit: i64) -> Result<Vec<AuditRow>, AppError> {
    let rows = sqlx::query(
        "SELECT a.created_at, COALESCE(u.email, '') AS email, a.flag_key, a.version, a.action, a.detail \
         FROM flag_audit a LEFT JOIN users u ON u.id = a.actor_id ORDER BY a.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("created_at")?,
                row.try_get("email")?,
                row.try_get("flag_key")?,
                row.try_get("version")?,
                row.try_get("action")?,
                row.try_get("detail")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// What the rules may look at for one caller, looked up only where some rule needs it.
#[derive(Clone, Debug)]
pub struct Caller {
    pub visitor_id: String,
    pub user_id: Option<i64>,
    pub email: Option<String>,
    pub plan: String,
    pub segment: Segment,
    pub assignments: Assignments,
}

impl Caller {
    pub fn context(&self) -> Context<'_> {
        Context {
            visitor_id: &self.visitor_id,
            user_id: self.user_id,
            email: self.email.as_deref(),
            plan: &self.plan,
            segment: self.segment,
            assignments: &self.assignments,
        }
    }

    /// A caller from what is known of them; `user` is the account's id and e-mail.
    pub fn new(
        visitor_id: String,
        user: Option<(i64, String)>,
        plan: String,
        segment: Segment,
        assignments: Assignments,
    ) -> Caller {
        let (user_id, email) = user.map_or((None, None), |(id, email)| (Some(id), Some(email)));
        Caller { visitor_id, user_id, email, plan, segment, assignments }
    }

    /// The request's caller. Plan and segment are read only when a rule of a flag that is on
    /// looks at them.
    pub async fn of(
        state: &crate::state::AppState,
        set: &FlagSet,
        identity: &Identity,
        assignments: Assignments,
    ) -> Result<Caller, AppError> {
        let user = identity.user.as_ref();
        let plan = if set.needs_plan && user.is_some() {
            crate::plans::ssr::entitlements(state, identity).await?.plan
        } else {
            crate::plans::domain::FREE_PLAN.to_string()
        };
        let segment = if set.needs_segment {
            crate::experiments::ssr::segment_of(&state.db, user.map(|u| u.id), state.high_value_cents).await?
        } else {
            Segment::New
        };
        let user = user.map(|u| (u.id, u.email.clone()));
        Ok(Caller::new(identity.visitor_id.clone(), user, plan, segment, assignments))
    }
}

/// The flags of one request: the set this server holds and the caller they are evaluated
/// for, looked up once however many components and server functions ask.
#[derive(Clone)]
pub struct RequestFlags {
    pub set: Arc<FlagSet>,
    pub caller: Arc<Caller>,
}

impl RequestFlags {
    pub async fn of(
        state: &crate::state::AppState,
        identity: &Identity,
        assignments: Assignments,
    ) -> Result<RequestFlags, AppError> {
        let set = state.flags.load(&state.db).await?;
        let caller = Caller::of(state, &set, identity, assignments).await?;
        Ok(RequestFlags { set, caller: Arc::new(caller) })
    }

    pub fn is_on(&self, key: &str) -> bool {
        self.set.is_on(key, &self.caller.context())
    }

    /// Every flag's value for this caller (what pages carry to the browser).
    pub fn values(&self) -> BTreeMap<String, Value> {
        self.set.values(&self.caller.context())
    }
}

/// Where a request keeps its [`RequestFlags`] once built: the server provides a fresh one as
/// context to every render and server-function call.
#[derive(Clone, Default)]
pub struct FlagScope(Arc<tokio::sync::OnceCell<RequestFlags>>);

/// Inside a render or a server function: this request's flags, built on first use and
/// shared by every later reader in the same request (the page's session info, the product
/// page's blocks, checkout).
pub async fn for_request(state: &crate::state::AppState) -> Result<RequestFlags, AppError> {
    let build = || async {
        let identity = crate::state::identity().await?;
        let assignments = crate::experiments::ssr::request_assignments().await;
        RequestFlags::of(state, &identity, assignments).await
    };
    match leptos::prelude::use_context::<FlagScope>() {
        Some(scope) => scope.0.get_or_try_init(build).await.cloned(),
        None => build().await,
    }
}

/// Whether flag `key` is on for this caller, for axum handlers (which have no Leptos
/// context); server functions use [`for_request`]. A flag that is off is answered without
/// looking the caller up.
pub async fn is_on(
    state: &crate::state::AppState,
    identity: &Identity,
    assignments: Assignments,
    key: &str,
) -> Result<bool, AppError> {
    let set = state.flags.load(&state.db).await?;
    if !set.flags.get(key).is_some_and(|flag| flag.on) {
        return Ok(false);
    }
    let caller = Caller::of(state, &set, identity, assignments).await?;
    Ok(set.is_on(key, &caller.context()))
}

/// The owner's preview: what each flag gives the account with `email` (or an anonymous
/// visitor), optionally as if on `plan`.
pub async fn preview(
    state: &crate::state::AppState,
    email: Option<&str>,
    plan: Option<&str>,
) -> Result<Vec<(String, Evaluation)>, AppError> {
    let set = state.flags.load(&state.db).await?;
    let user: Option<(i64, String)> = match email {
        Some(email) => {
            let row = sqlx::query("SELECT id, email FROM users WHERE email = $1")
                .bind(email.trim().to_ascii_lowercase())
                .fetch_optional(state.db.pool())
                .await?
                .ok_or_else(|| AppError::NotFound(format!("account {}", email.trim())))?;
            Some((row.try_get("id")?, row.try_get("email")?))
        }
        None => None,
    };
    let account_plan = match &user {
        Some((id, _)) => crate::plans::ssr::subscription_view(&state.db, *id).await?.plan.key,
        None => crate::plans::domain::FREE_PLAN.to_string(),
    };
    let segment =
        crate::experiments::ssr::segment_of(&state.db, user.as_ref().map(|(id, _)| *id), state.high_value_cents)
            .await?;
    let visitor_id = user.as_ref().map_or_else(|| "preview".to_string(), |(id, _)| format!("user-{id}"));
    let plan = plan.map_or(account_plan, str::to_string);
    let caller = Caller::new(visitor_id, user, plan, segment, Assignments::default());
    let ctx = caller.context();
    Ok(set.flags.values().map(|flag| (flag.key.clone(), super::domain::explain(flag, &ctx))).collect())
}
