//! Who may enter the admin dashboard and who is in: the admins of `FANOUT_ADMIN_USERS` and
//! their argon2id hashes (`users`), the signed-in sessions (`session`), the slowing of failed
//! logins (`throttle`) and the bounded password checks (`checks`). A leaf: it knows nothing
//! of the web server, the engine or the configuration that uses it.

pub mod checks;
pub mod session;
pub mod throttle;
pub mod users;

pub use checks::PasswordChecks;
pub use session::{AdminSession, AdminSessions};
pub use throttle::LoginThrottle;
pub use users::AdminUsers;

/// Everything the door needs.
#[derive(Debug, Clone, Default)]
pub struct AdminAccess {
    /// Who may sign in.
    pub users: AdminUsers,
    /// Who is signed in.
    pub sessions: AdminSessions,
    /// Failed logins.
    pub throttle: LoginThrottle,
    /// The bound on password checks at once.
    pub checks: PasswordChecks,
    /// Whether cookies get `Secure` and the `__Host-` prefix (the public URL is https).
    pub secure_cookies: bool,
}
