//! What fans a live out: Fanout's built-in relay (the default) or an existing Nimble Streamer
//! (`FANOUT_RELAY=nimble`), behind the few operations a session needs — where the ingest
//! publishes, add / replace / remove a destination by id, the ids, their statuses, the input,
//! and shutdown. The session, the dashboard and `/metrics` do not care which one runs.

use std::collections::BTreeMap;

use app::model::EventKind;
use app::secrets::Secret;
use tokio::sync::watch;

use super::nimble::{NimbleEvents, NimbleFanout};
use super::runner::SessionDeps;
use crate::ingest::{Ingest, IngestConfig};
use crate::relay::{DestinationStatus, InputStatus, Relay, RelayError, RtmpTarget};

/// The fan-out of one live.
#[derive(Debug)]
pub enum Fanout {
    /// Fanout's built-in RTMP relay.
    Relay(Relay),
    /// Nimble Streamer's republish rules.
    Nimble(NimbleFanout),
}

impl Fanout {
    /// Starts the fan-out `deps` configure: Nimble when set up, else the built-in relay.
    pub async fn start(deps: &SessionDeps) -> Result<Self, RelayError> {
        match &deps.nimble {
            Some(setup) => Ok(Self::Nimble(NimbleFanout::new(setup.clone()))),
            None => Ok(Self::Relay(Relay::start(deps.policy).await?)),
        }
    }

    /// Where the ingest publishes (holds a key or a password: never log it).
    pub fn ingest_url(&self) -> Secret {
        match self {
            Self::Relay(relay) => relay.ingest_url(),
            Self::Nimble(nimble) => nimble.ingest_url(),
        }
    }

    /// The ingest's configuration for this fan-out: with Nimble, ffmpeg reports its progress,
    /// since that is what tells the input is alive (see [`Fanout::input`]).
    pub fn ingest_config(&self, config: IngestConfig) -> IngestConfig {
        IngestConfig { progress: matches!(self, Self::Nimble(_)), ..config }
    }

    /// The destinations are known (the first reconcile is done): Nimble starts syncing its
    /// rules now, so leftover rules of a resumed live are adopted, not removed first.
    pub fn begin(&self) {
        if let Self::Nimble(nimble) = self {
            nimble.begin();
        }
    }

    /// Adds destination `id`, or replaces it (which reconnects it).
    pub fn add(&self, id: &str, target: RtmpTarget) {
        match self {
            Self::Relay(relay) => relay.add(id, target),
            Self::Nimble(nimble) => nimble.add(id, target),
        }
    }

    /// Removes destination `id`; `false` if there was none.
    pub fn remove(&self, id: &str) -> bool {
        match self {
            Self::Relay(relay) => relay.remove(id),
            Self::Nimble(nimble) => nimble.remove(id),
        }
    }

    /// The ids of the destinations.
    pub fn ids(&self) -> Vec<String> {
        match self {
            Self::Relay(relay) => relay.ids(),
            Self::Nimble(nimble) => nimble.ids(),
        }
    }

    /// Every destination's status now.
    pub fn statuses(&self) -> BTreeMap<String, DestinationStatus> {
        match self {
            Self::Relay(relay) => relay.statuses(),
            Self::Nimble(nimble) => nimble.statuses(),
        }
    }

    /// Watches the input: what the relay receives, or — with Nimble, where Fanout sees no media
    /// — what the ingest's ffmpeg reports it has written to Nimble (`-progress`).
    pub fn input(&self, ingest: &Ingest) -> watch::Receiver<InputStatus> {
        match self {
            Self::Relay(relay) => relay.input(),
            Self::Nimble(_) => ingest.output(),
        }
    }

    /// What the fan-out reports for the live's event log, from now on.
    pub fn events(&self) -> FanoutEvents {
        match self {
            Self::Relay(_) => FanoutEvents(None),
            Self::Nimble(nimble) => FanoutEvents(nimble.events()),
        }
    }

    /// Stops sending: the relay closes its connections; Nimble's rules made by Fanout are
    /// removed (waits for that, at most the clean-up timeout).
    pub async fn shutdown(&self) {
        match self {
            Self::Relay(relay) => relay.shutdown(),
            Self::Nimble(nimble) => nimble.shutdown().await,
        }
    }
}

/// The fan-out's reports for the event log (only Nimble makes any).
#[derive(Debug)]
pub struct FanoutEvents(Option<NimbleEvents>);

impl FanoutEvents {
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

    /// The events already reported (after [`Fanout::shutdown`]).
    pub fn drain(&mut self) -> Vec<(EventKind, String)> {
        self.0.as_mut().map(NimbleEvents::drain).unwrap_or_default()
    }
}
