//! The dashboard's controls during a real live, as an admin uses them (form posts with the
//! session's CSRF token): a direct destination added mid-live receives the live (its key never
//! shown again), a destination reconnected on request, titles set again, the next live's
//! profile chosen, restreaming stopped (every sink stops) and started again with that profile
//! (480p at the sink) and without titling again, and the history that records all of it.

use app::dashboard::DashboardStatus;
use app::model::{EventKind, LiveState};
use app::store::{Store, VideoId};
use fanout_testworld::source::{probe_codecs, probe_height};

use super::engine::{LiveWorld, TITLE, VIDEO, events_of};
use super::*;

/// An admin's browser: the session cookie and the CSRF token its forms carry.
pub(super) struct Admin {
    base: String,
    cookie: String,
    csrf: String,
    http: reqwest::Client,
}

impl Admin {
    pub(super) async fn sign_in(live: &LiveWorld) -> Self {
        let base = live.world.fanout.url().trim_end_matches('/').to_string();
        let cookie = live.admin_cookie().await;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_else(|e| panic!("{e}"));
        let identity: app::admin::AdminIdentity = http
            .get(format!("{base}/api/admin_identity"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("identity: {e}"));
        Self { base, cookie, csrf: identity.csrf, http }
    }

    /// Posts a dashboard form; returns what the dashboard then says (`Ok` what was done, `Err`
    /// why not), read once from the session as the page would.
    pub(super) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Result<String, String> {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", &self.base)
            .form(&form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        assert_eq!(response.status().as_u16(), 303, "POST {path}");
        let to = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(to.starts_with("/admin#") && !to.contains('?'), "back to the dashboard, nothing in the address: {to}");
        let identity: app::admin::AdminIdentity = self.get_json("/api/admin_identity").await;
        let again: app::admin::AdminIdentity = self.get_json("/api/admin_identity").await;
        assert_eq!(again.flash, None, "the outcome is shown once");
        match identity.flash {
            Some(app::admin::Flash { done: true, text }) => Ok(text),
            Some(app::admin::Flash { done: false, text }) => Err(text),
            None => panic!("POST {path}: the dashboard has nothing to say"),
        }
    }

    pub(super) async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let response = self.http.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send().await;
        let response = response.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        response.json().await.unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    async fn dashboard(&self) -> DashboardStatus {
        self.get_json("/api/admin_dashboard").await
    }
}

fn state_of(status: &DashboardStatus, name: &str) -> String {
    status.destinations.iter().find(|d| d.name == name).map(|d| d.state.to_string()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_direct_destination_retries_retitles_stops_and_restarts_a_live() {
    let live = LiveWorld::start(30).await;
    let (ana, _) = live.volunteer(7501, "Ana").await;
    let (ben, _) = live.volunteer(7502, "Ben").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key, &ben.stream_key], 60).await;
    let admin = Admin::sign_in(&live).await;
    let store = live.store().await;

    // A direct destination: the whole URL pasted, key and all; bad input first.
    const DIRECT_KEY: &str = "direct-backup-key-9f3";
    let refused = admin.post("/admin/direct", &[("label", ""), ("url", "http://example.org/live"), ("key", "")]).await;
    assert!(refused.as_ref().is_err_and(|p| p.contains("name") && p.contains("rtmp://")), "{refused:?}");
    assert_eq!(store.direct_destinations().await.map(|d| d.len()).ok(), Some(0), "bad input changes nothing");
    let added = admin.post("/admin/direct", &[("label", "Backup server"), ("url", &live.sink.url(DIRECT_KEY)), ("key", "")]).await;
    assert!(added.as_ref().is_ok_and(|n| n.contains("Backup server") && !n.contains(DIRECT_KEY)), "{added:?}");
    live.wait_receiving(&[DIRECT_KEY], 30).await;
    assert_eq!(probe_codecs(&live.sink.url(DIRECT_KEY)).await.unwrap_or_default(), ["aac", "h264"]);
    eventually(10, "the direct destination streams on the dashboard", || async {
        admin
            .dashboard()
            .await
            .destinations
            .iter()
            .any(|d| d.kind.to_string() == "direct" && d.name == "Backup server" && d.state.to_string() == "streaming")
    })
    .await;
    let listed: Vec<app::direct::DirectRow> = admin.get_json("/api/admin_direct").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].server, live.sink.ingest_base(), "the key is split off the pasted URL");
    let shown = serde_json::to_string(&listed).unwrap_or_default() + &serde_json::to_string(&admin.dashboard().await).unwrap_or_default();
    assert!(!shown.contains(DIRECT_KEY), "the key is never shown again");

    // Reconnect Ben now; set every title again.
    let ben_id = admin.dashboard().await.destinations.iter().find(|d| d.name == "Ben").map(|d| d.id.to_string()).unwrap_or_default();
    assert_eq!(admin.post(&format!("/admin/destinations/{ben_id}/retry"), &[]).await, Ok("Ben is reconnecting".into()));
    assert!(admin.post("/admin/destinations/nobody/retry", &[]).await.is_err_and(|p| p.contains("no such destination")));
    let before = live.sink.bytes_in(&ben.stream_key).await;
    eventually(20, "Ben receives after the reconnect", || async { live.sink.bytes_in(&ben.stream_key).await > before + 50_000 }).await;
    assert_eq!(live.patches().await, 2);
    assert!(admin.post("/admin/control/retitle", &[]).await.is_ok_and(|n| n.contains("2 accounts")));
    eventually(20, "every enabled channel is titled again", || async { live.patches().await == 4 }).await;

