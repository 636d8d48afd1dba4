//! What fans a live out: Fanout's built-in relay (the default) or an existing Nimble Streamer
//! (`FANOUT_RELAY=nimble`), behind the few operations a session needs — the input the ingest
//! feeds, add / replace / remove a destination by id, the ids, their statuses, the input's
//! status, and shutdown. The session, the dashboard and `/metrics` do not care which one runs.
//!
//! The ingest always feeds a relay in this process (its FLV on a pipe): with Nimble, that relay
//! has one destination — Nimble's RTMP ingest, its login sent in `connect` — and Nimble's
//! republish rules fan out from there. So no address or password is ever on a command line,
//! and the input's status is what Fanout itself receives in both cases.

use std::collections::BTreeMap;
use std::sync::Arc;

use app::model::EventKind;
use tokio::sync::watch;

use super::nimble::{NimbleEvents, NimbleFanout};
use super::runner::SessionDeps;
use crate::relay::{DestinationStatus, Input, InputStatus, Relay, RtmpTarget};

/// The id of the relay's one destination in front of Nimble.
const NIMBLE_INGEST: &str = "nimble-ingest";

/// The fan-out of one live.
#[derive(Debug)]
pub enum Fanout {
    /// Fanout's built-in RTMP relay.
    Relay(Relay),
    /// Nimble Streamer's republish rules, fed by a relay whose one destination is Nimble.
    Nimble {
        /// The relay that publishes to Nimble's ingest.
        relay: Relay,
        /// The rules.
        nimble: NimbleFanout,
    },
}

impl Fanout {
    /// Starts the fan-out `deps` configure: Nimble when set up, else the built-in relay.
    pub fn start(deps: &SessionDeps) -> Self {
        let relay = Relay::new(deps.policy);
        match &deps.nimble {
            Some(setup) => {
                relay.add(NIMBLE_INGEST, setup.ingest().clone());
                Self::Nimble { relay, nimble: NimbleFanout::new(setup.clone()) }
            }
            None => Self::Relay(relay),
        }
    }

    fn relay(&self) -> &Relay {
        match self {
            Self::Relay(relay) | Self::Nimble { relay, .. } => relay,
        }
    }

    /// The input the ingest feeds.
    pub fn feed(&self) -> Arc<Input> {
        self.relay().feed()
    }

    /// The destinations are known (the first reconcile is done): Nimble starts syncing its
    /// rules now, so leftover rules of a resumed live are adopted, not removed first.
    pub fn begin(&self) {
        if let Self::Nimble { nimble, .. } = self {
            nimble.begin();
        }
    }

    /// Adds destination `id`, or replaces it (which reconnects it).
    pub fn add(&self, id: &str, target: RtmpTarget) {
        match self {
            Self::Relay(relay) => relay.add(id, target),
            Self::Nimble { nimble, .. } => nimble.add(id, target),
        }
    }

    /// Removes destination `id`; `false` if there was none.
    pub fn remove(&self, id: &str) -> bool {
        match self {
            Self::Relay(relay) => relay.remove(id),
            Self::Nimble { nimble, .. } => nimble.remove(id),
        }
    }

    /// The ids of the destinations.
    pub fn ids(&self) -> Vec<String> {
        match self {
            Self::Relay(relay) => relay.ids(),
            Self::Nimble { nimble, .. } => nimble.ids(),
        }
    }

    /// Every destination's status now.
    pub fn statuses(&self) -> BTreeMap<String, DestinationStatus> {
        match self {
            Self::Relay(relay) => relay.statuses(),
            Self::Nimble { nimble, .. } => nimble.statuses(),
        }
    }

    /// Watches the input: what the relay receives from the ingest.
    pub fn input(&self) -> watch::Receiver<InputStatus> {
        self.relay().input()
    }

    /// What the fan-out reports for the live's event log, from now on.
    pub fn events(&self) -> FanoutEvents {
        match self {
            Self::Relay(_) => FanoutEvents(None),
            Self::Nimble { nimble, .. } => FanoutEvents(Some(nimble.events())),
        }
    }

    /// Stops sending: the relay closes its connections; Nimble's rules made by Fanout are
    /// removed (waits for that, at most the clean-up timeout).
    pub async fn shutdown(&self) {
        match self {
            Self::Relay(relay) => relay.shutdown(),
            Self::Nimble { relay, nimble } => {
                nimble.shutdown().await;
                relay.shutdown();
            }
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
