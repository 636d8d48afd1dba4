//! Restream.io's OAuth 2.0 authorization-code flow, through the `oauth2` crate: the authorize
//! URL a volunteer is sent to, the code exchange at the callback, and revocation.
//!
//! Restream's token answers and errors are not exactly RFC 6749's (errors come as
//! `{"error":{"statusCode":…,"message":…,"name":…}}`), so both have their own types here.
//! PKCE is not used: Restream's documentation describes no `code_challenge`; the single-use
//! `state` is the CSRF defence. Revocation is Restream's documented form post, sent directly:
//! the `oauth2` crate would refuse any non-https revocation endpoint (RFC 7009), which a test
//! stand-in on loopback is.

use std::fmt;
use std::time::Duration;

use app::secrets::Secret;
use oauth2::basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType};
use oauth2::{
    AccessToken, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use super::Endpoints;

/// What Restream answers at its token endpoint (its documented snake_case fields; the
/// camelCase twins it also sends are ignored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestreamTokens {
    access_token: AccessToken,
    #[serde(default = "bearer", deserialize_with = "token_type")]
    token_type: BasicTokenType,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, deserialize_with = "scopes")]
    scope: Option<Vec<Scope>>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

fn token_type<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BasicTokenType, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(if text.eq_ignore_ascii_case("bearer") { BasicTokenType::Bearer } else { BasicTokenType::Extension(text) })
}

/// `scope` as a space-separated string (RFC 6749) or a list.
fn scopes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<Scope>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scopes {
        Text(String),
        List(Vec<String>),
    }
    Ok(Option::<Scopes>::deserialize(deserializer)?.map(|scopes| match scopes {
        Scopes::Text(text) => text.split_whitespace().map(|s| Scope::new(s.to_string())).collect(),
        Scopes::List(list) => list.into_iter().map(Scope::new).collect(),
    }))
}

impl TokenResponse for RestreamTokens {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scope.as_ref()
    }
}

/// An error body from Restream: its own nested shape, or RFC 6749's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RestreamOAuthError {
    /// `{"error":{"statusCode":400,"message":"…","name":"invalid_grant"}}`.
    Nested {
        /// The error.
        error: NestedError,
    },
    /// `{"error":"invalid_grant","error_description":"…"}`.
    Standard {
        /// The error code.
        error: String,
        /// Its description.
        #[serde(default)]
        error_description: Option<String>,
    },
}

/// Restream's nested error object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NestedError {
    /// The HTTP status it reports.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// A sentence (never contains the token itself).
    #[serde(default)]
    pub message: Option<String>,
    /// A code such as `invalid_grant`.
    #[serde(default)]
    pub name: Option<String>,
}

impl RestreamOAuthError {
    /// The error code, e.g. `invalid_grant`.
    pub fn code(&self) -> &str {
        match self {
            Self::Nested { error } => error.name.as_deref().unwrap_or("error"),
            Self::Standard { error, .. } => error,
        }
    }
}

impl fmt::Display for RestreamOAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nested { error } => write!(f, "{}: {}", self.code(), error.message.as_deref().unwrap_or("no message")),
            Self::Standard { error, error_description } => {
                write!(f, "{error}: {}", error_description.as_deref().unwrap_or("no description"))
            }
        }
    }
}

impl oauth2::ErrorResponse for RestreamOAuthError {}

type Client = oauth2::Client<
    RestreamOAuthError,
    RestreamTokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Why the code exchange (or a revocation) failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// Restream answered with an error (e.g. `invalid_grant` for a used or expired code).
    #[error("Restream refused: {0}")]
    Refused(RestreamOAuthError),
    /// Restream could not be reached, or its answer could not be read.
    #[error("could not talk to Restream: {0}")]
    Unreachable(String),
    /// The answer lacked a refresh token, which Fanout needs to keep streaming for a year.
    #[error("Restream's answer had no refresh token")]
    NoRefreshToken,
    /// The configured addresses are not usable URLs.
    #[error("the Restream OAuth endpoints are misconfigured: {0}")]
    Config(String),
}