    // The next live's profile; a profile that does not exist is refused.
    assert!(admin.post("/admin/profile", &[("profile", "4k")]).await.is_err());
    assert!(admin.post("/admin/profile", &[("profile", "480p")]).await.is_ok());
    let settings: app::admin::AdminSettings = admin.get_json("/api/admin_settings").await;
    assert_eq!((settings.profile_configured.to_string().as_str(), settings.profile_next.to_string().as_str()), ("copy", "480p"));
    assert!(settings.rows.iter().any(|r| r.name == "RESTREAM_CLIENT_SECRET" && r.value.contains("not shown")), "{:?}", settings.rows);

    // Stop: every sink stops, the live is recorded as ended, and it stays stopped.
    assert!(admin.post("/admin/control/stop", &[]).await.is_ok());
    eventually(15, "every destination is closed", || async {
        let mut any = false;
        for key in [ana.stream_key.as_str(), ben.stream_key.as_str(), DIRECT_KEY] {
            any |= live.publishing(key).await;
        }
        !any
    })
    .await;
    let stopped = admin.dashboard().await;
    assert!(stopped.live.is_none() && stopped.on_air.as_deref() == Some(TITLE), "{stopped:?}");
    let record = store.live(&VideoId(VIDEO.into())).await.ok().flatten().unwrap_or_else(|| panic!("the live is stored"));
    assert_eq!(record.state, LiveState::Ended);
    assert!(record.peak_destinations >= 3, "Ana, Ben and the backup streamed at once: {record:?}");
    assert!(admin.post("/admin/control/stop", &[]).await.is_err_and(|p| p.contains("being restreamed")));
    let polls = live.youtube.requests();
    eventually(15, "Fanout looks at the channel twice more", || async { live.youtube.requests() >= polls + 2 }).await;
    assert!(!live.publishing(&ana.stream_key).await, "a stopped live is not restarted by the next detection");

    // Start again: the chosen 480p profile, no second title update.
    assert!(admin.post("/admin/control/start", &[]).await.is_ok_and(|n| n.contains(TITLE)));
    live.wait_receiving(&[&ana.stream_key, DIRECT_KEY], 60).await;
    eventually(30, "the restarted live streams 480p", || async {
        probe_height(&live.sink.url(&ana.stream_key)).await.ok().flatten() == Some(480)
    })
    .await;
    assert_eq!(live.patches().await, 4, "titles are not set again on a restart");
    let restarted = store.live(&VideoId(VIDEO.into())).await.ok().flatten().unwrap_or_else(|| panic!("the live is stored"));
    assert_eq!(restarted.state, LiveState::Streaming);
    assert!(restarted.ended_at.is_none());

    // Edit it: a new label and a new key — the old stream stops, the new one receives.
    const NEW_KEY: &str = "direct-backup-key-rotated";
    let id = listed[0].id.clone();
    let server = listed[0].server.clone();
    let edited = admin.post(&format!("/admin/direct/{id}"), &[("label", "Backup (rotated)"), ("url", &server), ("key", NEW_KEY)]).await;
    assert!(edited.as_ref().is_ok_and(|n| n.contains("new stream key") && !n.contains(NEW_KEY)), "{edited:?}");
    live.wait_receiving(&[NEW_KEY], 30).await;
    eventually(15, "the old key's stream is closed", || async { !live.publishing(DIRECT_KEY).await }).await;
    let relabelled = admin.post(&format!("/admin/direct/{id}"), &[("label", "Backup"), ("url", &server), ("key", "")]).await;
    assert!(relabelled.is_ok(), "an empty key keeps the saved one");
    let listed: Vec<app::direct::DirectRow> = admin.get_json("/api/admin_direct").await;
    assert_eq!((listed[0].label.as_str(), listed[0].server.as_str()), ("Backup", server.as_str()));
    assert!(live.publishing(NEW_KEY).await, "a new label alone does not interrupt the stream");
    eventually(10, "the dashboard shows the new label", || async {
        admin
            .dashboard()
            .await
            .destinations
            .iter()
            .any(|d| d.kind.to_string() == "direct" && d.name == "Backup" && d.state.to_string() == "streaming")
    })
    .await;

    // Remove the direct destination: only its stream stops.
    assert!(admin.post(&format!("/admin/direct/{id}/delete"), &[]).await.is_ok());
    eventually(15, "the direct destination is closed", || async { !live.publishing(NEW_KEY).await }).await;
    assert!(live.publishing(&ana.stream_key).await);

    // History: every action is an event naming the admin; the live is listed.
    let actions = events_of(&store, EventKind::AdminAction).await;
    for what in [
        "added by admin admin",
        "reconnected now by admin admin",
        "Titles set again",
        "set to 480p",
        "stopped by admin admin",
        "started again by admin admin",
        "removed by admin admin",
    ] {
        assert!(actions.iter().any(|m| m.contains(what)), "an event says “{what}”: {actions:#?}");
    }
    assert!(!actions.iter().any(|m| m.contains(DIRECT_KEY) || m.contains(NEW_KEY)), "no event holds a key");
    let page: app::history::EventsPage = admin.get_json("/api/admin_events?kind=admin_action").await;
    assert_eq!(page.events.len(), actions.len().min(app::history::EVENTS_PER_PAGE as usize));
    let lives: Vec<app::history::LiveRow> = admin.get_json("/api/admin_lives").await;
    assert_eq!(lives.len(), 1);
    assert_eq!((lives[0].title.as_str(), lives[0].state.as_str()), (TITLE, "streaming"));
    assert!(lives[0].peak_destinations >= 3);
    let log = live.world.fanout.log();
    assert!(!log.contains(DIRECT_KEY) && !log.contains(NEW_KEY), "the log never holds a key");
    assert_eq!(state_of(&admin.dashboard().await, "Ana"), "streaming");
}
