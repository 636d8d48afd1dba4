//! A live's view of Restream's side of its destinations: one listener of Restream's streaming
//! updates per joined account (started as it joins, stopped as it leaves or the live ends), and
//! the judge that puts "Restream receives" beside "Fanout sends" on each row, flags a destination
//! sent to but not received, and words what changed as events.

use std::sync::Arc;
use std::time::Instant;

use app::model::{DestinationKind, DestinationState, EventKind};
use app::store::NewEvent;
use tokio_util::sync::CancellationToken;

use super::destinations::Destinations;
use super::status::DestinationRow;
use crate::restream::updates::{Judge, Listeners, UpdatesSetup};

/// The live's listeners and judge.
#[derive(Debug)]
pub struct RestreamHealth {
    listeners: Listeners,
    judge: Judge,
}

impl RestreamHealth {
    /// No listener yet (`setup` `None`: none ever, no Restream app); all end with `stop`.
    pub fn new(setup: Option<Arc<UpdatesSetup>>, stop: CancellationToken) -> Self {
        Self { listeners: Listeners::new(setup, stop), judge: Judge::default() }
    }

    /// Listens for exactly the accounts the live streams to now.
    pub fn follow(&mut self, destinations: &Destinations) {
        let joined = destinations.joined_accounts();
        self.judge.retain(|account| joined.contains(account));
        self.listeners.follow(joined);
    }

    /// Fills in Restream's side of the rows of joined accounts; returns the events to record
    /// (the caller adds the live's video id).
    pub fn fill(&mut self, rows: &mut [DestinationRow], destinations: &Destinations, now: Instant) -> Vec<NewEvent> {
        let mut events = Vec::new();
        for row in rows.iter_mut().filter(|row| row.kind == DestinationKind::Restream) {
            let Some(account) = row.id.account() else { continue };
            let Some(heard) = self.listeners.heard(account) else { continue };
            // Sending means bytes going out now: while the input is lost (the grace), the
            // connection stays up with nothing on it, and Restream rightly receives nothing.
            let streaming = row.state == DestinationState::Streaming && row.bitrate_bps > 0;
            let verdict = self.judge.judge(account, &row.name, destinations.restream_channels(&row.id), streaming, Some(&heard), now);
            events.extend(verdict.events.into_iter().map(|message| NewEvent::now(EventKind::RestreamHealth, message).for_account(account)));
            row.received = Some(verdict.received);
            row.flag = verdict.flag;
        }
        events
    }

    /// How many accounts are listened to, and how many of their sockets are open.
    pub fn counts(&self) -> (usize, usize) {
        self.listeners.counts()
    }

    /// Stops every listener (the live ended).
    pub fn stop(&mut self) {
        self.listeners.stop_all();
    }
}
