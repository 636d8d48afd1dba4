//! Telling volunteers (at the address they gave at sign-up): "your Restream connection needs
//! you", with their fresh manage link, when their account turns needs-reconnect (unless they
//! opted out), and "we're live" when a live streams to them (if they opted in). Every e-mail
//! carries their unsubscribe link, in the text and in RFC 8058's one-click headers.
//!
//! [`plan::Watch`] (pure) says who is due what, from the accounts the store holds (read at most
//! once a [`TICK`], looked at again whenever the engine's status changes) and the live streaming now; the store's
//! claim (`Store::claim_mail`) then holds each e-mail to its limit — one "needs you" per
//! [`NEEDS_YOU_QUIET`], one "we're live" per live — and, being stored, across restarts. The
//! e-mail goes on the [`super::Notifier`]'s volunteer queue; nothing here waits on a send, and
//! nothing here logs an address or a link.

pub mod plan;
pub mod words;

use std::time::Duration;

use app::dashboard::DashboardStatus;
use app::manage::link::LinkSigner;
use app::manage::unsubscribe::UnsubscribeSigner;
use app::model::{DestinationId, DestinationState, LiveState, VideoId};
use app::secrets::Secret;
use app::setup::PublicUrl;
use app::store::{Account, MailClaim, SharedStore, now};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Letter, Notifier};
use plan::{Due, LiveNow, Seen, Watch};
use words::{Links, VolunteerNotice};

/// How often the accounts are read.
pub const TICK: Duration = Duration::from_secs(3);
/// The least time between two "needs you" e-mails to one volunteer.
pub const NEEDS_YOU_QUIET: time::Duration = time::Duration::hours(24);

/// What the volunteers' e-mails are made with.
#[derive(Clone)]
pub struct VolunteerMailer {
    /// Where e-mails go.
    pub notifier: Notifier,
    /// The accounts, and the claims.
    pub store: SharedStore,
    /// Signs the manage links put in e-mails.
    pub links: LinkSigner,
    /// Signs the unsubscribe links.
    pub unsubscribe: UnsubscribeSigner,
    /// The base URL volunteers reach this server at.
    pub public_url: PublicUrl,
}

impl std::fmt::Debug for VolunteerMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VolunteerMailer").finish_non_exhaustive()
    }
}

impl VolunteerMailer {
    /// Follows the accounts (and the engine's status, when there is an engine) until `stop`.
    pub async fn follow(self, mut status: Option<watch::Receiver<DashboardStatus>>, stop: CancellationToken) {
        if !self.notifier.mails_volunteers() {
            return;
        }
        let mut watch = Watch::default();
        let mut live_video: Option<(String, VideoId)> = None;
        let mut tick = tokio::time::interval(TICK);
        let (mut accounts, mut read_at): (Vec<Account>, Option<std::time::Instant>) = (Vec::new(), None);
        loop {
            let changed = async {
                match status.as_mut() {
                    Some(status) => status.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                ok = changed => if !ok { status = None },
                _ = tick.tick() => {}
            }
            let now_status = status.as_mut().map(|s| s.borrow_and_update().clone());
            // The status changes twice a second during a live; the accounts are read at most
            // once a TICK (their status turns in the store, not in the engine's status).
            if read_at.is_none_or(|at| at.elapsed() >= TICK) {
                match self.store.accounts().await {
                    Ok(fresh) => (accounts, read_at) = (fresh, Some(std::time::Instant::now())),
                    Err(error) => {
                        tracing::warn!(%error, "could not read the accounts for the volunteers' e-mails");
                        continue;
                    }
                }
            }
            let live = match now_status.as_ref() {
                Some(status) => self.live_now(status, &mut live_video).await,
                None => None,
            };
            let seen: Vec<Seen> = accounts.iter().map(|a| Seen { id: a.id.clone(), status: a.status, choices: a.mail.choices }).collect();
            for due in watch.observe(&seen, live.as_ref().map(|(live, _)| live)) {
                let (id, claim, notice) = match due {
                    Due::NeedsYou(id) => (id, MailClaim::NeedsYou { at: now(), quiet: NEEDS_YOU_QUIET }, VolunteerNotice::NeedsYou),
                    Due::LiveNote(id, video) => {
                        let (title, url) = live.as_ref().map(|(_, t)| t.clone()).unwrap_or_default();
                        (id, MailClaim::LiveNote { video }, VolunteerNotice::LiveNote { title, url })
                    }
                };
                let Some(account) = accounts.iter().find(|a| a.id == id) else { continue };
                self.send(account, claim, &notice).await;
            }
        }
    }

    /// The live streaming now (its video read from the store once per live), with its title and
    /// watch page.
    async fn live_now(&self, status: &DashboardStatus, cached: &mut Option<(String, VideoId)>) -> Option<(LiveNow, (String, String))> {
        let Some(summary) = status.live.as_ref().filter(|l| matches!(l.phase, LiveState::Streaming | LiveState::Grace)) else {
            *cached = None;
            return None;
        };
        if cached.as_ref().is_none_or(|(title, _)| title != &summary.title) {
            let open = self.store.recent_lives(1).await.unwrap_or_default().into_iter().find(|l| l.ended_at.is_none());
            *cached = open.map(|l| (summary.title.clone(), l.video_id));
        }
        let (_, video) = cached.as_ref()?;
        let streaming = status
            .destinations
            .iter()
            .filter(|d| d.state == DestinationState::Streaming)
            .filter_map(|d| match &d.id {
                DestinationId::Account(id) => Some(id.clone()),
                DestinationId::Direct(_) => None,
            })
            .collect();
        Some((LiveNow { video: video.clone(), streaming }, (summary.title.clone(), summary.url.clone())))
    }

    /// Claims the e-mail in the store and, if it is the volunteer's to get, queues it.
    async fn send(&self, account: &Account, claim: MailClaim, notice: &VolunteerNotice) {
        let Ok(to) = account.email.parse::<lettre::message::Mailbox>() else {
            tracing::warn!(account = %account.id, "a volunteer's address is not one e-mail can go to; not mailed");
            return;
        };
        match self.store.claim_mail(&account.id, claim).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => {
                tracing::warn!(account = %account.id, %error, "could not claim a volunteer's e-mail; not sent");
                return;
            }
        }
        let manage = self.public_url.join(&format!("/manage/{}", self.links.issue(&account.id, account.link_epoch, now())));
        let unsubscribe = self.public_url.join(&format!("/unsubscribe/{}", self.unsubscribe.issue(&account.id)));
        let message = notice.message(&account.display_name, &Links { manage: &manage, unsubscribe: &unsubscribe });
        tracing::info!(account = %account.id, kind = %message.kind, "a volunteer's e-mail queued");
        self.notifier.tell_volunteer(Letter { account: account.id.clone(), to, message, unsubscribe: Secret::new(unsubscribe) });
    }
}
