//! Pieces shared by several pages.

pub mod layout;
pub mod setup_notice;
