//! The soak's fault schedule, by time since the start, in cycles of five minutes (a shorter
//! soak runs the first part of one):
//!
//! - every 30 s, one random destination's sink drops it and refuses it for 8 s;
//! - at 35 s into a cycle the source stops for half the grace (the live must go on), at 70 s for
//!   the grace and 10 s more (the live must end; a new one starts when the source is back);
//! - every 45 s, Restream answers bursts of 429s and 500s;
//! - every 60 s, every volunteer's access token expires (each is refreshed);
//! - every 60 s, 20 idle TCP connections are opened to Fanout's HTTP port and left open;
//! - at 10 s and every 120 s, a burst of 100 wrong admin logins from as many addresses.

use std::time::{Duration, Instant};

use super::report::Measurements;
use super::{SoakConfig, SoakWorld};

/// How long a dropped destination stays refused.
const DROP_FOR: Duration = Duration::from_secs(8);

/// A fault in progress, and when it ends.
#[derive(Debug)]
enum Ongoing {
    /// A destination refused at its sink.
    Dropped { key: String, until: Instant },
    /// The source stopped.
    SourceCut { until: Instant, ends_live: bool },
}

/// Where the schedule is.
#[derive(Debug)]
pub struct Schedule {
    started: Instant,
    grace: Duration,
    ongoing: Vec<Ongoing>,
    done: std::collections::HashSet<(u64, &'static str)>,
    idle: Vec<tokio::net::TcpStream>,
    rng: u64,
}

impl Schedule {
    /// A schedule starting now.
    pub fn new(config: &SoakConfig) -> Self {
        Self {
            started: Instant::now(),
            grace: Duration::from_secs(config.grace_secs),
            ongoing: Vec::new(),
            done: Default::default(),
            idle: Vec::new(),
            rng: 0x5eed_0000_0000_0001,
        }
    }

    fn random(&mut self, below: usize) -> usize {
        // xorshift: enough to pick a destination, and the same run every time.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        usize::try_from(self.rng % u64::try_from(below.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    /// Whether the fault `name` is due at `every` (offset `at`) and has not run in this period.
    fn due(&mut self, name: &'static str, every: u64, at: u64) -> bool {
        let elapsed = self.started.elapsed().as_secs();
        if elapsed < at {
            return false;
        }
        let period = (elapsed - at) / every;
        (elapsed - at) % every < 5 && self.done.insert((period, name))
    }

    fn source_down(&self) -> bool {
        self.ongoing.iter().any(|o| matches!(o, Ongoing::SourceCut { .. }))
    }

    /// Starts what is due and ends what is over.
    pub async fn step(&mut self, world: &mut SoakWorld, measure: &mut Measurements) {
        let now = Instant::now();
        for ongoing in std::mem::take(&mut self.ongoing) {
            match ongoing {
                Ongoing::Dropped { key, until } if now >= until => {
                    world.sink.unblock(&key);
                    measure.restored(&key, now);
                }
                Ongoing::SourceCut { until, ends_live } if now >= until => {
                    if let Err(error) = world.source.start().await {
                        measure.problem(format!("the source did not start again: {error}"));
                    }
                    if ends_live {
                        world.next_live();
                    }
                    measure.note(format!("source back at {} s", self.started.elapsed().as_secs()));
                }
                other => self.ongoing.push(other),
            }
        }
        if self.due("drop", 30, 15) && !self.source_down() && measure.all_streaming() {
            let keys = world.keys();
            let key = keys[self.random(keys.len())].clone();
            world.sink.block(&key).await;
            self.ongoing.push(Ongoing::Dropped { key, until: now + DROP_FOR });
        }
        if self.due("short cut", 300, 35) && !self.source_down() {
            world.source.stop().await;
            self.ongoing.push(Ongoing::SourceCut { until: now + self.grace / 2, ends_live: false });
            measure.note(format!("source cut for {} s at {} s", (self.grace / 2).as_secs(), self.started.elapsed().as_secs()));
        }
        if self.due("long cut", 300, 70) && !self.source_down() {
            world.source.stop().await;
            let long = self.grace + Duration::from_secs(10);
            world
                .youtube
                .show(crate::youtube::ChannelShows::Ended { video_id: super::live_id(world.live), title: super::live_title(world.live) });
            self.ongoing.push(Ongoing::SourceCut { until: now + long, ends_live: true });
            measure.note(format!("source cut for {} s at {} s (the live ends)", long.as_secs(), self.started.elapsed().as_secs()));
        }
        if self.due("restream burst", 45, 20) {
            world.restream.throttle_next(15);
            world.restream.fail_next("/v2/user/", 8);
        }
        if self.due("tokens expire", 60, 25) {
            for user in &world.users {
                world.restream.expire_access_tokens(user.id);
            }
        }
        if self.due("idle connections", 60, 5) {
            let address = world.fanout.url().trim_start_matches("http://").to_string();
            for _ in 0..20 {
                if let Ok(stream) = tokio::net::TcpStream::connect(&address).await {
                    self.idle.push(stream);
                }
            }
            measure.idle_opened(20);
        }
        if self.due("login burst", 120, 10) {
            let statuses = login_burst(world.fanout.url(), 100, self.started.elapsed().as_secs()).await;
            measure.logins(&statuses);
        }
        measure.idle_closed(count_closed(&mut self.idle));
    }

    /// Ends every fault still in progress.
    pub async fn finish(&mut self, world: &mut SoakWorld) {
        for ongoing in std::mem::take(&mut self.ongoing) {
            match ongoing {
                Ongoing::Dropped { key, .. } => world.sink.unblock(&key),
                Ongoing::SourceCut { .. } => {
                    let _ = world.source.start().await;
                }
            }
        }
    }
}

/// Drops the idle connections the server has closed; returns how many.
fn count_closed(idle: &mut Vec<tokio::net::TcpStream>) -> usize {
    let before = idle.len();
    // Still open: nothing to read yet. Anything else (end of stream, a reset, an answer) means
    // the server let it go.
    idle.retain(|stream| {
        let mut bytes = [0u8; 256];
        matches!(stream.try_read(&mut bytes), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock)
    });
    before - idle.len()
}

/// `count` wrong logins at once, each from its own address; their statuses.
async fn login_burst(base: &str, count: u32, salt: u64) -> Vec<u16> {
    let Ok(http) = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build() else { return Vec::new() };
    let attempts = (0..count).map(|n| {
        let (http, base) = (http.clone(), base.to_string());
        async move {
            let address = format!("10.{}.{}.{}", salt % 250, n / 250, n % 250);
            let response = http
                .post(format!("{base}/admin/login"))
                .header("origin", &base)
                .header("x-forwarded-for", address)
                .form(&[("name", "admin"), ("password", "not the soak's password at all")])
                .send()
                .await;
            response.map(|r| r.status().as_u16()).unwrap_or(0)
        }
    });
    futures::future::join_all(attempts).await
}
