//! The stand-in's HTTP surface: the `/manage/…` endpoints, behind Nimble's `salt` + `hash`
//! check, and a recorder of every call.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{Value, json};

use super::{RecordedCall, Shared};

/// The largest body read (Fanout's requests are small).
const BODY_LIMIT: usize = 64 * 1024;

pub(super) fn routes(shared: Shared) -> axum::Router {
    axum::Router::new()
        .route("/manage/server_status", get(server_status))
        .route("/manage/rtmp/republish", get(list_rules).post(create_rule))
        .route("/manage/rtmp/republish/stats", get(stats))
        .route("/manage/rtmp/republish/{id}", get(get_rule).delete(delete_rule))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), authorize_and_record))
        .with_state(shared)
}

/// `base64(md5("<salt>/<token>"))`, as the reference's "Making authorized requests" sample.
fn expected_hash(salt: &str, token: &str) -> String {
    let digest = Md5::digest(format!("{salt}/{token}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Whether the query's `salt` and `hash` authorise the request for `token`.
fn authorized(query: Option<&str>, token: &str) -> bool {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    match (get("salt"), get("hash")) {
        (Some(salt), Some(hash)) => !salt.is_empty() && hash == expected_hash(salt, token),
        _ => false,
    }
}

/// Checks the hash (a refusal is `403` with an empty body) and records the call.
async fn authorize_and_record(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let body_value = serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null);
    let token = shared.world().token.clone();
    let ok = authorized(parts.uri.query(), &token);
    let (method, path) = (parts.method.to_string(), parts.uri.path().to_string());
    let response =
        if ok { next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await } else { StatusCode::FORBIDDEN.into_response() };
    shared.world().calls.push(RecordedCall { method, path, authorized: ok, body: body_value, status: response.status().as_u16() });
    response
}

fn ok(mut body: Value) -> Response {
    if let Some(object) = body.as_object_mut() {
        object.insert("status".into(), json!("Ok"));
    }
    Json(body).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "status": "Error", "message": message }))).into_response()
}

/// `GET /manage/server_status`.
async fn server_status(State(shared): State<Shared>) -> Response {
    let world = shared.world();
    let out_rate: u64 = world.stats.iter().map(|(_, s)| s.bandwidth).sum();
    let connections = world.stats.iter().filter(|(_, s)| s.bandwidth > 0).count();
    Json(json!({ "Connections": connections, "OutRate": out_rate, "SysInfo": { "Ap": 2, "Cp": 3 } })).into_response()
}

/// `GET /manage/rtmp/republish`.
async fn list_rules(State(shared): State<Shared>) -> Response {
    let rules: Vec<Value> = shared.world().rules.iter().map(|(_, rule)| rule.clone()).collect();
    ok(json!({ "rules": rules }))
}

/// `POST /manage/rtmp/republish` with the rule as JSON.
async fn create_rule(State(shared): State<Shared>, body: axum::body::Bytes) -> Response {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body must be a JSON object");
    };
    for required in ["src_app", "dest_addr", "dest_app", "dest_stream"] {
        if !fields.get(required).is_some_and(Value::is_string) {
            return error(StatusCode::BAD_REQUEST, &format!("{required} is required"));
        }
    }
    if !fields.get("dest_port").and_then(Value::as_u64).is_some_and(|p| (1..=65535).contains(&p)) {
        return error(StatusCode::BAD_REQUEST, "dest_port must be a port number");
    }
    let mut rule = json!({
        "src_app": "", "src_stream": "", "dest_addr": "", "dest_port": 1935, "dest_app": "", "dest_stream": "",
        "dest_app_params": "", "dest_stream_params": "", "auth_schema": "NONE", "dest_login": "", "dest_password": "",
        "keep_src_stream_params": false, "ssl": false,
    });
    if let Some(defaults) = rule.as_object_mut() {
        for (key, value) in fields {
            if defaults.contains_key(&key) {
                defaults.insert(key, value);
            }
        }
    }
    let mut world = shared.world();
    let id = world.insert(rule);
    let created = world.rules.iter().find(|(rule_id, _)| *rule_id == id).map(|(_, rule)| rule.clone()).unwrap_or(Value::Null);
    ok(json!({ "rule": created }))
}

/// `GET /manage/rtmp/republish/{id}`.
async fn get_rule(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.world().rules.iter().find(|(rule_id, _)| *rule_id == id) {
        Some((_, rule)) => ok(json!({ "rule": rule })),
        None => error(StatusCode::NOT_FOUND, "rule not found"),
    }
}

/// `DELETE /manage/rtmp/republish/{id}`.
async fn delete_rule(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    let before = world.rules.len();
    world.rules.retain(|(rule_id, _)| *rule_id != id);
    if world.rules.len() == before {
        return error(StatusCode::NOT_FOUND, "rule not found");
    }
    world.stats.retain(|(rule_id, _)| *rule_id != id);
    ok(json!({}))
}

/// `GET /manage/rtmp/republish/stats`: an entry per steered rule (its routing fields, state,
/// bandwidth, bytes sent, retries).
async fn stats(State(shared): State<Shared>) -> Response {
    let world = shared.world();
    let entries: Vec<Value> = world
        .stats
        .iter()
        .filter_map(|(id, steer)| {
            let (_, rule) = world.rules.iter().find(|(rule_id, _)| rule_id == id)?;
            let mut entry = json!({
                "id": id, "state": steer.state, "bandwidth": steer.bandwidth, "bytes_sent": steer.bytes_sent,
                "retry_count": steer.retry_count, "session_duration": 0,
            });
            if let Some(object) = entry.as_object_mut() {
                for key in ["src_app", "src_stream", "dest_addr", "dest_port", "dest_app", "dest_stream"] {
                    object.insert(key.into(), rule.get(key).cloned().unwrap_or(Value::Null));
                }
            }
            Some(entry)
        })
        .collect();
    ok(json!({ "stats": entries }))
}
