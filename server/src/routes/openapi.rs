//! The OpenAPI 3.1 document of `/api/v1`, served at `GET /api/v1/openapi.json`.
//!
//! Each route module documents its own handlers with `#[utoipa::path]` next to the code and
//! lists them in its `Doc`; [`document`] merges those and adds what every operation shares:
//! the problem+json error responses and the security schemes. **Rationale:** the document
//! is derived from the handlers' own types, so it cannot drift from what they parse and
//! answer; a unit test below fails when a route of `api::router()` is missing from it.

use super::ApiState;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr, Response as DocResponse};
use utoipa::{OpenApi, ToSchema};

/// The security scheme of a logged-in shopper or admin: the session cookie that
/// `POST /auth/login` and `POST /auth/register` set. Admin operations name the role `admin`.
pub const SESSION: &str = "session";
/// The inventory service's bearer token (`MERCATO_INVENTORY_TOKEN`).
pub const INVENTORY_TOKEN: &str = "inventory_token";
/// A brand's API key (`mbk_…`), created in `/admin/insights`.
pub const BRAND_KEY: &str = "brand_key";

/// An error, as RFC 9457 problem details (`application/problem+json`). Besides the four
/// standard members a problem may carry members of its own, listed here.
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used: errors are built by `ApiError`.
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    r#type: String,
    /// The HTTP status code.
    status: u16,
    /// The status code's reason phrase.
    title: String,
    /// What went wrong, in words meant for the person using the client.
    detail: String,
    /// The input field at fault (422).
    field: Option<String>,
    /// The row of a refused import, counted from 1 (422 from `PUT /competitor-prices`).
    row: Option<i64>,
    /// The new total when it moved (409 from `POST /checkout`).
    total_cents: Option<i64>,
    /// The feature the caller's plan lacks (402/403 from a plan-gated route).
    feature: Option<String>,
    /// The cheapest plan with that feature.
    required_plan: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Mercato API",
        description = "The JSON API of a Mercato shop. Errors are `application/problem+json` (RFC 9457)."
    ),
    servers((url = "/api/v1")),
    paths(openapi_json),
    components(schemas(Problem))
)]
struct Base;

/// The whole document: every route module's operations, the shared error responses and
/// the security schemes.
pub fn document() -> Document {
    let mut document = Base::openapi();
    for part in [
        super::api::Doc::openapi(),
        super::experiments::Doc::openapi(),
        super::plans::Doc::openapi(),
        super::loyalty::Doc::openapi(),
        super::referrals::Doc::openapi(),
        super::insights::Doc::openapi(),
        super::reviews::Doc::openapi(),
        super::community::Doc::openapi(),
        super::recommendations::Doc::openapi(),
        super::analytics::Doc::openapi(),
        super::flags::Doc::openapi(),
        super::pricing_signals::Doc::openapi(),
    ] {
        document.merge(part);
    }
    add_security_schemes(&mut document);
    for item in document.paths.paths.values_mut() {
        for operation in operations_mut(item) {
            add_error_responses(operation);
        }
    }
    document
}

/// The document as JSON, rendered once: it is the same for the life of the process.
static DOCUMENT_JSON: LazyLock<String> =
    LazyLock::new(|| document().to_json().expect("the OpenAPI document serializes"));

/// `GET /openapi.json`: this document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "The OpenAPI 3.1 document of this API.", content_type = "application/json", body = serde_json::Value)))]
pub async fn openapi_json(axum::extract::State(_): axum::extract::State<ApiState>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT_JSON.as_str()).into_response()
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

fn add_security_schemes(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SESSION,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            app::accounts::ssr::SESSION_COOKIE,
            "The session cookie set by `POST /auth/login` and `POST /auth/register`. Operations \
             that name the role `admin` need an admin's session.",
        ))),
    );
    components.add_security_scheme(
        INVENTORY_TOKEN,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("The inventory service's token, `MERCATO_INVENTORY_TOKEN`."))
                .build(),
        ),
    );
    components.add_security_scheme(
        BRAND_KEY,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("A brand's API key (`mbk_…`), created by an admin in `/admin/insights`."))
                .build(),
        ),
    );
}

