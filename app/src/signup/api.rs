//! The server function the hydrated form calls, and the error the browser can tell apart.

// `#[server]` generates a public argument struct whose fields cannot carry docs.
#![allow(missing_docs)]

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use super::validate::{FieldErrors, SignupForm};

/// Why a sign-up could not start, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SignupFnError {
    /// Some fields are wrong (the same messages the browser shows).
    #[error("some answers need attention")]
    Invalid(FieldErrors),
    /// No Restream.io application is configured on this server.
    #[error("sign-up is not open yet: this Fanout has no Restream.io application configured")]
    NotOpen,
    /// Too many attempts from the same address.
    #[error("too many attempts from your address: wait {retry_after_secs} seconds and try again")]
    RateLimited {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
    },
    /// The server could not save the sign-up (its store failed).
    #[error("the server could not start your sign-up; please try again in a moment")]
    Unavailable,
    /// The request itself failed (network, encoding).
    #[error("the request failed: {0}")]
    Request(ServerFnErrorErr),
}

impl FromServerFnError for SignupFnError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        Self::Request(error)
    }
}

#[cfg(feature = "ssr")]
impl From<super::start::StartError> for SignupFnError {
    fn from(error: super::start::StartError) -> Self {
        use super::start::StartError;
        match error {
            StartError::Invalid(errors) => Self::Invalid(errors),
            StartError::NotOpen => Self::NotOpen,
            StartError::Store(error) => {
                tracing::error!(%error, "could not record a pending sign-up");
                Self::Unavailable
            }
        }
    }
}

/// Starts a sign-up: validates the form again, records it, and answers the Restream.io
/// authorize URL the browser must go to next.
#[server(prefix = "/api", endpoint = "start_signup", input = server_fn::codec::Json)]
pub async fn start_signup(form: SignupForm) -> Result<String, SignupFnError> {
    use crate::abuse::{ClientAddress, PublicRateLimit};
    use crate::signup::start::SignupService;

    let service = crate::context::<SignupService>().map_err(|_| SignupFnError::Unavailable)?;
    if let Some(limit) = use_context::<PublicRateLimit>() {
        let client: ClientAddress = leptos_axum::extract().await.map_err(|_| SignupFnError::Unavailable)?;
        limit.check(client).map_err(|wait| SignupFnError::RateLimited { retry_after_secs: wait.as_secs().max(1) })?;
    }
    let url = service.start(&form).await.map_err(SignupFnError::from)?;
    let secure = use_context::<crate::setup::PublicUrl>().is_some_and(|base| base.0.starts_with("https://"));
    if let (Some(response), Some(cookie)) =
        (use_context::<leptos_axum::ResponseOptions>(), crate::signup::start::signup_cookie(&url, secure))
        && let Ok(value) = http::HeaderValue::from_str(&cookie)
    {
        response.append_header(http::header::SET_COOKIE, value);
    }
    Ok(url.to_string())
}
