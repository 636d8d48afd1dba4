//! The signed-in admin as the pages see them: name and CSRF token, put in the request by the
//! server's admin gate and read by the dashboard through [`admin_identity`].

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is signed in, and the token their state-changing requests must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminIdentity {
    /// The admin's name.
    pub user: String,
    /// The CSRF token (form field `csrf`, or header `x-fanout-csrf`).
    pub csrf: String,
}

/// The signed-in admin (the gate refuses this endpoint without a session).
#[server(name = ReadAdminIdentity, prefix = "/api", endpoint = "admin_identity", input = leptos::server_fn::codec::GetUrl)]
pub async fn admin_identity() -> Result<AdminIdentity, ServerFnError> {
    let axum::Extension(identity): axum::Extension<AdminIdentity> =
        leptos_axum::extract().await.map_err(|_| ServerFnError::new("not signed in"))?;
    Ok(identity)
}
