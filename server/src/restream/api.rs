//! Restream.io's REST API, the parts Fanout uses: who the user is, their channels and the public
//! list of platforms (to name each channel's platform), channel titles, and the stream key.
//! `429 Too Many Requests` is waited out as `Retry-After` says; a 5xx or a network failure is
//! tried again after 1 s, then 2 s, then 4 s — a transient error on Restream's side should not
//! cost a volunteer part of the live.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use app::model::RestreamChannel;
use app::secrets::Secret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

use super::Endpoints;
use super::oauth::RestreamOAuthError;

/// How many times a call is tried when Restream answers 429 or 5xx, or cannot be reached.
const MAX_TRIES: u32 = 4;

/// The wait before try `tries + 1` after a 5xx or a network failure: 1 s, 2 s, 4 s.
fn transient_wait(tries: u32) -> Duration {
    Duration::from_secs(1 << tries.saturating_sub(1).min(4))
}
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

impl ApiError {
    /// Whether trying again soon may succeed (Restream failed or could not be reached), as
    /// opposed to a refusal that needs a person.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::Unreachable(_) => true,
            Self::Unauthorized(_) | Self::Unreadable(_) => false,
        }
    }
}

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The access token was refused (expired, revoked or unknown).
    #[error("Restream refused the access token: {0}")]
    Unauthorized(String),
    /// Restream answered another error.
    #[error("Restream answered {status}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// Restream's message, or the status's meaning.
        message: String,
    },
    /// Restream could not be reached.
    #[error("could not reach Restream: {0}")]
    Unreachable(String),
    /// The answer was not what Restream documents.
    #[error("Restream's answer could not be read: {0}")]
    Unreadable(String),
}

/// `GET /v2/user/profile`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Profile {
    /// Restream's user id.
    pub id: i64,
    /// User name.
    pub username: String,
    /// E-mail address.
    pub email: String,
}

/// An item of `GET /v2/user/channel/all`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiChannel {
    /// Channel id.
    pub id: i64,
    /// Platform id.
    pub streaming_platform_id: i64,
    /// The channel's name on its platform.
    pub display_name: String,
    /// Its public URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Whether Restream streams to it.
    pub enabled: bool,
}

#[derive(Debug, Deserialize)]
struct Platform {
    id: i64,
    name: String,
}

/// The Restream API client.
#[derive(Debug, Clone)]
pub struct RestreamApi {
    endpoints: Endpoints,
    http: reqwest::Client,
    platforms: Arc<OnceCell<HashMap<i64, String>>>,
}

impl RestreamApi {
    /// A client for `endpoints`.
    pub fn new(endpoints: Endpoints, http: reqwest::Client) -> Self {
        Self { endpoints, http, platforms: Arc::new(OnceCell::new()) }
    }