fn problem(description: &str) -> RefOr<DocResponse> {
    let mut response = DocResponse::new(description);
    response
        .content
        .insert("application/problem+json".to_string(), Content::new(Some(Ref::from_schema_name("Problem"))));
    RefOr::T(response)
}

/// Adds the problem+json answers an operation can give, from what it declares: a JSON body
/// can be malformed, a session can be missing, an admin operation refuses a shopper; and
/// `default` for the rest (limits, plan gates, a database that is down), so that every
/// error answer of the API is described.
fn add_error_responses(operation: &mut Operation) {
    let security = serde_json::to_value(&operation.security).unwrap_or_default();
    let alternatives = security.as_array().map(Vec::as_slice).unwrap_or_default();
    let names_credentials = |alternative: &serde_json::Value| alternative.as_object().is_some_and(|a| !a.is_empty());
    let needs_credentials = !alternatives.is_empty() && alternatives.iter().all(names_credentials);
    let needs_admin = alternatives.iter().any(|alternative| {
        alternative[SESSION].as_array().is_some_and(|roles| roles.iter().any(|role| role == "admin"))
    });
    let mut add = |status: &str, description: &str| {
        operation.responses.responses.entry(status.to_string()).or_insert_with(|| problem(description));
    };
    if operation.request_body.is_some() {
        add("400", "The body is not valid JSON.");
        add("413", "The body is too large.");
        add("415", "The body is not sent as `application/json`.");
        add("422", "The body is JSON of the wrong shape, or a value in it is invalid (`field` names it).");
    }
    if needs_credentials {
        add("401", "No valid credentials.");
    }
    if needs_admin {
        add("403", "The session is not an admin's.");
    }
    add("default", "Any other error.");
}

#[cfg(test)]
mod tests {
    use super::document;
    use std::collections::BTreeSet;

