//! Support requests. Every account can ask; accounts whose plan has `priority_support` are
//! answered first (their requests sort first in the owner's queue).

#[cfg(feature = "ssr")]
use super::domain::Feature;
use super::domain::Gate;
use crate::shared::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SupportRequest {
    pub id: i64,
    pub email: String,
    pub subject: String,
    pub body: String,
    pub priority: bool,
    pub status: String,
    pub created_at: i64,
}

/// A request as typed, checked: subject 3–120 characters, message 10–4,000.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRequest {
    pub subject: String,
    pub body: String,
}

impl NewRequest {
    pub fn parse(subject: &str, body: &str) -> Result<NewRequest, AppError> {
        let subject = subject.trim();
        let body = body.trim();
        if !(3..=120).contains(&subject.chars().count()) {
            return Err(AppError::invalid("subject", "Write a subject of 3 to 120 characters."));
        }
        if !(10..=4000).contains(&body.chars().count()) {
            return Err(AppError::invalid("body", "Write a message of 10 to 4,000 characters."));
        }
        Ok(NewRequest { subject: subject.to_string(), body: body.to_string() })
    }
}

/// `/support`: the account's requests and whether they are handled first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportPage {
    pub logged_in: bool,
    /// `Open` when this account's requests are prioritised.
    pub priority: Gate,
    pub requests: Vec<SupportRequest>,
}

#[server(prefix = "/rpc")]
pub async fn get_support_page() -> Result<SupportPage, AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        return Ok(SupportPage { logged_in: false, priority: Gate::LogIn, requests: Vec::new() });
    };
    let priority = super::ssr::gate(&state, &identity, Feature::PrioritySupport, true).await?;
    let requests = store::list(&state.db, Some(user.id), 20).await?;
    Ok(SupportPage { logged_in: true, priority, requests })
}

/// The support form. A refused form goes back with the field's error code.
#[server(prefix = "/rpc")]
pub async fn send_support_request(subject: String, body: String) -> Result<(), AppError> {
    let state = crate::state::state()?;
    let identity = crate::state::identity().await?;
    let Some(user) = identity.user.as_ref() else {
        crate::state::redirect("/login?next=/support");
        return Ok(());
    };
    let request = match NewRequest::parse(&subject, &body) {
        Ok(request) => request,
        Err(AppError::Invalid { field, .. }) => {
            crate::state::redirect(&format!("/support?error={field}"));
            return Ok(());
        }
        Err(error) => return Err(error),
    };
    let priority = super::ssr::entitlements(&state, &identity).await?.has(Feature::PrioritySupport);
    store::create(&state.db, user.id, &request, priority).await?;
    crate::state::redirect("/support?sent=1");
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod store {
    use super::{NewRequest, SupportRequest};
    use crate::db::Db;
    use crate::shared::{now_ms, AppError};
    use sqlx::Row;

    pub async fn create(db: &Db, user_id: i64, request: &NewRequest, priority: bool) -> Result<i64, AppError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO support_requests (user_id, subject, body, priority, status, created_at) \
             VALUES ($1, $2, $3, $4, 'open', $5) RETURNING id",
        )
        .bind(user_id)
        .bind(&request.subject)
        .bind(&request.body)
        .bind(i64::from(priority))
        .bind(now_ms())
        .fetch_one(db.pool())
        .await?;
        Ok(id)
    }

    /// One account's requests (newest first), or the owner's queue (`None`): open requests,
    /// priority first, oldest first within a priority.
    pub async fn list(db: &Db, user_id: Option<i64>, limit: i64) -> Result<Vec<SupportRequest>, AppError> {
        let (filter, order) = match user_id {
            Some(_) => ("r.user_id = $2", "r.id DESC"),
            None => ("r.status = 'open'", "r.priority DESC, r.created_at, r.id"),
        };
        let sql = format!(
            "SELECT r.id, u.email, r.subject, r.body, r.priority, r.status, r.created_at FROM support_requests r \
             JOIN users u ON u.id = r.user_id WHERE {filter} ORDER BY {order} LIMIT $1"
        );
        let mut query = sqlx::query(&sql).bind(limit);
        if let Some(user_id) = user_id {
            query = query.bind(user_id);
        }
        let rows = query.fetch_all(db.pool()).await?;
        rows.iter()
            .map(|row| {
                let priority: i64 = row.try_get("priority")?;
                Ok(SupportRequest {
                    id: row.try_get("id")?,
                    email: row.try_get("email")?,
                    subject: row.try_get("subject")?,
                    body: row.try_get("body")?,
                    priority: priority != 0,
                    status: row.try_get("status")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(AppError::from)
    }

    /// Closes a request (the owner answered it).
    pub async fn resolve(db: &Db, id: i64) -> Result<(), AppError> {
        let updated = sqlx::query("UPDATE support_requests SET status = 'resolved' WHERE id = $1 AND status = 'open'")
            .bind(id)
            .execute(db.pool())
            .await?;
        if updated.rows_affected() == 0 {
            return Err(AppError::NotFound(format!("open support request {id}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::NewRequest;

    #[test]
    fn a_request_needs_a_subject_and_a_message() {
        assert!(NewRequest::parse("Hi", "long enough message").is_err());
        assert!(NewRequest::parse("Order late", "short").is_err());
        let request = NewRequest::parse("  Order late ", " Where is order 12, please? ").unwrap();
        assert_eq!(request.subject, "Order late");
    }
}
