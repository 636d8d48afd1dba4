//! The stand-in's OAuth surface, as Restream documents it: the authorize dialog (`/login`),
//! the token endpoint (code exchange and refresh with rotation; client credentials by HTTP
//! Basic or in the body) and revocation (always 200, empty body).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use super::api::error_body;
use super::state::{GrantRefusal, TokenPairView};
use super::{Consent, Shared};

/// The scopes Fanout's app is granted (Restream takes them from the app's settings).
const SCOPES: &str = "profile.read channels.read channels.write stream.read";
/// Refresh tokens live a year.
const REFRESH_TTL_SECS: u64 = 365 * 24 * 3600;

pub(super) fn routes() -> axum::Router<Shared> {
    axum::Router::new()
        .route("/login", get(authorize))
        .route("/oauth/authorize", get(authorize))
        .route("/login/decision", post(decide))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
}

#[derive(Debug, Deserialize)]
struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
}

fn refusal_page(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(format!("<!doctype html><title>Restream</title><h1>Error</h1><p>{}</p>", escape(message))))
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `url` with `params` appended to its query.
fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.query_pairs_mut().extend_pairs(params);
            parsed.to_string()
        }
        Err(_) => url.to_string(),
    }
}

/// `GET /login`: checks the app and redirect URI, then answers as the consent mode says.
async fn authorize(State(shared): State<Shared>, Query(query): Query<AuthorizeQuery>) -> Response {
    let mut world = shared.world();
    if query.response_type.as_deref() != Some("code") {
        return refusal_page("response_type must be code");
    }
    if query.client_id.as_deref() != Some(world.config.client_id.as_str()) {
        return refusal_page("Unknown client_id");
    }
    let Some(redirect_uri) = query.redirect_uri.filter(|uri| world.config.redirect_uris.contains(uri)) else {
        return refusal_page("redirect_uri is not registered for this application");
    };
    let state = query.state.unwrap_or_default();
    match world.consent.clone() {
        Consent::Approve { user_id } if world.users.contains_key(&user_id) => {
            let code = world.issue_code(user_id, &redirect_uri);
            Redirect::to(&with_query(&redirect_uri, &[("code", &code), ("state", &state)])).into_response()
        }
        Consent::Approve { .. } => refusal_page("the approving user is unknown to the stand-in"),
        Consent::DenyBlank => Redirect::to(&redirect_uri).into_response(),
        Consent::DenyWithError => {
            Redirect::to(&with_query(&redirect_uri, &[("error", "access_denied"), ("state", &state)])).into_response()
        }
        Consent::Prompt => {
            let users: String = world
                .users
                .values()
                .map(|u| format!(r#"<option value="{}">{} ({})</option>"#, u.id, escape(&u.username), escape(&u.email)))
                .collect();
            Html(format!(
                r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Restream — Authorize</title></head>
<body><main><h1>Authorize Fanout</h1><p>Fanout wants to read your profile and channels, set your channels' titles and read your stream key.</p>
<form method="post" action="/login/decision">
<input type="hidden" name="redirect_uri" value="{redirect}"><input type="hidden" name="state" value="{state}">
<label for="user">Log in as</label> <select id="user" name="user_id">{users}</select>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></main></body></html>"#,
                redirect = escape(&redirect_uri),
                state = escape(&state),
            ))
            .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
struct Decision {
    redirect_uri: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    user_id: Option<i64>,
    decision: String,
}

/// `POST /login/decision`: the consent page's buttons.
async fn decide(State(shared): State<Shared>, Form(decision): Form<Decision>) -> Response {
    let mut world = shared.world();
    if !world.config.redirect_uris.contains(&decision.redirect_uri) {
        return refusal_page("redirect_uri is not registered for this application");
    }
    if decision.decision != "allow" {
        return Redirect::to(&decision.redirect_uri).into_response();
    }
    let Some(user_id) = decision.user_id.filter(|id| world.users.contains_key(id)) else {
        return refusal_page("no such user");
    };
    let code = world.issue_code(user_id, &decision.redirect_uri);
    Redirect::to(&with_query(&decision.redirect_uri, &[("code", &code), ("state", &decision.state)])).into_response()
}

/// The client credentials of a token or revoke request: HTTP Basic, or the form's fields.
fn client_credentials(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, String)> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| pair.split_once(':').map(|(id, secret)| (url_decode(id), url_decode(secret))));
    basic.or_else(|| Some((form.get("client_id")?.clone(), form.get("client_secret")?.clone())))
}

/// HTTP Basic credentials are form-encoded by OAuth clients (RFC 6749 §2.3.1).
fn url_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn epoch_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn token_answer(pair: &TokenPairView, access_ttl: u64) -> Response {
    let now = epoch_secs();
    Json(json!({
        "access_token": pair.access,
        "token_type": "Bearer",
        "expires_in": access_ttl,
        "expires": now + access_ttl,
        "refresh_token": pair.refresh,
        "refresh_token_expires_in": REFRESH_TTL_SECS,
        "refresh_token_expires": now + REFRESH_TTL_SECS,
        "scope": SCOPES,
        "accessToken": pair.access,
        "accessTokenExpiresIn": access_ttl,
        "accessTokenExpiresEpoch": now + access_ttl,
        "refreshToken": pair.refresh,
        "refreshTokenExpiresIn": REFRESH_TTL_SECS,
        "refreshTokenExpiresEpoch": now + REFRESH_TTL_SECS,
    }))
    .into_response()
}

use axum::Json;

/// `POST /oauth/token`.
async fn token(State(shared): State<Shared>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    let mut world = shared.world();
    if let Some(status) = world.token_failure {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return error_body(code, "server_error", "Internal server error");
    }
    let credentials_ok = client_credentials(&headers, &form)
        .is_some_and(|(id, secret)| id == world.config.client_id && secret == world.config.client_secret);
    if !credentials_ok {
        return error_body(StatusCode::UNAUTHORIZED, "invalid_client", "Invalid client: client credentials are invalid");
    }
    let access_ttl = world.config.access_token_ttl.as_secs();
    let issued = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => match form.get("code") {
            Some(code) => world.exchange_code(code, form.get("redirect_uri").map(String::as_str)),
            None => return error_body(StatusCode::BAD_REQUEST, "invalid_request", "Missing parameter: `code`"),
        },
        Some("refresh_token") => match form.get("refresh_token") {
            Some(refresh) => world.refresh(refresh),
            None => return error_body(StatusCode::BAD_REQUEST, "invalid_request", "Missing parameter: `refresh_token`"),
        },
        _ => return error_body(StatusCode::BAD_REQUEST, "unsupported_grant_type", "Unsupported grant type"),
    };
    match issued {
        Ok(pair) => token_answer(&pair, access_ttl),
        Err(GrantRefusal::InvalidGrant(message)) => error_body(StatusCode::BAD_REQUEST, "invalid_grant", message),
    }
}

/// `POST /oauth/revoke`: always 200 with an empty body.
async fn revoke(State(shared): State<Shared>, Form(form): Form<HashMap<String, String>>) -> StatusCode {
    if let Some(token) = form.get("token") {
        shared.world().revoke(token);
    }
    StatusCode::OK
}
