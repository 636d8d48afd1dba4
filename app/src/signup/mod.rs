//! The public sign-up: the form's rules ([`validate`], shared by browser and server), the
//! server function that starts the Restream.io OAuth flow, and (with `ssr`) the service it
//! calls, which the server's plain-form handler calls too.

pub mod attempt;
pub mod validate;

#[cfg(feature = "ssr")]
pub mod start;

pub mod api;

pub use api::{SignupFnError, start_signup};
