//! A sign-up submitted without JavaScript that needs correcting: the server renders the page
//! again with what was typed and every message. It travels to the page as context on the
//! server and, serialised with the page, to the browser, so hydration sees the same state.

// `#[server]` generates a public argument struct.
#![allow(missing_docs)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::validate::{FieldErrors, SignupForm};

/// What was submitted and what is wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupAttempt {
    /// The form as typed.
    pub form: SignupForm,
    /// The fields' messages.
    pub errors: FieldErrors,
    /// A problem with the whole sign-up (not open, too many attempts, server trouble).
    pub problem: Option<String>,
}

/// The attempt being re-rendered, if this render answers a form post.
#[server(name = ReadSignupAttempt, prefix = "/api", endpoint = "signup_attempt")]
pub async fn signup_attempt() -> Result<Option<SignupAttempt>, ServerFnError> {
    Ok(use_context::<SignupAttempt>())
}
