//! Users, password hashes and database-backed sessions (server only).

use super::domain::{DisplayName, Email, Password, Role, User};
use crate::db::Db;
use crate::events;
use crate::shared::{now_ms, AppError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::Row;

pub const SESSION_COOKIE: &str = "mercato_session";
pub const VISITOR_COOKIE: &str = "mercato_vid";
/// Sessions last 30 days from login.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

/// Who is making this request, resolved once per request by the server's identity
/// middleware and read by handlers and server functions from the request extensions.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The `mercato_vid` cookie (set on the first response when missing).
    pub visitor_id: String,
    pub user: Option<User>,
    /// The raw session token from the cookie, kept to delete the session on logout.
    pub session_token: Option<String>,
    /// The entitlements cached on the session row (JSON), read with the session itself so
    /// a feature check costs no query (see `plans::ssr::entitlements`).
    pub cached_entitlements: Option<String>,
    /// The referral code of the `mercato_ref` cookie (set by `/r/{code}`), read by registration.
    pub referral_code: Option<String>,
    /// The client's network address (behind trusted proxies, from `X-Forwarded-For`), for
    /// the per-address rate limits; `None` when the server cannot tell.
    pub client_ip: Option<std::net::IpAddr>,
}

impl Identity {
    /// A visitor who is not logged in.
    pub fn anonymous(visitor_id: String) -> Identity {
        Identity {
            visitor_id,
            user: None,
            session_token: None,
            cached_entitlements: None,
            referral_code: None,
            client_ip: None,
        }
    }
}

impl Identity {
    pub fn require_user(&self) -> Result<&User, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthorized)
    }

    pub fn require_admin(&self) -> Result<&User, AppError> {
        let user = self.require_user()?;
        if user.role == Role::Admin {
            Ok(user)
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// 32 random bytes from the OS, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A visitor id: 16 random bytes, hex-encoded (GrowthBook hashes it as a string).
pub fn new_visitor_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A plausible visitor id from a cookie: 8–64 hex characters. Anything else is replaced.
pub fn is_valid_visitor_id(raw: &str) -> bool {
    (8..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The hash a session is stored under (the token itself is never stored).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_TTL_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_session_cookie(secure: bool) -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

/// Hashes on the blocking pool: argon2 is deliberately slow and must not stall the runtime.
async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string())
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(|error| {
        tracing::error!(%error, "password hashing failed");
        AppError::Internal
    })
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, verified against when the e-mail is unknown so that a
/// login takes as long for a missing account as for a wrong password.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role),
    })
}

async fn start_session(conn: &mut sqlx::AnyConnection, user_id: i64) -> Result<String, sqlx::Error> {
    let token = random_token();
    let now = now_ms();
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(now)
        .bind(now + SESSION_TTL_MS)
        .execute(&mut *conn)
        .await?;
    Ok(token)
}

/// Creates a shopper account, logs it in and moves the visitor's cart into it; with a
/// referral code (from the `mercato_ref` cookie), records the referral in the same
/// transaction unless a guard refuses it. Returns the user and the new session token; the
/// session the browser presented before (`previous_token`) ends.
#[tracing::instrument(name = "accounts.register", skip(db, password, rules, previous_token))]
#[allow(clippy::too_many_arguments)]
pub async fn register(
    db: &Db,
    email: &Email,
    display_name: &DisplayName,
    password: &Password,
    visitor_id: &str,
    referral_code: Option<&str>,
    rules: &crate::loyalty::domain::LoyaltyRules,
    previous_token: Option<&str>,
) -> Result<(User, String), AppError> {
    let password_hash = hash_password(password.expose().to_string()).await?;
    let mut tx = db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO users (email, display_name, password_hash, role, created_at) \
         VALUES ($1, $2, $3, 'shopper', $4) RETURNING id",
    )
    .bind(email.as_str())
    .bind(display_name.as_str())
    .bind(&password_hash)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await;
    let user_id: i64 = match inserted {
        Ok(row) => row.try_get("id")?,
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            return Err(AppError::Conflict(super::domain::FormError::DuplicateEmail.message().into()));
        }
        Err(error) => return Err(error.into()),
    };
    events::publish(
        &mut tx,
        events::kind::USER_REGISTERED,
        &format!("user:{user_id}"),
        &serde_json::json!({ "user_id": user_id, "visitor_id": visitor_id }),
    )
    .await?;
    crate::cart::ssr::merge_into_user(&mut tx, visitor_id, user_id).await?;
    let now = now_ms();
    if let Some(code) = referral_code {
        crate::loyalty::referrals::record_referral(
            &mut tx,
            db.for_update(),
            rules,
            code,
            user_id,
            email.as_str(),
            visitor_id,
            now,
        )
        .await?;
    }
    crate::loyalty::referrals::remember_device(&mut tx, user_id, visitor_id, now).await?;
    end_session(&mut tx, previous_token).await?;
    let token = start_session(&mut tx, user_id).await?;
    tx.commit().await?;
    db.wake_outbox();
    let user = User {
        id: user_id,
        email: email.as_str().to_string(),
        display_name: display_name.as_str().to_string(),
        role: Role::Shopper,
    };
    Ok((user, token))
}

/// A run of wrong passwords is forgotten a day after its last one.
const FAILURE_MEMORY_MS: i64 = 24 * 3600 * 1000;