    /// `(METHOD, path)` of every route that `api::router()` is built from, read from the
    /// route modules' sources: the router itself cannot be asked for its routes.
    fn routed_operations() -> BTreeSet<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes");
        let read = |name: &str| {
            std::fs::read_to_string(format!("{dir}/{name}.rs")).unwrap_or_else(|e| panic!("{name}.rs: {e}"))
        };
        let api = read("api");
        let mut operations = routes_of(router_body(&api, "api"));
        let merged: Vec<&str> = api
            .match_indices(".merge(super::")
            .map(|(at, needle)| {
                let rest = &api[at + needle.len()..];
                &rest[..rest.find("::").expect("merge(super::x::router())")]
            })
            .collect();
        assert!(merged.len() >= 10, "api::router() merges the playbooks' routers: found {merged:?}");
        for module in merged {
            let source = read(module);
            operations.extend(routes_of(router_body(&source, module)));
        }
        operations
    }

    /// The body of `pub fn router()`: other routers in the same file (`click_router`,
    /// `link_router`) are mounted outside `/api/v1`.
    fn router_body<'a>(source: &'a str, module: &str) -> &'a str {
        let start = source.find("pub fn router()").unwrap_or_else(|| panic!("{module}.rs has no router()"));
        let body = &source[start..];
        &body[..body.find("\n}\n").unwrap_or(body.len())]
    }

    fn routes_of(body: &str) -> BTreeSet<(String, String)> {
        let mut operations = BTreeSet::new();
        for (at, needle) in body.match_indices(".route(") {
            let rest = body[at + needle.len()..].trim_start();
            let rest = rest.strip_prefix('"').unwrap_or_else(|| panic!("a route's path is a literal: {rest:.40}"));
            let path_end = rest.find('"').expect("closing quote");
            let path = &rest[..path_end];
            // The method routers up to the `.route(` call's closing parenthesis.
            let mut depth = 1;
            let mut end = path_end;
            for (i, c) in rest[path_end..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = path_end + i;
                    break;
                }
            }
            let methods = &rest[path_end..end];
            let mut found = 0;
            for method in ["get", "put", "post", "delete", "patch"] {
                for (m_at, _) in methods.match_indices(&format!("{method}(")) {
                    let before = methods[..m_at].chars().last();
                    if matches!(before, Some(' ' | '.' | ',' | '(')) {
                        operations.insert((method.to_uppercase(), path.to_string()));
                        found += 1;
                    }
                }
            }
            assert!(found > 0, "no method router found for {path}");
        }
        operations
    }

    fn documented_operations() -> BTreeSet<(String, String)> {
        let json = serde_json::to_value(document()).unwrap();
        let mut operations = BTreeSet::new();
        for (path, item) in json["paths"].as_object().expect("paths") {
            for (method, _) in item.as_object().expect("path item") {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
        operations
    }

    #[test]
    fn every_api_route_is_in_the_openapi_document() {
        let routed = routed_operations();
        assert!(routed.len() >= 70, "found only {} routes: the source scan broke", routed.len());
        let documented = documented_operations();
        let missing: Vec<_> = routed.difference(&documented).collect();
        assert!(missing.is_empty(), "routes missing from the OpenAPI document: {missing:?}");
        let extra: Vec<_> = documented.difference(&routed).collect();
        assert!(extra.is_empty(), "documented operations that no route serves: {extra:?}");
    }

    #[test]
    fn the_route_scan_finds_routes_on_several_lines_and_with_several_methods() {
        let body = "pub fn router() -> R {\n    Router::new()\n        .route(\"/a/{id}\", get(one).post(two))\n        .route(\n            \"/b\",\n            put(three)\n                .delete(four),\n        )\n}\n";
        let found = routes_of(router_body(body, "test"));
        let expected: BTreeSet<_> = [("GET", "/a/{id}"), ("POST", "/a/{id}"), ("PUT", "/b"), ("DELETE", "/b")]
            .into_iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(found, expected);
    }

    /// The document is OpenAPI 3.1 as its readers need it: every operation has a unique id,
    /// a success answer and its path's parameters, names only known security schemes, and
    /// every `$ref` points at a component that exists.
    #[test]
    fn the_document_is_valid_openapi_3_with_no_dangling_references() {
        let value = serde_json::to_value(document()).unwrap();
        assert!(value["openapi"].as_str().unwrap().starts_with("3.1"), "{}", value["openapi"]);
        assert!(value["info"]["title"].is_string() && value["info"]["version"].is_string());
        let schemas = value["components"]["schemas"].as_object().expect("component schemas");
        let schemes = value["components"]["securitySchemes"].as_object().expect("security schemes");
        let mut refs = Vec::new();
        collect_refs(&value, &mut refs);
        assert!(!refs.is_empty());
        for reference in refs {
            let name =
                reference.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("odd $ref {reference}"));
            assert!(schemas.contains_key(name), "$ref to a missing schema: {reference}");
        }
        let mut ids = BTreeSet::new();
        for (path, item) in value["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no id"));
                assert!(ids.insert(id.to_string()), "operationId {id} used twice");
                let responses = operation["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|status| status.starts_with('2') || status.starts_with('3')),
                    "{method} {path}: no success response"
                );
                assert!(responses.contains_key("default"), "{method} {path}: errors not described");
                let declared: BTreeSet<&str> = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|parameter| parameter["in"] == "path")
                    .map(|parameter| parameter["name"].as_str().unwrap())
                    .collect();
                let templated: BTreeSet<&str> =
                    path.split('/').filter_map(|part| part.strip_prefix('{')?.strip_suffix('}')).collect();
                assert_eq!(declared, templated, "{method} {path}: path parameters");
                for requirement in operation["security"].as_array().into_iter().flatten() {
                    for scheme in requirement.as_object().unwrap().keys() {
                        assert!(schemes.contains_key(scheme), "{method} {path}: unknown scheme {scheme}");
                    }
                }
            }
        }
    }

    fn collect_refs<'a>(value: &'a serde_json::Value, refs: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    match (key.as_str(), child) {
                        ("$ref", serde_json::Value::String(reference)) => refs.push(reference),
                        _ => collect_refs(child, refs),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|child| collect_refs(child, refs)),
            _ => {}
        }
    }
}
