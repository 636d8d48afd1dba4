//! The pages a volunteer's first visit does not need, each behind a lazy route: with
//! `cargo leptos build --split` their code is a WASM chunk of its own, fetched when the page is
//! shown (hydrated or navigated to); without it they are ordinary routes.

// `#[lazy_route]` makes items the routes name `pub`, which `unreachable_pub` flags.
#![allow(unreachable_pub)]

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use super::{admin::AdminPage, admin_login::AdminLoginPage, manage::ManagePage, signup_problem::SignupProblemPage};

/// A lazy route showing page `$page`, with no data of its own to load beside it (the page's
/// resources load as it renders).
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    };
}

lazy_page!(
    /// `/admin`: the dashboard.
    AdminRoute => AdminPage
);
lazy_page!(
    /// `/admin/login`.
    AdminLoginRoute => AdminLoginPage
);
lazy_page!(
    /// `/manage/<link>`: a volunteer's own page.
    ManageRoute => ManagePage
);
lazy_page!(
    /// `/signup/problem`.
    SignupProblemRoute => SignupProblemPage
);
