//! The API's errors: each a stable snake_case code, a message a caller can act on, and its HTTP
//! status, answered as `{"error": {"code": "…", "message": "…"}}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::types::{ErrorBody, ErrorDetail};

/// What the API refuses, and why.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer …` header (a cookie alone is no credential here).
    #[error("this route needs an API token: send Authorization: Bearer <token> (make one in the dashboard's Settings)")]
    MissingToken,
    /// The bearer token is not one Fanout made, or it was revoked.
    #[error("the API token is not valid (it may have been revoked)")]
    InvalidToken,
    /// The token sent too many requests; try again after this many seconds.
    #[error("too many requests with this token; try again in {0} s")]
    RateLimited(u64),
    /// No route has this path.
    #[error("no such route under /api/v1 (see /api/v1/openapi.json)")]
    NotFound,
    /// The route does not take this method.
    #[error("this route does not take that method (see /api/v1/openapi.json)")]
    MethodNotAllowed,
    /// No account has the id in the path.
    #[error("no account has this id")]
    UnknownAccount,
    /// No direct destination has the id in the path.
    #[error("no direct destination has this id")]
    UnknownDirect,
    /// The request's body or query could not be read (bad JSON, wrong type, wrong field).
    #[error("{message}")]
    BadRequest {
        /// The status the reader chose (400, 415 or 422).
        status: StatusCode,
        /// What it said.
        message: String,
    },
    /// The request was read but breaks a rule (e.g. a URL the relay cannot stream to).
    #[error("{0}")]
    Invalid(String),
    /// The engine refused or could not do it now (nothing live, already restreaming…).
    #[error("{0}")]
    Refused(crate::engine::control::ControlError),
    /// The store failed (the error is logged where it happened).
    #[error("the store could not be read or written; please try again")]
    Store,
}

impl ApiError {
    /// The stable code callers match on.
    pub fn code(&self) -> &'static str {
        use crate::engine::control::ControlError;
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidToken => "invalid_token",
            Self::RateLimited(_) => "rate_limited",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UnknownAccount => "unknown_account",
            Self::UnknownDirect => "unknown_direct_destination",
            Self::BadRequest { .. } => "bad_request",
            Self::Invalid(_) => "invalid_field",
            Self::Refused(ControlError::EngineGone) => "engine_not_running",
            Self::Refused(ControlError::NotRestreaming) => "not_restreaming",
            Self::Refused(ControlError::AlreadyRestreaming) => "already_restreaming",
            Self::Refused(ControlError::NoLive) => "no_live",
            Self::Refused(ControlError::UnknownDestination) => "unknown_destination",
            Self::Refused(ControlError::NoRestream) => "no_restream_app",
            Self::Store => "store_unavailable",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        use crate::engine::control::ControlError;
        match self {
            Self::MissingToken | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound | Self::UnknownAccount | Self::UnknownDirect => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest { status, .. } => *status,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Refused(ControlError::EngineGone) | Self::Store => StatusCode::SERVICE_UNAVAILABLE,
            Self::Refused(ControlError::UnknownDestination) => StatusCode::NOT_FOUND,
            Self::Refused(_) => StatusCode::CONFLICT,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_string(), message: self.to_string() } };
        let mut response = (self.status(), Json(body)).into_response();
        match self {
            Self::MissingToken | Self::InvalidToken => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"fanout\""));
            }
            Self::RateLimited(seconds) => {
                if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            _ => {}
        }
        response
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        Self::BadRequest { status: rejection.status(), message: rejection.body_text() }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Self::BadRequest { status: StatusCode::BAD_REQUEST, message: rejection.body_text() }
    }
}
