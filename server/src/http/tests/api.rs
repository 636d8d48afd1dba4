//! The JSON API in-process: every route of its OpenAPI document refuses without a token, with a
//! revoked one and with the admin's session cookie alone; a token made on the dashboard opens
//! it and its last use shows there; pausing and resuming an account through it is what the
//! dashboard then shows; a bad direct destination is a 422 and changes nothing; lives page on
//! from cursor to cursor; the per-token rate limit answers 429 with `Retry-After`; unknown
//! routes and methods are JSON too.

use serde_json::Value;

use super::*;

/// A request with the bearer `token` (when given) and a JSON `body` (when given).
fn api(method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(json) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    builder.body(body).unwrap_or_else(|e| panic!("{e}"))
}

fn json(answer: &Answer) -> Value {
    serde_json::from_slice(&answer.bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", answer.body))
}

/// The error code of a JSON error answer.
fn code(answer: &Answer) -> String {
    json(answer)["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code: {}", answer.body)).to_string()
}

impl Face {
    /// Makes a token named `name` through the dashboard's form; the token, read from the
    /// message the dashboard shows once.
    async fn token_from_dashboard(&self, cookie: &str, csrf: &str, name: &str) -> String {
        let made = self.send(with_header(form("/admin/api-tokens", &[("csrf", csrf), ("name", name)]), "cookie", cookie)).await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
        let identity = self.send(with_header(get("/api/admin_identity"), "cookie", cookie)).await;
        let flash = json(&identity)["flash"]["text"].as_str().unwrap_or_default().to_string();
        let token = flash.split_whitespace().find(|w| w.starts_with(crate::api::tokens::PREFIX)).unwrap_or_default();
        assert!(token.len() > 40, "the dashboard shows the new token once: {flash}");
        token.to_string()
    }

    /// The Settings' token rows, as the dashboard reads them.
    async fn token_rows(&self, cookie: &str) -> Vec<Value> {
        let settings = self.send(with_header(get("/api/admin_settings"), "cookie", cookie)).await;
        json(&settings)["api_tokens"].as_array().cloned().unwrap_or_default()
    }

    /// An account's status as the dashboard's accounts list shows it.
    async fn dashboard_status_of(&self, cookie: &str, id: &str) -> String {
        let accounts = self.send(with_header(get("/api/admin_accounts"), "cookie", cookie)).await;
        let rows = json(&accounts);
        let row = rows.as_array().and_then(|rows| rows.iter().find(|r| r["id"] == id).cloned()).unwrap_or_default();
        row["status"].as_str().unwrap_or_default().to_string()
    }
}

/// Every (method, path) of the OpenAPI document, its `{…}` parameters filled in.
async fn documented_routes(face: &Face) -> Vec<(String, String)> {
    let answer = face.send(get("/api/v1/openapi.json")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let document = json(&answer);
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    let mut routes = Vec::new();
    for (path, item) in paths {
        let filled = path.replace("{id}", "some-id");
        for method in item.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            routes.push((method.to_uppercase(), filled.clone()));
        }
    }
    routes
}

#[tokio::test]
async fn every_documented_route_refuses_without_a_token_with_a_revoked_one_and_with_the_admin_cookie() {
    let face = Face::new(|_| {}).await;
    let routes = documented_routes(&face).await;
    for expected in [
        "/api/v1/live",
        "/api/v1/destinations",
        "/api/v1/accounts",
        "/api/v1/accounts/some-id/pause",
        "/api/v1/events",
        "/api/v1/lives",
        "/api/v1/direct",
        "/api/v1/direct/some-id",
        "/api/v1/control/stop",
    ] {
        assert!(routes.iter().any(|(_, p)| p == expected), "{expected} is documented: {routes:?}");
    }
    assert!(routes.len() >= 13 && routes.iter().any(|(m, _)| m == "PATCH"), "{routes:?}");
    let (cookie, csrf) = face.sign_in().await;
    let token = face.token_from_dashboard(&cookie, &csrf, "to revoke").await;
    assert_eq!(face.send(api("GET", "/api/v1/live", Some(&token), None)).await.status, StatusCode::OK, "the token works before");
    let id = face.token_rows(&cookie).await.first().and_then(|r| r["id"].as_str().map(str::to_string)).unwrap_or_default();
    let revoked = face.send(with_header(form(&format!("/admin/api-tokens/{id}/revoke"), &[("csrf", &csrf)]), "cookie", &cookie)).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert!(face.token_rows(&cookie).await.is_empty(), "revoked tokens leave the list");

    let body = serde_json::json!({ "label": "x", "url": "rtmp://127.0.0.1/live", "key": "k" });
    for (method, path) in &routes {
        let sent = (method == "POST" || method == "PATCH").then_some(&body);
        let none = face.send(api(method, path, None, sent)).await;
        assert_eq!((none.status, code(&none).as_str()), (StatusCode::UNAUTHORIZED, "missing_token"), "{method} {path}");
        assert!(none.headers.get(header::WWW_AUTHENTICATE).is_some(), "{method} {path}");
        let old = face.send(api(method, path, Some(&token), sent)).await;
        assert_eq!((old.status, code(&old).as_str()), (StatusCode::UNAUTHORIZED, "invalid_token"), "{method} {path}");
        // The admin's session (cookie and CSRF token) opens nothing here.
        let with_cookie = with_header(with_header(api(method, path, None, sent), "cookie", &cookie), "x-fanout-csrf", &csrf);
        let admin = face.send(with_cookie).await;
        assert_eq!((admin.status, code(&admin).as_str()), (StatusCode::UNAUTHORIZED, "missing_token"), "{method} {path}");
    }
    assert_eq!(face.state.store.direct_destinations().await.unwrap_or_else(|e| panic!("{e}")), Vec::new(), "nothing was created");
}

