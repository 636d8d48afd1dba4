//! A typed async client of Nimble Streamer's native management API.
//!
//! Endpoints (Nimble Streamer native API reference): `GET /manage/server_status` ("Server
//! status"), and under "RTMP republishing": `GET /manage/rtmp/republish` (the rules),
//! `POST /manage/rtmp/republish` (create), `GET`/`DELETE /manage/rtmp/republish/{id}`, and
//! `GET /manage/rtmp/republish/stats`. Every request is authorised with a fresh `salt` and
//! `hash` ([`crate::auth`]) and bounded by a timeout. The token appears nowhere: not in `Debug`,
//! not in errors (reqwest's errors are stripped of the URL, which holds the hash).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use crate::Secret;
use crate::auth::AuthQuery;
use crate::model::{NewRule, RepublishStat, Rule, RuleId, ServerStatus};

/// How long one call may take, unless [`NimbleClient::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a call to Nimble's management API can fail with.
#[derive(Debug, thiserror::Error)]
pub enum NimbleError {
    /// The configured API address is not a usable `http(s)://host:port` URL.
    #[error("the Nimble management API address {url:?} is not usable: {reason}")]
    InvalidBaseUrl {
        /// The address as configured.
        url: String,
        /// Why.
        reason: String,
    },
    /// Nimble refused the request's `salt`/`hash`: the token differs from its `management_token`.
    #[error(
        "Nimble refused the management token (HTTP {status} on {endpoint}): the token Fanout uses must equal \
         management_token in Nimble's nimble.conf (and Nimble must have been restarted after changing it)"
    )]
    WrongToken {
        /// The status Nimble answered.
        status: u16,
        /// The endpoint called.
        endpoint: String,
    },
    /// Nimble's management API could not be reached.
    #[error(
        "Nimble's management API at {base} cannot be reached ({endpoint}): is Nimble running, with \
         management_listen_interfaces and management_port set in nimble.conf to this address? ({source})"
    )]
    Unreachable {
        /// The API's base address.
        base: String,
        /// The endpoint called.
        endpoint: String,
        /// The underlying error (its URL removed).
        source: reqwest::Error,
    },
    /// Nimble did not answer in time.
    #[error("Nimble's management API did not answer {endpoint} within {seconds} s: is the server overloaded?")]
    Timeout {
        /// The endpoint called.
        endpoint: String,
        /// The timeout.
        seconds: u64,
    },
    /// Nimble answered something this client cannot read.
    #[error("Nimble's answer to {endpoint} is not what its API reference describes: {reason}")]
    Malformed {
        /// The endpoint called.
        endpoint: String,
        /// What was wrong.
        reason: String,
    },
    /// Nimble answered with an error status (other than a refused token).
    #[error("Nimble answered HTTP {status} to {endpoint}{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Status {
        /// The endpoint called.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// Nimble's own words, when it gave some.
        detail: Option<String>,
    },
    /// Nimble answered HTTP 200 but said the call failed (its `status` field was not `Ok`).
    #[error("Nimble did not do {endpoint}: it answered {detail:?}")]
    Rejected {
        /// The endpoint called.
        endpoint: String,
        /// Nimble's own words.
        detail: String,
    },
}

impl NimbleError {
    /// Whether this is Nimble refusing the token (retrying will not help until it is fixed).
    pub fn is_wrong_token(&self) -> bool {
        matches!(self, Self::WrongToken { .. })
    }

    /// Whether the API was not reached at all (not running, wrong address, or too slow).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Timeout { .. })
    }
}

/// A client of one Nimble Streamer's management API.
#[derive(Clone)]
pub struct NimbleClient {
    base: Url,
    token: Secret,
    http: reqwest::Client,
    timeout: Duration,
}

impl std::fmt::Debug for NimbleClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NimbleClient").field("base", &self.base.as_str()).field("token", &"***").field("timeout", &self.timeout).finish()
    }
}

