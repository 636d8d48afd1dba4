//! Fanout's built-in RTMP relay (on `rml_rtmp`; no hand-written chunk parser): receives the one
//! ingest stream on loopback and sends it to N destinations. Each media message is prepared
//! once — its chunks serialized once and shared (`bytes::Bytes`) — and every destination reads
//! it from one bounded ring at its own pace, so a slow or dead destination costs the others
//! nothing and memory never grows. Destinations join and leave while the live runs; each
//! reports its status on a `watch` channel.

pub mod batch;
pub mod connection;
pub mod destination;
pub mod handshake;
pub mod hub;
pub mod listener;
pub mod media;
pub mod status;
pub mod target;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use app::secrets::Secret;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use destination::DestinationPolicy;
use destination::DestinationHandle;
use hub::Hub;
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

/// A running relay. Dropping it does not stop it: call [`Relay::shutdown`].
pub struct Relay {
    hub: Arc<Hub>,
    address: SocketAddr,
    key: Secret,
    policy: DestinationPolicy,
    destinations: Mutex<BTreeMap<String, DestinationHandle>>,
    stop: CancellationToken,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Relay(ingest on {})", self.address)
    }
}

impl Relay {
    /// Opens the ingest listener on a free loopback port and starts accepting the ingest.
    pub async fn start(policy: DestinationPolicy) -> Result<Self, RelayError> {
        let key = Secret::new(format!("{:032x}", rand::random::<u128>()));
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), key, policy).await
    }

    /// Opens the ingest listener on `address`, accepting a publisher that knows `key`.
    pub async fn start_on(address: SocketAddr, key: Secret, policy: DestinationPolicy) -> Result<Self, RelayError> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let hub = Arc::new(Hub::new(RING_BATCHES));
        let stop = CancellationToken::new();
        tokio::spawn(listener::accept(listener, key.clone(), Arc::clone(&hub), stop.clone()));
        tracing::info!(%address, "relay ready for the ingest");
        Ok(Self { hub, address, key, policy, destinations: Mutex::new(BTreeMap::new()), stop })
    }

    /// Where the ingest publishes (holds a per-relay key: never log it).
    pub fn ingest_url(&self) -> Secret {
        Secret::new(format!("rtmp://{}/{}/{}", self.address, listener::INGEST_APP, self.key.expose()))
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

    /// Watches one destination's status.
    pub fn watch(&self, id: &str) -> Option<watch::Receiver<DestinationStatus>> {
        self.destinations().get(id).map(|handle| handle.status.clone())
    }

    /// Watches the input.
    pub fn input(&self) -> watch::Receiver<InputStatus> {
        self.hub.watch_input()
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
