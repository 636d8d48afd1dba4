//! What sends the live to the destinations — the *backend* — behind the few operations a live
//! needs: the input the ingest feeds, add / replace / remove a destination, the destinations,
//! their statuses, the input's status, the reports for the event log, and shutdown. The live,
//! the dashboard and `/metrics` do not care which backend runs:
//!
//! - [`Backend::Builtin`] — Fanout's own RTMP relay (`crate::relay`), the default;
//! - [`Backend::Nimble`] — an existing Nimble Streamer's republish rules ([`nimble`],
//!   `FANOUT_BACKEND=nimble`).
//!
//! The ingest always feeds a relay in this process (its FLV on a pipe): with Nimble, that relay
//! has one destination — Nimble's RTMP ingest, its login sent in `connect` — and Nimble's
//! republish rules fan out from there. So no address or password is ever on a command line,
//! and the input's status is what Fanout itself receives in both cases.

pub mod nimble;

use std::collections::BTreeMap;
use std::sync::Arc;

use app::model::{DestinationId, EventKind};
use tokio::sync::watch;

use crate::config::BackendSettings;
use crate::relay::{DestinationPolicy, DestinationStatus, Input, InputStatus, Relay, RtmpTarget};
use nimble::{Nimble, NimbleEvents, NimbleSetup};

/// The id, in the relay, of its one destination in front of Nimble.
const NIMBLE_INGEST: &str = "nimble-ingest";

/// How every live's backend is made.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// How the built-in relay's destinations behave.
    pub policy: DestinationPolicy,
    /// Nimble Streamer, when it fans out instead of the built-in relay.
    pub nimble: Option<NimbleSetup>,
}

impl Setup {
    /// The setup the validated settings describe.
    pub fn from_settings(settings: &BackendSettings) -> Result<Self, fanout_nimble::NimbleError> {
        let nimble = match settings {
            BackendSettings::Builtin => None,
            BackendSettings::Nimble(nimble) => {
                tracing::info!(api = %nimble.api, ingest = %nimble.ingest_shown(), "Nimble Streamer fans the lives out");
                Some(NimbleSetup::new(nimble.client()?, nimble.source(), nimble.ingest_target()))
            }
        };
        Ok(Self { policy: DestinationPolicy::default(), nimble })
    }
}

/// The backend of one live.
#[derive(Debug)]
pub enum Backend {
    /// Fanout's built-in RTMP relay.
    Builtin(Relay),
    /// Nimble Streamer's republish rules, fed by a relay whose one destination is Nimble.
    Nimble {
        /// The relay that publishes to Nimble's ingest.
        relay: Relay,
        /// The rules (boxed: far larger than a relay, and there is one backend per live).
        nimble: Box<Nimble>,
    },
}

impl Backend {
    /// Starts the backend `setup` describes: Nimble when set up, else the built-in relay.
    pub fn start(setup: &Setup) -> Self {
        let relay = Relay::new(setup.policy);
        match &setup.nimble {
            Some(nimble) => {
                relay.add(NIMBLE_INGEST, nimble.ingest().clone());
                Self::Nimble { relay, nimble: Box::new(Nimble::new(nimble.clone())) }
            }
            None => Self::Builtin(relay),
        }
    }

    fn relay(&self) -> &Relay {
        match self {
            Self::Builtin(relay) | Self::Nimble { relay, .. } => relay,
        }
    }

    /// The input the ingest feeds.
    pub fn feed(&self) -> Arc<Input> {
        self.relay().feed()
    }

    /// The destinations are known (the first preparation is done): Nimble starts syncing its
    /// rules now, so leftover rules of a resumed live are adopted, not removed first.
    pub fn begin(&self) {
        if let Self::Nimble { nimble, .. } = self {
            nimble.begin();
        }
    }

    /// Adds destination `id`, or replaces it (which reconnects it).
    pub fn add(&self, id: &DestinationId, target: RtmpTarget) {
        match self {
            Self::Builtin(relay) => relay.add(&id.to_string(), target),
            Self::Nimble { nimble, .. } => nimble.add(id, target),
        }
    }

    /// Removes destination `id`; `false` if there was none.
    pub fn remove(&self, id: &DestinationId) -> bool {
        match self {
            Self::Builtin(relay) => relay.remove(&id.to_string()),
            Self::Nimble { nimble, .. } => nimble.remove(id),
        }
    }

    /// The destinations.
    pub fn ids(&self) -> Vec<DestinationId> {
        self.statuses().into_keys().collect()
    }

    /// Every destination's status now.
    pub fn statuses(&self) -> BTreeMap<DestinationId, DestinationStatus> {
        match self {
            // The relay keys destinations by their text form; anything else in it is not a
            // live's destination.
            Self::Builtin(relay) => relay.statuses().into_iter().filter_map(|(id, status)| Some((id.parse().ok()?, status))).collect(),
            Self::Nimble { nimble, .. } => nimble.statuses(),
        }
    }

    /// Watches the input: what the relay receives from the ingest.
    pub fn input(&self) -> watch::Receiver<InputStatus> {
        self.relay().input()
    }

    /// Holds the fan-out before its first connections, until [`Backend::open`] (the relay's
    /// destinations; with Nimble, the relay's push to Nimble and so every rule's stream).
    pub fn hold(&self) {
        self.relay().hold();
    }

    /// Lets the held fan-out connect.
    pub fn open(&self) {
        self.relay().open();
    }

    /// Whether the fan-out is held.
    pub fn is_held(&self) -> bool {
        !self.relay().is_open()
    }

    /// The stream's headers as the relay has them (for the source's checks).
    pub fn headers(&self) -> crate::relay::media::StreamHeaders {
        self.relay().headers()
    }

    /// Plays the slate through gaps in the input (before Nimble too: it receives the slate as
    /// part of its one input).
    pub fn start_slate(&self, config: crate::relay::slate::SlateConfig) -> tokio::sync::mpsc::Receiver<crate::relay::slate::SlateEvent> {
        self.relay().start_slate(config)
    }

    /// What the backend reports for the live's event log, from now on.
    pub fn events(&self) -> BackendEvents {
        match self {
            Self::Builtin(_) => BackendEvents(None),
            Self::Nimble { nimble, .. } => BackendEvents(Some(nimble.events())),
        }
    }

    /// Stops sending: the relay closes its connections; Nimble's rules made by Fanout are
    /// removed (waits for that, at most the clean-up timeout).
    pub async fn shutdown(&self) {
        match self {
            Self::Builtin(relay) => relay.shutdown(),
            Self::Nimble { relay, nimble } => {
                nimble.shutdown().await;
                relay.shutdown();
            }
        }
    }
}

/// The backend's reports for the event log (only Nimble makes any).
#[derive(Debug)]
pub struct BackendEvents(Option<NimbleEvents>);

impl BackendEvents {
    /// The next event to record; never resolves when there is none to come.
    pub async fn next(&mut self) -> (EventKind, String) {
        match &mut self.0 {
            Some(events) => match events.next().await {
                Some(event) => event,
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }

    /// The events already reported (after [`Backend::shutdown`]).
    pub fn drain(&mut self) -> Vec<(EventKind, String)> {
        self.0.as_mut().map(NimbleEvents::drain).unwrap_or_default()
    }
}