#[tokio::test]
async fn a_token_made_on_the_dashboard_opens_the_api_and_its_last_use_shows_there() {
    let face = Face::new(|_| {}).await;
    let (cookie, csrf) = face.sign_in().await;
    let token = face.token_from_dashboard(&cookie, &csrf, "grafana").await;
    let rows = face.token_rows(&cookie).await;
    assert_eq!((rows.len(), rows[0]["name"].as_str(), &rows[0]["last_used_at"]), (1, Some("grafana"), &Value::Null), "never used yet");
    let stored = face.state.store.api_tokens().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored[0].hash, crate::api::tokens::hash(&token), "only the hash is kept");

    let live = face.send(api("GET", "/api/v1/live", Some(&token), None)).await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.body);
    assert_eq!(json(&live)["live"], Value::Null);
    let rows = face.token_rows(&cookie).await;
    assert!(rows[0]["last_used_at"].is_string(), "the last use moved: {rows:?}");
    // The events name the token, never the token itself.
    let events = face.send(api("GET", "/api/v1/events", Some(&token), None)).await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.body);
    assert!(events.body.contains("grafana") && !events.body.contains(&token), "{}", events.body);
    let lives = face.send(api("GET", "/api/v1/lives?limit=5", Some(&token), None)).await;
    assert_eq!((lives.status, json(&lives)["lives"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    let bad_kind = face.send(api("GET", "/api/v1/events?kind=nonsense", Some(&token), None)).await;
    assert_eq!((bad_kind.status, code(&bad_kind).as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"));
}

#[tokio::test]
async fn pausing_and_resuming_through_the_api_is_what_the_dashboard_shows() {
    let face = Face::new(|_| {}).await;
    let account = face.account().await;
    let (cookie, csrf) = face.sign_in().await;
    let token = face.token_from_dashboard(&cookie, &csrf, "bot").await;
    let id = account.id.to_string();
    assert_eq!(face.dashboard_status_of(&cookie, &id).await, "active");
    let listed = face.send(api("GET", "/api/v1/accounts", Some(&token), None)).await;
    assert_eq!(json(&listed)[0]["status"], "active", "{}", listed.body);

    let paused = face.send(api("POST", &format!("/api/v1/accounts/{id}/pause"), Some(&token), None)).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(face.dashboard_status_of(&cookie, &id).await, "paused");
    let resumed = face.send(api("POST", &format!("/api/v1/accounts/{id}/resume"), Some(&token), None)).await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    assert_eq!(face.dashboard_status_of(&cookie, &id).await, "active");
    let unknown = face.send(api("POST", "/api/v1/accounts/no-such-account/pause", Some(&token), None)).await;
    assert_eq!((unknown.status, code(&unknown).as_str()), (StatusCode::NOT_FOUND, "unknown_account"));
}

#[tokio::test]
async fn a_bad_direct_destination_is_refused_as_json_and_changes_nothing_and_a_good_one_is_added_changed_and_removed() {
    let face = Face::new(|_| {}).await;
    let (cookie, csrf) = face.sign_in().await;
    let token = face.token_from_dashboard(&cookie, &csrf, "ci").await;
    let bad = serde_json::json!({ "label": "Mine", "url": "http://example.org/not-rtmp", "key": "k" });
    let refused = face.send(api("POST", "/api/v1/direct", Some(&token), Some(&bad))).await;
    assert_eq!((refused.status, code(&refused).as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"), "{}", refused.body);
    let not_json = face.send(with_header(api("POST", "/api/v1/direct", Some(&token), None), "content-type", "application/json")).await;
    assert_eq!(code(&not_json), "bad_request", "{}", not_json.body);
    assert_eq!(face.state.store.direct_destinations().await.unwrap_or_else(|e| panic!("{e}")), Vec::new(), "nothing changed");

    let good = serde_json::json!({ "label": "Mine", "url": "rtmp://127.0.0.1:1935/live", "key": "secret-key-1" });
    let added = face.send(api("POST", "/api/v1/direct", Some(&token), Some(&good))).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert!(!added.body.contains("secret-key-1"), "the key is never shown: {}", added.body);
    let id = json(&added)["id"].as_str().unwrap_or_default().to_string();
    let listed = face.send(api("GET", "/api/v1/direct", Some(&token), None)).await;
    assert_eq!(json(&listed)[0]["id"], id.as_str());

    // Changed: a bad URL is refused and changes nothing; a new label and `enabled: false` stick.
    let path = format!("/api/v1/direct/{id}");
    let bad_url = serde_json::json!({ "url": "http://example.org/not-rtmp" });
    let refused = face.send(api("PATCH", &path, Some(&token), Some(&bad_url))).await;
    assert_eq!((refused.status, code(&refused).as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"), "{}", refused.body);
    let before = face.state.store.direct_destinations().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((before[0].server.as_str(), before[0].enabled), ("rtmp://127.0.0.1:1935/live", true), "nothing changed");
    let patch = serde_json::json!({ "label": "Renamed", "enabled": false });
    let changed = face.send(api("PATCH", &path, Some(&token), Some(&patch))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!((&json(&changed)["label"], &json(&changed)["enabled"]), (&Value::from("Renamed"), &Value::from(false)));
    let after = face.state.store.direct_destinations().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((after[0].label.as_str(), after[0].server.as_str(), after[0].enabled), ("Renamed", "rtmp://127.0.0.1:1935/live", false));
    assert_eq!(after[0].key, before[0].key, "no key given: the saved one is kept");
    let nothing = face.send(api("PATCH", &path, Some(&token), Some(&serde_json::json!({})))).await;
    assert_eq!((nothing.status, code(&nothing).as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"), "{}", nothing.body);
    let unknown = face.send(api("PATCH", "/api/v1/direct/no-such-id", Some(&token), Some(&patch))).await;
    assert_eq!((unknown.status, code(&unknown).as_str()), (StatusCode::NOT_FOUND, "unknown_direct_destination"));
    let removed = face.send(api("DELETE", &format!("/api/v1/direct/{id}"), Some(&token), None)).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    let again = face.send(api("DELETE", &format!("/api/v1/direct/{id}"), Some(&token), None)).await;
    assert_eq!((again.status, code(&again).as_str()), (StatusCode::NOT_FOUND, "unknown_direct_destination"));
}

#[tokio::test]
async fn a_token_over_its_rate_limit_gets_429_with_retry_after_and_unknown_routes_are_json() {
    let face = Face::new(|_| {}).await;
    let (cookie, csrf) = face.sign_in().await;
    let token = face.token_from_dashboard(&cookie, &csrf, "busy").await;
    let mut limited = None;
    for _ in 0..=crate::api::auth::BURST + 5 {
        let answer = face.send(api("GET", "/api/v1/live", Some(&token), None)).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(answer);
            break;
        }
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let limited = limited.unwrap_or_else(|| panic!("no 429 after the burst"));
    assert_eq!(code(&limited), "rate_limited");
    let retry: u64 = limited.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0);
    assert!(retry >= 1, "Retry-After says when");

    let other = face.token_from_dashboard(&cookie, &csrf, "other").await;
    assert_eq!(face.send(api("GET", "/api/v1/live", Some(&other), None)).await.status, StatusCode::OK, "each token has its budget");
    let unknown = face.send(api("GET", "/api/v1/nothing-here", Some(&other), None)).await;
    assert_eq!((unknown.status, code(&unknown).as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let method = face.send(api("PUT", "/api/v1/live", Some(&other), None)).await;
    assert_eq!((method.status, code(&method).as_str()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
}

#[tokio::test]
async fn lives_are_paged_newest_first_and_a_bad_cursor_is_refused() {
    use app::model::LiveState;
    use app::store::{Live, VideoId};
    let face = Face::new(|_| {}).await;
    let (cookie, csrf) = face.sign_in().await;
    let token = face.token_from_dashboard(&cookie, &csrf, "pager").await;
    let t0 = now() - time::Duration::days(10);
    for (i, id) in ["LiveVideo0A", "LiveVideo0B", "LiveVideo0C", "LiveVideo0D", "LiveVideo0E"].iter().enumerate() {
        let live = Live {
            video_id: VideoId((*id).into()),
            title: format!("Day {i}"),
            state: LiveState::Ended,
            detected_at: t0 + time::Duration::days(i as i64),
            started_at: None,
            ended_at: None,
            peak_destinations: 0,
            failures: 0,
        };
        face.state.store.put_live(&live).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/lives?limit=2".to_string();
    for _ in 0..5 {
        let page = face.send(api("GET", &path, Some(&token), None)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let body = json(&page);
        seen.extend(
            body["lives"].as_array().cloned().unwrap_or_default().iter().map(|l| l["video_id"].as_str().unwrap_or_default().to_string()),
        );
        match body["next_before"].as_str() {
            Some(next) => path = format!("/api/v1/lives?limit=2&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["LiveVideo0E", "LiveVideo0D", "LiveVideo0C", "LiveVideo0B", "LiveVideo0A"], "every live once, newest first");
    for bad in ["nonsense", "12.", "x.LiveVideo0A", "1.a%20b"] {
        let refused = face.send(api("GET", &format!("/api/v1/lives?before={bad}"), Some(&token), None)).await;
        assert_eq!((refused.status, code(&refused).as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"), "{bad}");
    }
}
