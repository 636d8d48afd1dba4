//! Telling people what happened: the admin hears when a live reaches its destinations and when
//! it ends, when a destination keeps failing and when YouTube refuses Fanout — by e-mail
//! (`FANOUT_SMTP_URL`, `FANOUT_NOTIFY_EMAILS`) and webhooks (`FANOUT_WEBHOOK_URLS`).
//!
//! [`follow`] reads the engine's `DashboardStatus` (the one value the dashboard renders) and
//! hands it to [`follow::Follower`], pure, which says what is worth telling ([`message`]: a
//! typed [`Notice`] and its words). The [`Notifier`] puts each message on one bounded queue per
//! channel; each channel's task sends it ([`send`]) and tries again with backoff, so a slow or
//! broken channel holds up nothing but itself, and the engine never waits. A message that
//! still fails is an event (`notification_failed`), naming the channel by its label only.
//! "Live started" is claimed once per live in the store, so a restart mid-live (the live
//! resumed) does not tell it again.

pub mod channel;
pub mod follow;
pub mod message;
pub mod send;
pub mod volunteer;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::dashboard::DashboardStatus;
use app::model::{AccountId, EventKind};
use app::secrets::Secret;
use app::store::{NewEvent, SharedStore};
use lettre::message::Mailbox;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

pub use channel::{NotifySettings, Smtp, Webhook, WebhookShape};
pub use message::{Message, Notice, NoticeKind, Tally};
pub use send::SendError;

/// Messages waiting per channel; beyond it a new message is dropped (and logged).
const QUEUE: usize = 32;
/// Volunteers' e-mails waiting; beyond it one is dropped (and logged; the next turn may send it).
const VOLUNTEER_QUEUE: usize = 1024;
/// How often the status is looked at even when it does not change (a failing spell grows).
const TICK: Duration = Duration::from_secs(5);

/// How a channel tries again: after `first`, doubling, `attempts` tries in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub first: Duration,
    /// Tries in all.
    pub attempts: u32,
}

impl Default for Backoff {
    /// 5 tries over 15 s (1, 2, 4, 8 s apart).
    fn default() -> Self {
        Self { first: Duration::from_secs(1), attempts: 5 }
    }
}

/// Why the notifier could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The HTTP client for webhooks could not be built.
    #[error("cannot build the webhooks' HTTP client: {0}")]
    Client(String),
}

/// One place messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    /// The admins' addresses, in one e-mail.
    AdminMail,
    /// The `n`-th webhook (from 0).
    Webhook(usize),
}

/// What every channel's task shares.
struct Shared {
    settings: NotifySettings,
    http: reqwest::Client,
    store: SharedStore,
    backoff: Backoff,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("settings", &self.settings).field("backoff", &self.backoff).finish_non_exhaustive()
    }
}

impl Shared {
    fn label(&self, channel: Channel) -> String {
        match channel {
            Channel::AdminMail => self.settings.smtp.as_ref().map_or_else(String::new, |s| format!("e-mail to the admins via {}", s.label)),
            Channel::Webhook(n) => self.settings.webhooks.get(n).map_or_else(String::new, |w| w.label.clone()),
        }
    }

    /// One try.
    async fn deliver(&self, channel: Channel, message: &Message) -> Result<(), SendError> {
        match channel {
            Channel::AdminMail => match &self.settings.smtp {
                Some(smtp) => send::to_mailboxes(smtp, &smtp.admins, message).await,
                None => Ok(()),
            },
            Channel::Webhook(n) => match self.settings.webhooks.get(n) {
                Some(hook) => send::to_webhook(&self.http, hook, message).await,
                None => Ok(()),
            },
        }
    }

    /// Tries until it works or the backoff's tries are spent; then records the failure.
    async fn deliver_with_retry(&self, channel: Channel, message: &Message) {
        let label = self.label(channel);
        self.retry(&label, message, None, || self.deliver(channel, message)).await;
    }

    /// Mails one volunteer, trying again like any channel; the address and the links stay out
    /// of the log and the event (which names the account).
    async fn mail_volunteer(&self, letter: &Letter) {
        let Some(smtp) = &self.settings.smtp else { return };
        let label = format!("e-mail to a volunteer via {}", smtp.label);
        let address = letter.to.email.to_string();
        self.retry(&label, &letter.message, Some(&letter.account), || async {
            send::to_volunteer(smtp, &letter.to, &letter.message, letter.unsubscribe.expose())
                .await
                .map_err(|e| e.without(&address, "(the volunteer)").without(letter.unsubscribe.expose(), "(link)"))
        })
        .await;
    }

