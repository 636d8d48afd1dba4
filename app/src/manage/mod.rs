//! Volunteers managing their own connection without a login: the signed manage link
//! ([`link`]), what the manage page shows ([`ManageView`]) and the server function that reads
//! it. The actions (pause, resume, disconnect) are plain form posts the server handles.

#[cfg(feature = "ssr")]
pub mod link;

pub mod api;

pub use api::{ManageAction, ManageFnError, ManageView, manage_view};
