//! Password checks: argon2 takes ~19 MiB and tens of milliseconds, so checks run on two threads
//! of their own, each reusing one argon2 buffer — a flood of logins costs two buffers, never one
//! per thread of a blocking pool — behind a short queue; beyond it the caller is told "busy".

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc;

use super::users::AdminUsers;

/// How many passwords are checked at once (threads of their own).
const CONCURRENT_CHECKS: usize = 2;
/// How many checks may wait for a thread.
const QUEUED_CHECKS: usize = 4;
/// How long a check waits for a free thread before it is refused as busy.
const CHECK_WAIT: Duration = Duration::from_secs(1);

/// A password to check, and where the answer goes.
struct Check {
    users: AdminUsers,
    name: String,
    password: String,
    answer: tokio::sync::oneshot::Sender<bool>,
}

/// The threads that check passwords, and the short queue in front of them.
#[derive(Debug, Clone, Default)]
pub struct PasswordChecks(Arc<OnceLock<mpsc::Sender<Check>>>);

impl PasswordChecks {
    fn queue(&self) -> &mpsc::Sender<Check> {
        self.0.get_or_init(|| {
            let (sender, receiver) = mpsc::channel::<Check>(QUEUED_CHECKS);
            let receiver = Arc::new(std::sync::Mutex::new(receiver));
            for n in 0..CONCURRENT_CHECKS {
                let receiver = Arc::clone(&receiver);
                let spawned = std::thread::Builder::new().name(format!("password-check-{n}")).spawn(move || {
                    // argon2's working memory, allocated once and used for every check.
                    let mut memory = Vec::new();
                    loop {
                        let next = receiver.lock().unwrap_or_else(std::sync::PoisonError::into_inner).blocking_recv();
                        let Some(check) = next else { return };
                        let _ = check.answer.send(check.users.verify_with(&check.name, &check.password, &mut memory));
                    }
                });
                if let Err(error) = spawned {
                    tracing::error!(%error, "cannot start a password-check thread");
                }
            }
            sender
        })
    }

    /// Checks `password` for `name`; `None` when the checks are all busy for [`CHECK_WAIT`].
    pub async fn check(&self, users: AdminUsers, name: String, password: String) -> Option<bool> {
        let slot = tokio::time::timeout(CHECK_WAIT, self.queue().reserve()).await.ok()?.ok()?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        slot.send(Check { users, name, password, answer });
        answered.await.ok()
    }
}