/// The path Restream.io sends volunteers back to (register `<public URL>` + this with the app).
pub const CALLBACK_PATH: &str = "/oauth/restream/callback";

/// A fresh token pair.
#[derive(Debug)]
pub struct TokenPair {
    /// The access token.
    pub access: Secret,
    /// The refresh token.
    pub refresh: Secret,
    /// Seconds the access token lives (Restream: 3600).
    pub expires_in: Duration,
}

impl TokenPair {
    /// The shortest and longest lifetimes believed: an `expires_in` outside them (0, or one that
    /// would overflow a date) is taken as the nearest bound.
    const LIFETIME: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(365 * 24 * 3600));

    /// When the access token expires, counted from `at`.
    pub fn expires_at(&self, at: time::OffsetDateTime) -> time::OffsetDateTime {
        let lifetime = self.expires_in.clamp(Self::LIFETIME.0, Self::LIFETIME.1);
        let lifetime = time::Duration::try_from(lifetime).unwrap_or(time::Duration::HOUR);
        at.checked_add(lifetime).unwrap_or(at)
    }
}

/// Fanout's Restream.io OAuth client.
#[derive(Clone)]
pub struct RestreamOAuth {
    client: Client,
    revoke_url: Url,
    http: reqwest::Client,
}

impl fmt::Debug for RestreamOAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RestreamOAuth(client id {})", self.client.client_id().as_str())
    }
}

impl RestreamOAuth {
    /// A client for the app `client_id`/`secret` at `endpoints`, redirecting to `redirect`.
    pub fn new(endpoints: &Endpoints, client_id: &str, secret: &Secret, redirect: &Url, http: reqwest::Client) -> Result<Self, OAuthError> {
        let config = |e: url::ParseError| OAuthError::Config(e.to_string());
        let client = oauth2::Client::new(ClientId::new(client_id.to_string()))
            .set_client_secret(ClientSecret::new(secret.expose().to_string()))
            .set_auth_uri(AuthUrl::from_url(endpoints.authorize()))
            .set_token_uri(TokenUrl::from_url(endpoints.token()))
            .set_redirect_uri(RedirectUrl::new(redirect.to_string()).map_err(config)?);
        Ok(Self { client, revoke_url: endpoints.revoke(), http })
    }

    /// The authorize dialog's URL for a sign-up with `state`.
    pub fn authorize_url(&self, state: &str) -> Url {
        let state = state.to_string();
        self.client.authorize_url(move || CsrfToken::new(state)).url().0
    }

    /// Exchanges an authorization code for a token pair.
    pub async fn exchange(&self, code: &str) -> Result<TokenPair, OAuthError> {
        let tokens =
            self.client.exchange_code(AuthorizationCode::new(code.to_string())).request_async(&self.http).await.map_err(classify)?;
        let refresh = tokens.refresh_token().ok_or(OAuthError::NoRefreshToken)?;
        Ok(TokenPair {
            access: Secret::new(tokens.access_token().secret().as_str()),
            refresh: Secret::new(refresh.secret().as_str()),
            expires_in: tokens.expires_in().unwrap_or(Duration::from_secs(3600)),
        })
    }

    /// Exchanges a refresh token for a new pair. Restream invalidates the old pair at once, so
    /// the caller must persist the new one before using it.
    pub async fn refresh(&self, refresh: &Secret) -> Result<TokenPair, OAuthError> {
        let tokens = self
            .client
            .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_string()))
            .request_async(&self.http)
            .await
            .map_err(classify)?;
        let new_refresh = tokens.refresh_token().ok_or(OAuthError::NoRefreshToken)?;
        Ok(TokenPair {
            access: Secret::new(tokens.access_token().secret().as_str()),
            refresh: Secret::new(new_refresh.secret().as_str()),
            expires_in: tokens.expires_in().unwrap_or(Duration::from_secs(3600)),
        })
    }

    /// Asks Restream to revoke a refresh token (and with it its access token). Restream answers
    /// 200 with an empty body whether or not the token was known.
    pub async fn revoke(&self, refresh: &Secret) -> Result<(), OAuthError> {
        let response = self
            .http
            .post(self.revoke_url.clone())
            .form(&[("token", refresh.expose()), ("token_type_hint", "refresh_token")])
            .send()
            .await
            .map_err(|e| OAuthError::Unreachable(e.without_url().to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(OAuthError::Unreachable(format!("revocation answered {}", response.status())))
        }
    }
}

