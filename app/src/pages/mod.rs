//! The routed pages.

pub mod admin;
pub mod not_found;
pub mod signup;