    /// Sends a request (built anew for each try), waiting out `429 Too Many Requests` as
    /// `Retry-After` asks (up to [`MAX_RETRY_AFTER`], a few times); returns the success body.
    async fn send(&self, path: &str, build: impl Fn() -> reqwest::RequestBuilder) -> Result<bytes::Bytes, ApiError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let response = match build().send().await {
                Ok(response) => response,
                Err(error) if tries < MAX_TRIES => {
                    tracing::info!(path, error = %error.without_url(), "Restream could not be reached; trying again");
                    tokio::time::sleep(transient_wait(tries)).await;
                    continue;
                }
                Err(error) => return Err(ApiError::Unreachable(error.without_url().to_string())),
            };
            let status = response.status();
            if status.is_server_error() && tries < MAX_TRIES {
                tracing::info!(path, status = status.as_u16(), "Restream failed; trying again");
                tokio::time::sleep(transient_wait(tries)).await;
                continue;
            }
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS && tries < MAX_TRIES {
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(Duration::from_secs(1), Duration::from_secs)
                    .min(MAX_RETRY_AFTER);
                tracing::info!(path, seconds = wait.as_secs(), "Restream asked to slow down");
                tokio::time::sleep(wait).await;
                continue;
            }
            let body = response.bytes().await.map_err(|e| ApiError::Unreachable(e.without_url().to_string()))?;
            if status.is_success() {
                return Ok(body);
            }
            let message = serde_json::from_slice::<RestreamOAuthError>(&body)
                .map(|e| e.to_string())
                .unwrap_or_else(|_| status.canonical_reason().unwrap_or("error").to_string());
            return Err(if status == reqwest::StatusCode::UNAUTHORIZED {
                ApiError::Unauthorized(message)
            } else {
                ApiError::Status { status: status.as_u16(), message }
            });
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, token: Option<&Secret>) -> Result<T, ApiError> {
        let url = self.endpoints.api(path);
        let body = self
            .send(path, || {
                let request = self.http.get(url.clone());
                match token {
                    Some(token) => request.bearer_auth(token.expose()),
                    None => request,
                }
            })
            .await?;
        serde_json::from_slice(&body).map_err(|e| ApiError::Unreadable(format!("{path}: {e}")))
    }

    /// Sets a channel's title and description (`PATCH /v2/user/channel-meta/{id}`).
    pub async fn update_channel_meta(&self, access: &Secret, channel_id: i64, title: &str, description: &str) -> Result<(), ApiError> {
        let path = format!("/v2/user/channel-meta/{channel_id}");
        let url = self.endpoints.api(&path);
        let body = serde_json::json!({ "title": title, "description": description });
        self.send(&path, || self.http.patch(url.clone()).bearer_auth(access.expose()).json(&body)).await.map(drop)
    }

    /// The account's stream key (`GET /v2/user/streamKey`).
    pub async fn stream_key(&self, access: &Secret) -> Result<Secret, ApiError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct StreamKey {
            stream_key: String,
        }
        let key: StreamKey = self.get("/v2/user/streamKey", Some(access)).await?;
        if key.stream_key.is_empty() {
            return Err(ApiError::Unreadable("an empty stream key".into()));
        }
        Ok(Secret::new(key.stream_key))
    }

    /// The token owner's profile.
    pub async fn profile(&self, access: &Secret) -> Result<Profile, ApiError> {
        self.get("/v2/user/profile", Some(access)).await
    }

    /// The token owner's channels.
    pub async fn channels(&self, access: &Secret) -> Result<Vec<ApiChannel>, ApiError> {
        self.get("/v2/user/channel/all", Some(access)).await
    }

    /// The token owner's channels, each with its platform's name (`Platform #id` when
    /// Restream's platform list cannot be read).
    pub async fn named_channels(&self, access: &Secret) -> Result<Vec<RestreamChannel>, ApiError> {
        let channels = self.channels(access).await?;
        let names = self.platform_names().await;
        Ok(channels
            .into_iter()
            .map(|c| RestreamChannel {
                id: c.id,
                platform_id: c.streaming_platform_id,
                platform: names
                    .and_then(|n| n.get(&c.streaming_platform_id).cloned())
                    .unwrap_or_else(|| format!("Platform #{}", c.streaming_platform_id)),
                display_name: c.display_name,
                url: c.url,
                enabled: c.enabled,
            })
            .collect())
    }

    /// Platform names by id, read once from the public `/v2/platform/all`; `None` while it
    /// cannot be read (it is tried again next time).
    async fn platform_names(&self) -> Option<&HashMap<i64, String>> {
        let read = self
            .platforms
            .get_or_try_init(|| async {
                let list: Vec<Platform> = self.get("/v2/platform/all", None).await?;
                Ok::<_, ApiError>(list.into_iter().map(|p| (p.id, p.name)).collect())
            })
            .await;
        match read {
            Ok(names) => Some(names),
            Err(error) => {
                tracing::warn!(%error, "could not read Restream's platform list");
                None
            }
        }
    }
}
