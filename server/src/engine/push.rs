//! The push ingest as the engine runs it (`FANOUT_SOURCE=push|both`): the listener a
//! broadcaster's encoder publishes to (RTMP, or RTMPS with the operator's certificate), for the
//! engine's whole life; the push key, kept in the store only as its SHA-256 (the admin makes a
//! new one in Settings and sees it once); and which live a publish starts ([`pushed_live`]):
//! the live YouTube shows for the channel when it shows one, else — once YouTube has had
//! [`super::live::Timing::push_title_wait`] to show it — a live of Fanout's own under the
//! configured title.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use app::secrets::Secret;
use app::store::{SharedStore, StoreError};
use base64::Engine as _;
use sha2::Digest;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::config::{PushSettings, SourceKind};
use crate::relay::listener::{Door, Expected, Keys};
use crate::relay::push::PushPoint;
use crate::relay::{Peers, listener};
use crate::youtube::detect::Observation;
use crate::youtube::page::LiveNow;

pub use app::admin::PUSH_KEY_META;

/// How long the input's holder may send nothing before the other source takes over: well
/// inside the 5 s after which the live counts its input as lost.
pub const FAILOVER_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// A new push key (256 random bits, URL-safe), its hash stored in place of the old one's. The
/// key itself is returned to be shown once, and kept nowhere.
pub async fn new_key(store: &SharedStore) -> Result<Secret, StoreError> {
    let bytes: [u8; 32] = rand::random();
    let key = Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let hash = sha2::Sha256::digest(key.expose().as_bytes());
    store.set_meta(PUSH_KEY_META, Some(hash.as_slice())).await?;
    Ok(key)
}

/// Whether a push key has been made.
pub async fn has_key(store: &SharedStore) -> bool {
    matches!(store.meta(PUSH_KEY_META).await, Ok(Some(hash)) if hash.len() == 32)
}

/// The push key as the store has it (read for each connection: a new key holds at once).
pub struct StoredPushKey(pub SharedStore);

impl std::fmt::Debug for StoredPushKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredPushKey")
    }
}

#[async_trait::async_trait]
impl Keys for StoredPushKey {
    async fn expected(&self) -> Expected {
        match self.0.meta(PUSH_KEY_META).await {
            Ok(Some(hash)) => <[u8; 32]>::try_from(hash.as_slice()).map_or(Expected::Nothing, Expected::Sha256),
            Ok(None) => Expected::Nothing,
            Err(error) => {
                tracing::warn!(%error, "cannot read the push key: refusing the publisher");
                Expected::Nothing
            }
        }
    }
}

/// The push ingest of a running engine.
#[derive(Debug, Clone)]
pub struct PushSetup {
    /// Where pushed media meets the live.
    pub point: Arc<PushPoint>,
    /// Whether lives are pulled too (`both`).
    pub source: SourceKind,
    /// The title of a pushed live YouTube shows nothing for.
    pub title: String,
    /// Where the listener listens.
    pub address: SocketAddr,
    /// Whether it speaks RTMPS.
    pub tls: bool,
}

impl PushSetup {
    /// Where an encoder publishes, without the key, for a server reached at `host`.
    pub fn url_for(&self, host: &str) -> String {
        let scheme = if self.tls { "rtmps" } else { "rtmp" };
        format!("{scheme}://{host}:{}/{}/", self.address.port(), listener::INGEST_APP)
    }
}

/// Opens the push listener the settings describe; it accepts publishers until `stop`.
pub async fn listen(settings: &PushSettings, store: SharedStore, stop: CancellationToken) -> std::io::Result<PushSetup> {
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    let address = listener.local_addr()?;
    let point = PushPoint::new(FAILOVER_AFTER);
    let door = Door {
        keys: Arc::new(StoredPushKey(store)),
        sink: Arc::new(Arc::clone(&point)),
        peers: if address.ip().is_loopback() { Peers::Loopback } else { Peers::Any },
        tls: settings.tls.clone(),
    };
    let scheme = if settings.tls.is_some() { "rtmps" } else { "rtmp" };
    tracing::info!(%address, scheme, "listening for a pushed live");
    tokio::spawn(listener::accept(listener, door, stop));
    Ok(PushSetup { point, source: settings.source, title: settings.title.clone(), address, tls: settings.tls.is_some() })
}

/// A live a publish starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedLive {
    /// The live.
    pub live: LiveNow,
    /// Whether it is the live YouTube shows (its end on YouTube ends it; it can be pulled).
    pub on_youtube: bool,
    /// Whether it is the live the store still has open (resumed after a restart).
    pub resumes: bool,
}

/// Which live a publish starts: the live the store still has open (Fanout restarted during it)
/// unless the channel shows another; else [`pushed_live`].
pub fn pushed_start(
    observation: Option<&Observation>,
    open: Option<&app::store::Live>,
    ended: &HashSet<String>,
    title: &str,
    waited: bool,
    at: OffsetDateTime,
) -> Option<PushedLive> {
    if let Some(stored) = open {
        match observation {
            Some(Observation::Live(live)) if live.video_id == stored.video_id.0 => {
                return Some(PushedLive { live: live.clone(), on_youtube: true, resumes: true });
            }
            Some(Observation::Live(_)) => {}
            _ => {
                let mut live = own_live(&stored.title, stored.detected_at);
                live.video_id = stored.video_id.0.clone();
                return Some(PushedLive { live, on_youtube: false, resumes: true });
            }
        }
    }
    pushed_live(observation, ended, title, waited, at).map(|(live, on_youtube)| PushedLive { live, on_youtube, resumes: false })
}

