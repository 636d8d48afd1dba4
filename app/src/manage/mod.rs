//! Volunteers managing their own connection without a login: the signed manage link
//! ([`link`]), the unsubscribe link every e-mail to them carries (`unsubscribe`), what the
//! manage page shows ([`ManageView`]) and the server function that reads it. The actions (pause,
//! resume, disconnect, which e-mails they take) are plain form posts the server handles.

#[cfg(feature = "ssr")]
pub mod link;
#[cfg(feature = "ssr")]
pub mod unsubscribe;

pub mod api;

pub use api::{ManageAction, ManageFnError, ManageView, manage_view};