    async fn retry<F, Fut>(&self, label: &str, message: &Message, account: Option<&AccountId>, mut once: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), SendError>>,
    {
        let mut wait = self.backoff.first;
        for attempt in 1..=self.backoff.attempts.max(1) {
            match once().await {
                Ok(()) => {
                    tracing::info!(channel = %label, kind = %message.kind, attempt, "notification sent");
                    return;
                }
                Err(error) if attempt < self.backoff.attempts => {
                    tracing::warn!(channel = %label, kind = %message.kind, attempt, %error, "notification not sent; trying again");
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                }
                Err(error) => {
                    tracing::warn!(channel = %label, kind = %message.kind, attempt, %error, "notification given up");
                    let text = format!("{label}: “{}” not delivered after {attempt} tries ({error})", message.subject);
                    let event = NewEvent::now(EventKind::NotificationFailed, text);
                    let event = match account {
                        Some(account) => event.for_account(account),
                        None => event,
                    };
                    app::store::note(self.store.as_ref(), event).await;
                }
            }
        }
    }
}

/// One e-mail to one volunteer: to their address alone, with their unsubscribe link.
pub struct Letter {
    /// Whose.
    pub account: AccountId,
    /// Their address.
    pub to: Mailbox,
    /// What it says (the links are in the text).
    pub message: Message,
    /// Their unsubscribe URL, for the `List-Unsubscribe` header.
    pub unsubscribe: Secret,
}

impl std::fmt::Debug for Letter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Letter").field("account", &self.account).field("kind", &self.message.kind).finish_non_exhaustive()
    }
}

/// What happened to a test message on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The channel, by its label.
    pub channel: String,
    /// Sent, or why not.
    pub result: Result<(), String>,
}

/// Hands messages to every admin channel's queue; cheap to clone.
#[derive(Debug, Clone)]
pub struct Notifier {
    shared: Arc<Shared>,
    lanes: Arc<Vec<(Channel, mpsc::Sender<Arc<Message>>)>>,
    /// The volunteers' e-mails, one after the other, when there is an SMTP relay.
    volunteers: Option<mpsc::Sender<Letter>>,
    dashboard: Arc<str>,
}

impl Notifier {
    /// Starts one task per configured admin channel (each ends when the last clone is dropped).
    /// `dashboard` is the admin dashboard's address, put in every message.
    pub fn start(settings: NotifySettings, store: SharedStore, dashboard: String, backoff: Backoff) -> Result<Self, NotifyError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(send::DEADLINE)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| NotifyError::Client(e.without_url().to_string()))?;
        let mut channels = Vec::new();
        if settings.smtp.as_ref().is_some_and(|s| !s.admins.is_empty()) {
            channels.push(Channel::AdminMail);
        }
        channels.extend((0..settings.webhooks.len()).map(Channel::Webhook));
        let shared = Arc::new(Shared { settings, http, store, backoff });
        let lanes = channels
            .into_iter()
            .map(|channel| {
                let (queue, mut waiting) = mpsc::channel::<Arc<Message>>(QUEUE);
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    while let Some(message) = waiting.recv().await {
                        shared.deliver_with_retry(channel, &message).await;
                    }
                });
                (channel, queue)
            })
            .collect();
        let volunteers = shared.settings.smtp.is_some().then(|| {
            let (queue, mut waiting) = mpsc::channel::<Letter>(VOLUNTEER_QUEUE);
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                while let Some(letter) = waiting.recv().await {
                    shared.mail_volunteer(&letter).await;
                }
            });
            queue
        });
        Ok(Self { shared, lanes: Arc::new(lanes), volunteers, dashboard: dashboard.into() })
    }

    /// How many admin channels there are.
    pub fn channels(&self) -> usize {
        self.lanes.len()
    }

    /// Queues `notice` on every admin channel; never waits.
    pub fn tell(&self, notice: &Notice) {
        let message = Arc::new(notice.message(&self.dashboard));
        for (channel, queue) in self.lanes.iter() {
            if let Err(error) = queue.try_send(Arc::clone(&message)) {
                let why = match error {
                    mpsc::error::TrySendError::Full(_) => "its queue is full",
                    mpsc::error::TrySendError::Closed(_) => "its task has ended",
                };
                tracing::warn!(channel = %self.shared.label(*channel), kind = %message.kind, "notification dropped: {why}");
            }
        }
    }

    /// Whether volunteers can be mailed (an SMTP relay is set).
    pub fn mails_volunteers(&self) -> bool {
        self.volunteers.is_some()
    }

    /// Queues one volunteer's e-mail; never waits. `false` when it could not be queued.
    pub fn tell_volunteer(&self, letter: Letter) -> bool {
        let Some(queue) = &self.volunteers else { return false };
        match queue.try_send(letter) {
            Ok(()) => true,
            Err(error) => {
                let why = match &error {
                    mpsc::error::TrySendError::Full(_) => "its queue is full",
                    mpsc::error::TrySendError::Closed(_) => "its task has ended",
                };
                tracing::warn!(account = %error.into_inner().account, "a volunteer's e-mail dropped: {why}");
                false
            }
        }
    }

    /// Sends a test message to every admin channel now, once each, and says what happened.
    pub async fn test(&self, by: &str) -> Vec<TestOutcome> {
        let message = Notice::Test { by: by.to_string() }.message(&self.dashboard);
        let tries = self.lanes.iter().map(|(channel, _)| {
            let message = &message;
            async move {
                let result = self.shared.deliver(*channel, message).await.map_err(|e| e.to_string());
                TestOutcome { channel: self.shared.label(*channel), result }
            }
        });
        futures::future::join_all(tries).await
    }
}