/// Which live a publish starts: the one the channel shows (unless it ended or an admin stopped
/// it), or, when `waited` is over, one of Fanout's own under `title`; `None`: wait for YouTube.
pub fn pushed_live(
    observation: Option<&Observation>,
    ended: &HashSet<String>,
    title: &str,
    waited: bool,
    at: OffsetDateTime,
) -> Option<(LiveNow, bool)> {
    if let Some(Observation::Live(live)) = observation
        && !ended.contains(&live.video_id)
    {
        return Some((live.clone(), true));
    }
    if !waited {
        return None;
    }
    Some((own_live(title, at), false))
}

/// A live of Fanout's own, begun `at`.
fn own_live(title: &str, at: OffsetDateTime) -> LiveNow {
    let video_id =
        format!("push-{:04}{:02}{:02}-{:02}{:02}{:02}", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute(), at.second());
    LiveNow {
        video_id,
        title: title.to_string(),
        description: String::new(),
        channel_id: String::new(),
        author: String::new(),
        hls_manifest_url: None,
        thumbnail_url: None,
        started_at: Some(at),
        refusal: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn youtube_live(id: &str) -> Observation {
        let (mut live, _) = pushed_live(None, &HashSet::new(), "x", true, OffsetDateTime::UNIX_EPOCH).unwrap_or_else(|| panic!("own"));
        (live.video_id, live.title) = (id.into(), "On YouTube".into());
        Observation::Live(live)
    }

    #[test]
    fn a_publish_joins_the_live_youtube_shows_or_waits_for_it_then_goes_alone() {
        let at = time::macros::datetime!(2026-12-01 15:04:05 UTC);
        let none = HashSet::new();
        let shown = youtube_live("Ab3_dE-fGh1");
        let (live, on_youtube) = pushed_live(Some(&shown), &none, "Live now", false, at).unwrap_or_else(|| panic!("the live shown"));
        assert_eq!((live.video_id.as_str(), live.title.as_str(), on_youtube), ("Ab3_dE-fGh1", "On YouTube", true));
        assert_eq!(pushed_live(Some(&Observation::NotLive(None)), &none, "Live now", false, at), None, "YouTube may show it soon");
        let (own, on_youtube) = pushed_live(None, &none, "Live now", true, at).unwrap_or_else(|| panic!("alone after the wait"));
        assert_eq!((own.video_id.as_str(), own.title.as_str(), on_youtube), ("push-20261201-150405", "Live now", false));
        let ended: HashSet<String> = ["Ab3_dE-fGh1".to_string()].into();
        let (own, _) = pushed_live(Some(&shown), &ended, "Live now", true, at).unwrap_or_else(|| panic!("alone"));
        assert!(own.video_id.starts_with("push-"), "an ended (or stopped) live is not joined again");
    }

    #[test]
    fn a_publish_after_a_restart_resumes_the_open_live_unless_youtube_shows_another() {
        let at = time::macros::datetime!(2026-12-01 15:04:05 UTC);
        let open = app::store::Live {
            video_id: app::store::VideoId("push-20261201-140000".into()),
            title: "Evening satsang".into(),
            state: app::model::LiveState::Streaming,
            detected_at: at,
            started_at: Some(at),
            ended_at: None,
            peak_destinations: 3,
            failures: 0,
        };
        let none = HashSet::new();
        let resumed = pushed_start(None, Some(&open), &none, "Live now", false, at).unwrap_or_else(|| panic!("resumed"));
        assert!(resumed.resumes && !resumed.on_youtube);
        assert_eq!((resumed.live.video_id.as_str(), resumed.live.title.as_str()), ("push-20261201-140000", "Evening satsang"));
        let other = youtube_live("Ab3_dE-fGh1");
        let joined = pushed_start(Some(&other), Some(&open), &none, "Live now", false, at).unwrap_or_else(|| panic!("joined"));
        assert!(!joined.resumes && joined.on_youtube, "YouTube shows another live: that one, the open one is stale");
    }

    #[test]
    fn a_new_key_replaces_the_old_and_only_its_hash_is_kept() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let store: SharedStore =
                Arc::new(app::store::SqliteStore::open(&dir.path().join("f.db")).await.unwrap_or_else(|e| panic!("{e}")));
            let keys = StoredPushKey(store.clone());
            assert!(!keys.expected().await.accepts(""), "no key yet: nothing is accepted");
            assert!(!has_key(&store).await);
            let first = new_key(&store).await.unwrap_or_else(|e| panic!("{e}"));
            assert!(first.expose().len() >= 43 && has_key(&store).await);
            assert!(keys.expected().await.accepts(first.expose()));
            let second = new_key(&store).await.unwrap_or_else(|e| panic!("{e}"));
            let expected = keys.expected().await;
            assert!(expected.accepts(second.expose()) && !expected.accepts(first.expose()), "the old key no longer works");
            let kept = store.meta(PUSH_KEY_META).await.ok().flatten().unwrap_or_default();
            assert!(!String::from_utf8_lossy(&kept).contains(second.expose()), "the key itself is not stored");
        });
    }
}