impl NimbleClient {
    /// A client of the API at `base_url` (e.g. `http://127.0.0.1:8082`), authorising with `token`.
    pub fn new(base_url: &str, token: Secret) -> Result<Self, NimbleError> {
        let invalid = |reason: &str| NimbleError::InvalidBaseUrl { url: base_url.to_string(), reason: reason.to_string() };
        let mut base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("it must start with http:// or https://"));
        }
        if base.host_str().is_none() {
            return Err(invalid("it has no host"));
        }
        if base.query().is_some() || !base.username().is_empty() || base.password().is_some() {
            return Err(invalid("it must not carry a query or credentials (the token is given separately)"));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(DEFAULT_TIMEOUT)
            .build()
            .map_err(|e| invalid(&format!("cannot build an HTTP client: {}", e.without_url())))?;
        Ok(Self { base, token, http, timeout: DEFAULT_TIMEOUT })
    }

    /// The same client with another per-call timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The API's base address.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Every RTMP republish rule the API lists (`GET /manage/rtmp/republish`).
    pub async fn list_rules(&self) -> Result<Vec<Rule>, NimbleError> {
        const ENDPOINT: &str = "GET /manage/rtmp/republish";
        let body = self.call(Method::GET, "manage/rtmp/republish", None, ENDPOINT).await?;
        field(body, "rules", ENDPOINT)
    }

    /// One rule (`GET /manage/rtmp/republish/{id}`); `None` when Nimble does not know it.
    pub async fn get_rule(&self, id: &RuleId) -> Result<Option<Rule>, NimbleError> {
        const ENDPOINT: &str = "GET /manage/rtmp/republish/{id}";
        let path = format!("manage/rtmp/republish/{}", encode_segment(id.as_str()));
        match self.call(Method::GET, &path, None, ENDPOINT).await {
            Ok(body) => field(body, "rule", ENDPOINT).map(Some),
            Err(NimbleError::Status { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Creates a rule (`POST /manage/rtmp/republish`, the rule as a JSON body). Returns the new
    /// rule's id when Nimble's answer names it (`{"rule": {"id": …}}`).
    pub async fn create_rule(&self, rule: &NewRule) -> Result<Option<RuleId>, NimbleError> {
        const ENDPOINT: &str = "POST /manage/rtmp/republish";
        let body = serde_json::to_value(rule).map_err(|e| NimbleError::Malformed { endpoint: ENDPOINT.into(), reason: e.to_string() })?;
        let answer = self.call(Method::POST, "manage/rtmp/republish", Some(body), ENDPOINT).await?;
        let id = answer.get("rule").and_then(|r| r.get("id")).or_else(|| answer.get("id")).cloned();
        Ok(id.and_then(|id| serde_json::from_value::<RuleId>(id).ok()))
    }

    /// Deletes a rule (`DELETE /manage/rtmp/republish/{id}`). A rule Nimble no longer knows
    /// (HTTP 404) counts as deleted.
    pub async fn delete_rule(&self, id: &RuleId) -> Result<(), NimbleError> {
        const ENDPOINT: &str = "DELETE /manage/rtmp/republish/{id}";
        let path = format!("manage/rtmp/republish/{}", encode_segment(id.as_str()));
        match self.call(Method::DELETE, &path, None, ENDPOINT).await {
            Ok(_) | Err(NimbleError::Status { status: 404, .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The republish connections' statistics (`GET /manage/rtmp/republish/stats`).
    pub async fn republish_stats(&self) -> Result<Vec<RepublishStat>, NimbleError> {
        const ENDPOINT: &str = "GET /manage/rtmp/republish/stats";
        let body = self.call(Method::GET, "manage/rtmp/republish/stats", None, ENDPOINT).await?;
        field(body, "stats", ENDPOINT)
    }

    /// The server's status (`GET /manage/server_status`); also a cheap check of the token.
    pub async fn server_status(&self) -> Result<ServerStatus, NimbleError> {
        const ENDPOINT: &str = "GET /manage/server_status";
        let body = self.call(Method::GET, "manage/server_status", None, ENDPOINT).await?;
        if !body.is_object() {
            return Err(NimbleError::Malformed { endpoint: ENDPOINT.into(), reason: "the answer is not a JSON object".into() });
        }
        Ok(ServerStatus::from_json(body))
    }

    /// One authorised call; the JSON answer of a 2xx whose `status` (if any) is `Ok`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        endpoint: &str,
    ) -> Result<serde_json::Value, NimbleError> {
        let mut url =
            self.base.join(path).map_err(|e| NimbleError::InvalidBaseUrl { url: self.base.to_string(), reason: e.to_string() })?;
        url.query_pairs_mut().extend_pairs(AuthQuery::new(&self.token).pairs());
        let mut request = self.http.request(method, url).timeout(self.timeout);
        if let Some(body) = body {
            request = request.json(&body);
        }
        tracing::debug!(endpoint, "calling Nimble's management API");
        let response = request.send().await.map_err(|e| self.transport_error(e, endpoint))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.transport_error(e, endpoint))?;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(NimbleError::WrongToken { status: status.as_u16(), endpoint: endpoint.into() });
        }
        let json = serde_json::from_slice::<serde_json::Value>(&bytes);
        if !status.is_success() {
            let detail = json.ok().as_ref().and_then(nimble_words);
            return Err(NimbleError::Status { endpoint: endpoint.into(), status: status.as_u16(), detail });
        }
        let json = json.map_err(|e| NimbleError::Malformed { endpoint: endpoint.into(), reason: format!("not JSON ({e})") })?;
        if let Some(said) = json.get("status").and_then(serde_json::Value::as_str)
            && !said.eq_ignore_ascii_case("ok")
            && !said.eq_ignore_ascii_case("success")
        {
            return Err(NimbleError::Rejected {
                endpoint: endpoint.into(),
                detail: nimble_words(&json).unwrap_or_else(|| said.to_string()),
            });
        }
        Ok(json)
    }

    fn transport_error(&self, error: reqwest::Error, endpoint: &str) -> NimbleError {
        if error.is_timeout() {
            return NimbleError::Timeout { endpoint: endpoint.into(), seconds: self.timeout.as_secs().max(1) };
        }
        if error.is_decode() || error.is_body() {
            return NimbleError::Malformed { endpoint: endpoint.into(), reason: error.without_url().to_string() };
        }
        NimbleError::Unreachable { base: self.base.to_string(), endpoint: endpoint.into(), source: error.without_url() }
    }
}

/// Reads `key` of an answer as `T`.
fn field<T: DeserializeOwned>(mut body: serde_json::Value, key: &str, endpoint: &str) -> Result<T, NimbleError> {
    let value = body
        .get_mut(key)
        .map(serde_json::Value::take)
        .ok_or_else(|| NimbleError::Malformed { endpoint: endpoint.into(), reason: format!("it has no \"{key}\" field") })?;
    serde_json::from_value(value)
        .map_err(|e| NimbleError::Malformed { endpoint: endpoint.into(), reason: format!("its \"{key}\" field: {e}") })
}

/// What Nimble said in an error answer (`message`, `error` or `status`), cut short.
fn nimble_words(json: &serde_json::Value) -> Option<String> {
    ["message", "error", "status"]
        .iter()
        .find_map(|key| json.get(*key).and_then(serde_json::Value::as_str))
        .map(|words| words.chars().take(200).collect())
}

/// A rule id as one path segment.
fn encode_segment(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>().replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_url_must_be_plain_http() {
        let token = || Secret::new("a-long-enough-token");
        assert!(NimbleClient::new("http://127.0.0.1:8082", token()).is_ok());
        assert!(matches!(NimbleClient::new("ftp://127.0.0.1:8082", token()), Err(NimbleError::InvalidBaseUrl { .. })));
        assert!(matches!(NimbleClient::new("127.0.0.1:8082", token()), Err(NimbleError::InvalidBaseUrl { .. })));
        assert!(matches!(NimbleClient::new("http://u:p@127.0.0.1:8082", token()), Err(NimbleError::InvalidBaseUrl { .. })));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let client = NimbleClient::new("http://127.0.0.1:8082", Secret::new("a-long-enough-token")).unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{client:?}");
        assert!(!shown.contains("a-long-enough-token"), "{shown}");
        assert!(shown.contains("127.0.0.1:8082"));
    }

    #[test]
    fn a_wrong_token_says_what_to_fix() {
        let error = NimbleError::WrongToken { status: 403, endpoint: "GET /manage/server_status".into() };
        assert!(error.to_string().contains("management_token"));
        assert!(error.is_wrong_token());
    }

    #[test]
    fn rule_ids_are_one_path_segment() {
        assert_eq!(encode_segment("5f0f82/1 x"), "5f0f82%2F1%20x");
    }
}