/// The tally of the live `video_id`, just ended, as the store keeps it (it survives
/// restarts), when it has ended there; else `seen`.
async fn stored_tally(store: &SharedStore, video_id: &app::model::VideoId, seen: Tally) -> Tally {
    let Ok(Some(live)) = store.live(video_id).await else { return seen };
    match (live.started_at, live.ended_at) {
        (Some(start), Some(end)) => Tally {
            duration: Duration::try_from(end - start).unwrap_or(seen.duration),
            peak: live.peak_destinations.max(seen.peak),
            failures: live.failures.max(seen.failures),
        },
        _ => seen,
    }
}

/// The store's meta key that says "live started" was told for the live `video`.
fn start_told_key(video: &app::model::VideoId) -> String {
    format!("notify.live_started.{video}")
}

/// Whether "live started" is told now for the live `video`: claimed in the store
/// (`put_meta_if_absent`), so a Fanout restarted mid-live, resuming it, does not tell it again.
/// When the store cannot say, it is told (twice rather than never).
async fn first_start_told(store: &SharedStore, video: &app::model::VideoId) -> bool {
    match store.put_meta_if_absent(&start_told_key(video), b"told").await {
        Ok(first) => first,
        Err(error) => {
            tracing::warn!(%error, "cannot claim the live-started notice; telling it");
            true
        }
    }
}

/// Drops the ended live's claim (one key per live, not kept past it).
async fn forget_start_told(store: &SharedStore, video: &app::model::VideoId) {
    if let Err(error) = store.set_meta(&start_told_key(video), None).await {
        tracing::warn!(%error, "cannot drop the live-started claim");
    }
}

/// Follows the engine's status until `stop` (or the engine's end), telling `notifier` what
/// [`follow::Follower`] finds worth it.
pub async fn follow(notifier: Notifier, mut status: watch::Receiver<DashboardStatus>, stop: CancellationToken) {
    let mut follower = follow::Follower::default();
    let mut tick = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            changed = status.changed() => if changed.is_err() { return },
            _ = tick.tick() => {}
        }
        let now = status.borrow_and_update().clone();
        for notice in follower.observe(&now, Instant::now()) {
            let store = &notifier.shared.store;
            let notice = match notice {
                Notice::LiveStarted { ref video_id, .. } if !first_start_told(store, video_id).await => continue,
                Notice::LiveEnded { title, video_id, tally } => {
                    forget_start_told(store, &video_id).await;
                    let tally = stored_tally(store, &video_id, tally).await;
                    Notice::LiveEnded { title, video_id, tally }
                }
                other => other,
            };
            notifier.tell(&notice);
        }
    }
}
