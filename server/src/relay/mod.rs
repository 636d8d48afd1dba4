//! Fanout's built-in RTMP relay (on `rml_rtmp`; no hand-written chunk parser): receives the one
//! live — the ingest's FLV on a pipe ([`pipe`]), or an RTMP publisher ([`listener`]) — into its
//! [`Input`] and sends it to N destinations. Each media message is prepared
//! once — its chunks serialized once and shared (`bytes::Bytes`) — and every destination reads
//! it from one bounded ring at its own pace, so a slow or dead destination costs the others
//! nothing and memory never grows. Destinations join and leave while the live runs; each
//! reports its status on a `watch` channel.

pub mod batch;
pub mod connection;
pub mod destination;
pub mod facts;
pub mod flv;
pub mod guard;
pub mod handshake;
pub mod hub;
pub mod input;
pub mod listener;
pub mod media;
pub mod pipe;
pub mod push;
pub mod slate;
pub mod status;
pub mod target;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use app::secrets::Secret;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use destination::DestinationHandle;
pub use destination::DestinationPolicy;
use hub::Hub;
pub use input::{Feed, Input};
pub use listener::Peers;
pub use status::{DestinationState, DestinationStatus, InputStatus};
pub use target::{RtmpTarget, TargetError};

/// How many batches the ring keeps (about 2.5 s of media at one batch per
/// [`batch::BATCH_WINDOW`]): the bound on how far behind a destination may fall before it loses
/// its place.
pub const RING_BATCHES: usize = (2500 / batch::BATCH_WINDOW.as_millis()) as usize;

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The ingest listener could not be opened.
    #[error("cannot open the relay's ingest listener: {0}")]
    Listen(#[from] std::io::Error),
}

/// An RTMP listener in front of the relay's input.
#[derive(Debug)]
struct Listening {
    address: SocketAddr,
    key: Secret,
}

/// A running relay. Dropping it does not stop it: call [`Relay::shutdown`].
pub struct Relay {
    hub: Arc<Hub>,
    input: Arc<Input>,
    listening: Option<Listening>,
    policy: DestinationPolicy,
    destinations: Mutex<BTreeMap<String, DestinationHandle>>,
    stop: CancellationToken,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.listening {
            Some(listening) => write!(f, "Relay(listening on {})", listening.address),
            None => f.write_str("Relay"),
        }
    }
}

impl Relay {
    /// A relay whose input is fed in-process (the ingest's pipe): no listener at all.
    pub fn new(policy: DestinationPolicy) -> Self {
        let hub = Arc::new(Hub::new(RING_BATCHES));
        Self {
            input: Input::new(Arc::clone(&hub)),
            hub,
            listening: None,
            policy,
            destinations: Mutex::new(BTreeMap::new()),
            stop: CancellationToken::new(),
        }
    }

    /// A relay that also accepts an RTMP publisher on a free loopback port, with a random key.
    pub async fn on_loopback(policy: DestinationPolicy) -> Result<Self, RelayError> {
        let key = Secret::new(format!("{:032x}", rand::random::<u128>()));
        Self::listening(SocketAddr::from(([127, 0, 0, 1], 0)), key, Peers::Loopback, policy).await
    }

    /// A relay that accepts an RTMP publisher from `peers` on `address` that knows `key`.
    pub async fn listening(address: SocketAddr, key: Secret, peers: Peers, policy: DestinationPolicy) -> Result<Self, RelayError> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let mut relay = Self::new(policy);
        let door =
            listener::Door { keys: Arc::new(listener::FixedKey(key.clone())), sink: Arc::new(Arc::clone(&relay.input)), peers, tls: None };
        tokio::spawn(listener::accept(listener, door, relay.stop.clone()));
        tracing::info!(%address, "relay listening for a publisher");
        relay.listening = Some(Listening { address, key });
        Ok(relay)
    }

    /// Where a publisher publishes, when the relay listens (holds the key: never log it).
    pub fn ingest_url(&self) -> Option<Secret> {
        self.listening.as_ref().map(|l| Secret::new(format!("rtmp://{}/{}/{}", l.address, listener::INGEST_APP, l.key.expose())))
    }

    /// The relay's input, for an in-process publisher (the ingest's pipe).
    pub fn feed(&self) -> Arc<Input> {
        Arc::clone(&self.input)
    }

    /// Holds the destinations that have not connected yet until [`Relay::open`] (while the
    /// source is checked, so the first media they get has the shape it will keep).
    pub fn hold(&self) {
        self.hub.hold();
    }

    /// Lets held destinations connect; later ones do not wait.
    pub fn open(&self) {
        self.hub.open();
    }

    /// Whether destinations connect as they are added (nothing holds them).
    pub fn is_open(&self) -> bool {
        self.hub.is_open()
    }

    fn destinations(&self) -> MutexGuard<'_, BTreeMap<String, DestinationHandle>> {
        self.destinations.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds (or replaces) destination `id`; it starts at the next keyframe.
    pub fn add(&self, id: &str, target: RtmpTarget) {
        let handle = DestinationHandle::spawn(target, Arc::clone(&self.hub), self.policy, &self.stop);
        if let Some(previous) = self.destinations().insert(id.to_string(), handle) {
            previous.stop.cancel();
        }
    }

    /// Removes destination `id` (its connection closes); `false` if there was none.
    pub fn remove(&self, id: &str) -> bool {
        match self.destinations().remove(id) {
            Some(handle) => {
                handle.stop.cancel();
                true
            }
            None => false,
        }
    }

    /// The ids of the destinations.
    pub fn ids(&self) -> Vec<String> {
        self.destinations().keys().cloned().collect()
    }

    /// Every destination's status now.
    pub fn statuses(&self) -> BTreeMap<String, DestinationStatus> {
        self.destinations().iter().map(|(id, handle)| (id.clone(), handle.status.borrow().clone())).collect()
    }

    /// Watches the input.
    pub fn input(&self) -> watch::Receiver<InputStatus> {
        self.hub.watch_input()
    }

    /// The stream's headers now.
    pub fn headers(&self) -> media::StreamHeaders {
        self.hub.headers()
    }

    /// Plays the slate through gaps in the input from now until the relay stops; what it does
    /// comes on the receiver.
    pub fn start_slate(&self, config: slate::SlateConfig) -> tokio::sync::mpsc::Receiver<slate::SlateEvent> {
        let (events, received) = tokio::sync::mpsc::channel(16);
        tokio::spawn(slate::run(config, Arc::clone(&self.input), Arc::clone(&self.hub), events, self.stop.clone()));
        received
    }

    /// Stops every destination and the ingest listener.
    pub fn shutdown(&self) {
        self.stop.cancel();
        self.destinations().clear();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
