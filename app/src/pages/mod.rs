//! The routed pages.

pub mod admin;
pub mod admin_login;
pub mod manage;
pub mod not_found;
pub mod signup;
pub mod signup_problem;
