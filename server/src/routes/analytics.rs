//! The owner's analytics over JSON and CSV: `GET /admin/analytics?from=&to=` (or `?days=`)
//! and `GET /admin/analytics/{table}.csv`. Admin session only.

use super::error::ApiError;
use super::openapi::Problem;
use super::ApiState;
use app::accounts::ssr::Identity;
use app::admin::domain::{day_of, DateRange, Kpis, Report, Table, TableName};
use app::shared::AppError;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(analytics, analytics_csv))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new().route("/admin/analytics", get(analytics)).route("/admin/analytics/{file}", get(analytics_csv))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// The first day, `YYYY-MM-DD`.
    from: Option<String>,
    /// The last day, `YYYY-MM-DD`.
    to: Option<String>,
    /// The last 1 to 366 days up to today, instead of `from` and `to` (30 by default).
    days: Option<String>,
}

impl RangeQuery {
    fn range(&self) -> Result<DateRange, ApiError> {
        let today = day_of(app::shared::now_ms());
        Ok(DateRange::parse(self.from.as_deref(), self.to.as_deref(), self.days.as_deref(), today)?)
    }
}

#[derive(Serialize, ToSchema)]
struct Analytics {
    kpis: Kpis,
    #[serde(flatten)]
    report: Report,
}

#[utoipa::path(get, path = "/admin/analytics", tag = "analytics", params(RangeQuery), security(("session" = ["admin"])), responses((status = 200, description = "The dashboard's figures and tables for the range.", body = Analytics)))]
async fn analytics(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Query(query): Query<RangeQuery>,
) -> Result<Json<Analytics>, ApiError> {
    identity.require_admin()?;
    let report = app::admin::ssr::report(&state.app.db, query.range()?).await?;
    Ok(Json(Analytics { kpis: report.kpis(), report }))
}

#[utoipa::path(get, path = "/admin/analytics/{file}", tag = "analytics", params(("file" = String, Path, description = "`daily.csv`, `products.csv`, `plans.csv` or `recommendations.csv`."), RangeQuery), security(("session" = ["admin"])), responses((status = 200, description = "The table as CSV.", body = String, content_type = "text/csv"), (status = 404, description = "No such table.", body = Problem, content_type = "application/problem+json")))]
async fn analytics_csv(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(file): Path<String>,
    Query(query): Query<RangeQuery>,
) -> Result<Response, ApiError> {
    identity.require_admin()?;
    let table = file
        .strip_suffix(".csv")
        .and_then(TableName::parse)
        .ok_or_else(|| ApiError::not_found("Tables are daily.csv, products.csv, plans.csv and recommendations.csv."))?;
    let report = app::admin::ssr::report(&state.app.db, query.range()?).await?;
    let body = to_csv(&report.table(table)).map_err(|error| {
        tracing::error!(%error, "writing CSV");
        ApiError::from(AppError::Internal)
    })?;
    let disposition = format!("attachment; filename=\"mercato-{}.csv\"", table.key());
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        body,
    )
        .into_response())
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `@`, or `-` before a non-digit)
/// gets a leading apostrophe: product names are typed by people.
pub(crate) fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    let mut chars = cell.chars();
    let risky = match chars.next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => !chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    if risky {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

fn to_csv(table: &Table) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&table.header)?;
    for row in &table.rows {
        writer.write_record(row.iter().map(|cell| defuse(cell).into_owned()))?;
    }
    let bytes = writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_cells() {
        let table = Table {
            name: TableName::Products,
            header: vec!["sku", "name", "units", "revenue"],
            rows: vec![
                vec!["TEA-1".into(), "Green tea, \"sencha\"".into(), "3".into(), "€12.00".into()],
                vec!["X-1".into(), "=HYPERLINK(\"x\")".into(), "-2".into(), "-€1.00".into()],
            ],
        };
        let csv = to_csv(&table).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "sku,name,units,revenue");
        assert_eq!(lines[1], "TEA-1,\"Green tea, \"\"sencha\"\"\",3,€12.00");
        assert_eq!(lines[2], "X-1,\"'=HYPERLINK(\"\"x\"\")\",-2,'-€1.00");
    }
}
