//! Contract tests: the stand-in answers as Restream's documentation says.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::Value;

use super::*;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn stand_in() -> (RestreamStandIn, reqwest::Client) {
    let config = StandInConfig { redirect_uris: vec![REDIRECT.into()], ..StandInConfig::default() };
    let restream = RestreamStandIn::start(config).await.unwrap_or_else(|e| panic!("start: {e}"));
    restream.add_user(StandInUser::sample(7, "Ana"));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_else(|e| panic!("{e}"));
    (restream, http)
}

fn query(location: &str) -> HashMap<String, String> {
    url::Url::parse(location).map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()).unwrap_or_default()
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn authorize(restream: &RestreamStandIn, http: &reqwest::Client, redirect: &str) -> reqwest::Response {
    http.get(format!("{}/login", restream.url()))
        .query(&[("response_type", "code"), ("client_id", "fanout-test-client"), ("redirect_uri", redirect), ("state", "s1")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn code(restream: &RestreamStandIn, http: &reqwest::Client) -> String {
    restream.set_consent(Consent::Approve { user_id: 7 });
    let response = authorize(restream, http, REDIRECT).await;
    assert!(response.status().is_redirection());
    let back = query(&location(&response));
    assert_eq!(back.get("state").map(String::as_str), Some("s1"), "state comes back");
    back.get("code").cloned().unwrap_or_default()
}

async fn token(restream: &RestreamStandIn, http: &reqwest::Client, form: &[(&str, &str)], basic: bool) -> (StatusCode, Value) {
    let mut request = http.post(format!("{}/oauth/token", restream.url()));
    let mut fields = form.to_vec();
    if basic {
        request = request.basic_auth("fanout-test-client", Some("fanout-test-secret"));
    } else {
        fields.extend([("client_id", "fanout-test-client"), ("client_secret", "fanout-test-secret")]);
    }
    let response = request.form(&fields).send().await.unwrap_or_else(|e| panic!("{e}"));
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get_with(restream: &RestreamStandIn, http: &reqwest::Client, path: &str, access: &str) -> (StatusCode, Value) {
    let response = http.get(format!("{}{path}", restream.url())).bearer_auth(access).send().await.unwrap_or_else(|e| panic!("{e}"));
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_code_is_exchanged_once_for_a_pair_that_opens_the_api() {
    let (restream, http) = stand_in().await;
    let code = code(&restream, &http).await;
    let (status, pair) =
        token(&restream, &http, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)], true).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 3600);
    assert_eq!(pair["accessToken"], pair["access_token"], "camelCase twins");
    let access = pair["access_token"].as_str().unwrap_or_default().to_string();

    let (status, profile) = get_with(&restream, &http, "/v2/user/profile", &access).await;
    assert_eq!((status, profile["id"].as_i64()), (StatusCode::OK, Some(7)));
    let (_, channels) = get_with(&restream, &http, "/v2/user/channel/all", &access).await;
    assert_eq!(channels.as_array().map(Vec::len), Some(2));
    assert_eq!(channels[0]["streamingPlatformId"], YOUTUBE);
    assert!(channels[0]["enabled"].is_boolean());
    let (_, single) = get_with(&restream, &http, "/v2/user/channel/702", &access).await;
    assert_eq!(single["active"], false, "the single channel answer says `active`");
    let (_, key) = get_with(&restream, &http, "/v2/user/streamKey", &access).await;
    assert_eq!(key["streamKey"], "re_7_ana");

    let (status, again) =
        token(&restream, &http, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)], false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"]["name"], "invalid_grant", "a code is single use");
}

#[tokio::test]
async fn credentials_in_the_body_work_and_wrong_ones_are_refused() {
    let (restream, http) = stand_in().await;
    let code = code(&restream, &http).await;
    let (status, _) =
        token(&restream, &http, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)], false).await;
    assert_eq!(status, StatusCode::OK);
    let response = http
        .post(format!("{}/oauth/token", restream.url()))
        .basic_auth("fanout-test-client", Some("wrong"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wrong_redirect_uri_is_refused_at_the_dialog_and_at_the_exchange() {
    let (restream, http) = stand_in().await;
    restream.set_consent(Consent::Approve { user_id: 7 });
    let response = authorize(&restream, &http, "http://evil.example/cb").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "no redirect to an unregistered URI");
    let code = code(&restream, &http).await;
    let (status, body) = token(
        &restream,
        &http,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", "http://127.0.0.1:9/other")],
        true,
    )
    .await;
    assert_eq!((status, body["error"]["name"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_the_old_one_is_refused() {
    let (restream, http) = stand_in().await;
    let code = code(&restream, &http).await;
    let (_, first) =
        token(&restream, &http, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)], true).await;
    let old_refresh = first["refresh_token"].as_str().unwrap_or_default().to_string();
    let old_access = first["access_token"].as_str().unwrap_or_default().to_string();
    let (status, second) = token(&restream, &http, &[("grant_type", "refresh_token"), ("refresh_token", &old_refresh)], true).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(restream.refresh_count(7), 1);
    assert_eq!(restream.tokens_of(7).map(|t| t.refresh), second["refresh_token"].as_str().map(String::from));

    let (status, body) = token(&restream, &http, &[("grant_type", "refresh_token"), ("refresh_token", &old_refresh)], true).await;
    assert_eq!((status, body["error"]["name"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "the old refresh token died");
    let (status, body) = get_with(&restream, &http, "/v2/user/profile", &old_access).await;
    assert_eq!((status, body["error"]["name"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")), "so did the old access token");
}

#[tokio::test]
async fn an_expired_access_token_gets_restreams_401() {
    let (restream, http) = stand_in().await;
    let code = code(&restream, &http).await;
    let (_, pair) =
        token(&restream, &http, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)], true).await;
    restream.expire_access_tokens(7);
    let (status, body) = get_with(&restream, &http, "/v2/user/profile", pair["access_token"].as_str().unwrap_or_default()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["statusCode"], 401);
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.starts_with("Invalid token")));
}

#[tokio::test]
async fn revoking_either_token_kills_the_pair_and_answers_an_empty_200() {
    let (restream, http) = stand_in().await;
    let code = code(&restream, &http).await;
    let (_, pair) =
        token(&restream, &http, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)], true).await;
    let refresh = pair["refresh_token"].as_str().unwrap_or_default();
    let response = http
        .post(format!("{}/oauth/revoke", restream.url()))
        .form(&[("token", refresh), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.map(|b| b.len()).ok(), Some(0));
    let (status, _) = get_with(&restream, &http, "/v2/user/profile", pair["access_token"].as_str().unwrap_or_default()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(restream.tokens_of(7).is_none());
}

#[tokio::test]
async fn channel_titles_are_recorded_and_foreign_channels_refused() {
    let (restream, http) = stand_in().await;
    restream.add_user(StandInUser::sample(8, "Ben"));
    let code = code(&restream, &http).await;
    let (_, pair) =
        token(&restream, &http, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)], true).await;
    let access = pair["access_token"].as_str().unwrap_or_default();
    let patch =
        |id: i64, body: Value| http.patch(format!("{}/v2/user/channel-meta/{id}", restream.url())).bearer_auth(access).json(&body).send();
    let ok =
        patch(701, serde_json::json!({ "title": "Morning satsang", "description": "Live now" })).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.bytes().await.map(|b| b.len()).ok(), Some(0), "an empty body");
    assert_eq!(restream.channel_meta(701).map(|m| m.title), Some("Morning satsang".into()));
    let missing_title = patch(701, serde_json::json!({ "description": "x" })).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(missing_title.status(), StatusCode::BAD_REQUEST);
    let foreign = patch(801, serde_json::json!({ "title": "not mine" })).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(restream.channel_meta(801), None);

    let patches: Vec<_> = restream.calls().into_iter().filter(|c| c.method == "PATCH").collect();
    assert_eq!(patches.len(), 3, "every call is recorded");
    assert_eq!((patches[0].user_id, patches[0].status, patches[0].body["title"].as_str()), (Some(7), 200, Some("Morning satsang")));
}

#[tokio::test]
async fn denials_come_back_as_restream_sends_them() {
    let (restream, http) = stand_in().await;
    restream.set_consent(Consent::DenyBlank);
    let blank = authorize(&restream, &http, REDIRECT).await;
    assert_eq!(location(&blank), REDIRECT, "no parameters at all");
    restream.set_consent(Consent::DenyWithError);
    let with_error = query(&location(&authorize(&restream, &http, REDIRECT).await));
    assert_eq!(with_error.get("error").map(String::as_str), Some("access_denied"));
    restream.set_consent(Consent::Prompt);
    let page = authorize(&restream, &http, REDIRECT).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap_or_default();
    assert!(html.contains(">Allow<") && html.contains(">Deny<"));
}

#[tokio::test]
async fn the_token_endpoint_fails_on_request_and_the_control_api_steers() {
    let (restream, http) = stand_in().await;
    let control = |path: &str, body: Value| http.post(format!("{}/__standin/{path}", restream.url())).json(&body).send();
    assert!(control("token-failure", serde_json::json!({ "status": 500 })).await.is_ok_and(|r| r.status().is_success()));
    let (status, body) =
        token(&restream, &http, &[("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", REDIRECT)], true).await;
    assert_eq!((status, body["error"]["statusCode"].as_u64()), (StatusCode::INTERNAL_SERVER_ERROR, Some(500)));
    assert!(control("token-failure", serde_json::json!({ "status": null })).await.is_ok());
    assert!(control("consent", serde_json::json!({ "mode": "approve", "user_id": 7 })).await.is_ok_and(|r| r.status().is_success()));
    assert!(authorize(&restream, &http, REDIRECT).await.status().is_redirection());
    let calls: Vec<RecordedCall> = http
        .get(format!("{}/__standin/calls", restream.url()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(calls.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(), ["/oauth/token", "/login"], "control calls are not recorded");
}