/// Checks the password and starts a session; merges the visitor's cart into the account.
///
/// From the `login_failures_before_delay`-th wrong password in a row for one e-mail address
/// on, each locks the address for a growing time ([`login_delay_secs`]); while it
/// is locked every attempt, even with the right password, answers
/// [`AppError::TooManyRequests`] without checking the password. The session the browser
/// presented before (`previous_token`) ends: a login always starts a fresh session.
///
/// [`login_delay_secs`]: crate::shared::limits::login_delay_secs
#[tracing::instrument(name = "accounts.login", skip(db, password, limits, previous_token))]
pub async fn login(
    db: &Db,
    email: &Email,
    password: &str,
    visitor_id: &str,
    limits: &crate::shared::limits::AbuseLimits,
    previous_token: Option<&str>,
) -> Result<(User, String), AppError> {
    let now = now_ms();
    let locked_until: Option<i64> = sqlx::query_scalar("SELECT locked_until FROM login_attempts WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(db.pool())
        .await?;
    if let Some(until) = locked_until.filter(|until| *until > now) {
        metrics::counter!("mercato_login_locked_total").increment(1);
        return Err(AppError::TooManyRequests { retry_after_secs: ((until - now + 999) / 1000) as u64 });
    }
    let row = sqlx::query("SELECT id, email, display_name, role, password_hash FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else {
        let dummy = match DUMMY_HASH.get() {
            Some(hash) => hash.clone(),
            None => {
                let hash = hash_password(random_token()).await?;
                DUMMY_HASH.get_or_init(|| hash).clone()
            }
        };
        verify_password(password.to_string(), dummy).await;
        record_failure(db, email, limits).await?;
        return Err(AppError::Unauthorized);
    };
    let hash: String = row.try_get("password_hash")?;
    if !verify_password(password.to_string(), hash).await {
        record_failure(db, email, limits).await?;
        return Err(AppError::Unauthorized);
    }
    let user = user_from_row(&row)?;
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM login_attempts WHERE email = $1").bind(email.as_str()).execute(&mut *tx).await?;
    end_session(&mut tx, previous_token).await?;
    crate::cart::ssr::merge_into_user(&mut tx, visitor_id, user.id).await?;
    crate::loyalty::referrals::remember_device(&mut tx, user.id, visitor_id, now_ms()).await?;
    let token = start_session(&mut tx, user.id).await?;
    tx.commit().await?;
    Ok((user, token))
}

/// Counts a wrong password for `email` and, from the `login_failures_before_delay`-th on,
/// locks it. The count is
/// one atomic upsert, so concurrent guesses on several servers each count.
async fn record_failure(db: &Db, email: &Email, limits: &crate::shared::limits::AbuseLimits) -> Result<(), AppError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let failures: i64 = sqlx::query_scalar(
        "INSERT INTO login_attempts (email, failures, locked_until, last_failure_at) VALUES ($1, 1, 0, $2) \
         ON CONFLICT (email) DO UPDATE SET \
           failures = CASE WHEN login_attempts.last_failure_at < $3 THEN 1 ELSE login_attempts.failures + 1 END, \
           last_failure_at = $2 \
         RETURNING failures",
    )
    .bind(email.as_str())
    .bind(now)
    .bind(now - FAILURE_MEMORY_MS)
    .fetch_one(&mut *tx)
    .await?;
    let delay_secs = crate::shared::limits::login_delay_secs(
        u32::try_from(failures).unwrap_or(u32::MAX),
        limits.login_failures_before_delay,
        limits.login_delay_secs,
    );
    if delay_secs > 0 {
        sqlx::query("UPDATE login_attempts SET locked_until = $2 WHERE email = $1")
            .bind(email.as_str())
            .bind(now + delay_secs as i64 * 1000)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the session behind `token`, if any (a login or registration replaces it).
async fn end_session(conn: &mut sqlx::AnyConnection, token: Option<&str>) -> Result<(), sqlx::Error> {
    if let Some(token) = token {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(&mut *conn).await?;
    }
    Ok(())
}

#[tracing::instrument(name = "accounts.logout", skip_all)]
pub async fn logout(db: &Db, token: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(db.pool()).await?;
    Ok(())
}

/// The user behind a session token, if the session exists and has not expired, with the
/// entitlements cached on the session.
pub async fn resolve_session(db: &Db, token: &str) -> Result<Option<(User, Option<String>)>, AppError> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.display_name, u.role, s.entitlements FROM sessions s \
         JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash(token))
    .bind(now_ms())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some((user_from_row(&row)?, row.try_get("entitlements")?)))
}

/// Creates an admin (or promotes an existing user and resets the password). Returns the
/// one-time password to print; it is never stored in clear.
#[tracing::instrument(name = "accounts.create_admin", skip(db))]
pub async fn create_admin(db: &Db, email: &Email) -> Result<String, AppError> {
    let one_time_password = random_token()[..20].to_string();
    let hash = hash_password(one_time_password.clone()).await?;
    let display_name = email.as_str().split('@').next().unwrap_or("admin").to_string();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO users (email, display_name, password_hash, role, created_at) VALUES ($1, $2, $3, 'admin', $4) \
         ON CONFLICT (email) DO UPDATE SET role = 'admin', password_hash = $3",
    )
    .bind(email.as_str())
    .bind(display_name)
    .bind(hash)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(one_time_password)
}

/// Creates a shopper directly (the demo seed); the password is hashed like any other.
pub async fn create_shopper(
    db: &Db,
    email: &Email,
    display_name: &DisplayName,
    password: &str,
) -> Result<i64, AppError> {
    let hash = hash_password(password.to_string()).await?;
    let mut tx = db.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, display_name, password_hash, role, created_at) VALUES ($1, $2, $3, 'shopper', $4) \
         ON CONFLICT (email) DO UPDATE SET display_name = users.display_name RETURNING id",
    )
    .bind(email.as_str())
    .bind(display_name.as_str())
    .bind(hash)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}