impl app::signup::start::AuthorizeUrl for RestreamOAuth {
    fn authorize_url(&self, state: &str) -> Url {
        RestreamOAuth::authorize_url(self, state)
    }
}

fn classify<RE: std::error::Error + 'static>(error: RequestTokenError<RE, RestreamOAuthError>) -> OAuthError {
    match error {
        RequestTokenError::ServerResponse(body) => OAuthError::Refused(body),
        other => OAuthError::Unreachable(describe(&other)),
    }
}

/// A description of a failed request that names what failed but never includes a body
/// (which could hold a token).
fn describe<RE: std::error::Error + 'static, T: oauth2::ErrorResponse>(error: &RequestTokenError<RE, T>) -> String {
    match error {
        RequestTokenError::Request(e) => format!("request failed: {e}"),
        RequestTokenError::Parse(e, _) => format!("unreadable answer (at {})", e.path()),
        RequestTokenError::Other(text) => text.clone(),
        RequestTokenError::ServerResponse(body) => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restreams_token_answer_is_read_with_its_twins_ignored() {
        let body = r#"{"access_token":"a1","accessToken":"a1","token_type":"Bearer","expires_in":3600,
            "accessTokenExpiresIn":3600,"refresh_token":"r1","refreshToken":"r1","scope":"profile.read channels.write"}"#;
        let tokens: RestreamTokens = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tokens.access_token().secret(), "a1");
        assert_eq!(tokens.refresh_token().map(|r| r.secret().as_str()), Some("r1"));
        assert_eq!(tokens.expires_in(), Some(Duration::from_secs(3600)));
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let pair = |secs| TokenPair { access: Secret::new("a"), refresh: Secret::new("r"), expires_in: Duration::from_secs(secs) };
        assert_eq!(pair(3600).expires_at(at), at + time::Duration::HOUR);
        assert_eq!(pair(u64::MAX).expires_at(at), at + time::Duration::days(365), "an absurd lifetime does not overflow");
        assert_eq!(pair(0).expires_at(at), at + time::Duration::MINUTE);
        assert_eq!(tokens.scopes().map(Vec::len), Some(2));
        let minimal: RestreamTokens = serde_json::from_str(r#"{"access_token":"a","scope":["x"]}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(minimal.token_type(), &BasicTokenType::Bearer);
    }

    #[test]
    fn both_error_shapes_are_understood() {
        let nested: RestreamOAuthError =
            serde_json::from_str(r#"{"error":{"statusCode":400,"status":400,"message":"Invalid grant","name":"invalid_grant"}}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(nested.code(), "invalid_grant");
        assert_eq!(nested.to_string(), "invalid_grant: Invalid grant");
        let standard: RestreamOAuthError = serde_json::from_str(r#"{"error":"invalid_client"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(standard.code(), "invalid_client");
    }

    #[test]
    fn the_authorize_url_carries_exactly_what_restream_documents() {
        let endpoints = Endpoints::new(Url::parse("https://api.restream.io").unwrap_or_else(|e| panic!("{e}")));
        let redirect = Url::parse("https://fanout.example.org/oauth/restream/callback").unwrap_or_else(|e| panic!("{e}"));
        let http = reqwest::Client::new();
        let oauth = RestreamOAuth::new(&endpoints, "cid", &Secret::new("shh"), &redirect, http).unwrap_or_else(|e| panic!("{e}"));
        let url = oauth.authorize_url("st4te");
        assert_eq!(url.path(), "/login");
        let mut pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("client_id".to_string(), "cid".to_string()),
                ("redirect_uri".into(), redirect.to_string()),
                ("response_type".into(), "code".into()),
                ("state".into(), "st4te".into()),
            ]
        );
        assert!(!url.as_str().contains("shh"), "the secret never goes in a URL");
    }
}
