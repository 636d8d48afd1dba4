//! One account's listener: a task that keeps its sockets to Restream open — the streaming
//! updates and, when configured, the chat API's connections — and publishes what it hears as
//! a [`Heard`] on a `watch` channel. Each socket is followed by its own loop: a token from the
//! single-flight [`super::AccessTokens`] path, a connect slot (a cap on connects at once), the socket
//! under a read deadline with pings, and, when it ends, a reconnect after a backoff with jitter.
//!
//! Tokens: a refusal (HTTP 401/403 at the handshake, or a close saying so) asks for a fresh
//! token (`failed`: the single-flight path refreshes it once for everyone) — once: a fresh
//! token refused again is not a matter of age, and is not rotated again. The chat socket never
//! asks (a refusal there may only mean Fanout's app lacks the chat scope); refused again and
//! again, it tries every 5 minutes, logging the first refusal only. And every
//! [`super::Limits::token_check`] the current token is asked for again, so a rotation elsewhere (a
//! refresh by the preparation, an expiry coming) moves the socket to the new token.
//! Restream's docs do not say what happens to an open socket when its token expires; the loop
//! copes with either (kept open, or closed).

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::AccountId;
use app::secrets::Secret;
use futures::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::UpdatesSetup;
use super::health::Heard;
use super::messages::{parse_chat, parse_update};
use super::socket::{self, Socket};
use crate::restream::tokens::TokenError;

/// A chat socket Restream refused waits this many backoff caps (5 minutes) before the next try.
const CHAT_REFUSED_WAIT: u32 = 5;

/// Which of Restream's WebSockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// `wss://streaming.api.restream.io/ws`.
    Streaming,
    /// `wss://chat.api.restream.io/ws` (only its connections are read).
    Chat,
}

impl Feed {
    fn name(self) -> &'static str {
        match self {
            Self::Streaming => "streaming updates",
            Self::Chat => "chat connections",
        }
    }
}

/// Waits between attempts: doubling from the first wait to the cap, each wait jittered down to
/// half, so hundreds of accounts that lost Restream at once do not come back at once.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    next: Duration,
}

impl Backoff {
    /// From `first` up to `cap`.
    pub fn new(first: Duration, cap: Duration) -> Self {
        Self { first, cap, next: first }
    }

    /// The next wait (between half of it and all of it).
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.cap);
        wait.mul_f64(0.5 + rand::random::<f64>() * 0.5)
    }

    /// Starts again from the first wait (after a connection that lasted).
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

/// How a socket ended.
#[derive(Debug)]
enum Ended {
    /// The listener was stopped.
    Stopped,
    /// The account's token changed: reconnect with the new one now.
    TokenRotated,
    /// Restream closed it over the token.
    TokenRefused,
    /// Lost (network, deadline, Restream closed it): reconnect after a wait.
    Lost(String),
}

/// Runs one account's listener until `stop`.
pub(super) async fn listen(
    setup: Arc<UpdatesSetup>,
    account: AccountId,
    connects: Arc<Semaphore>,
    heard: watch::Sender<Heard>,
    stop: CancellationToken,
) {
    let streaming = follow(Feed::Streaming, &setup.streaming_url, &setup, &account, &connects, &heard, &stop);
    match &setup.chat_url {
        Some(chat) => {
            let chat = follow(Feed::Chat, chat, &setup, &account, &connects, &heard, &stop);
            tokio::join!(streaming, chat);
        }
        None => streaming.await,
    }
}

/// Sleeps `wait`, or less if stopped; `false` when stopped.
async fn pause(wait: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(wait) => true,
    }
}

/// Keeps one of the account's sockets open until `stop`.
async fn follow(
    feed: Feed,
    url: &Url,
    setup: &UpdatesSetup,
    account: &AccountId,
    connects: &Semaphore,
    heard: &watch::Sender<Heard>,
    stop: &CancellationToken,
) {
    let limits = &setup.limits;
    let mut backoff = Backoff::new(limits.backoff_first, limits.backoff_cap);
    let mut failed: Option<Secret> = None;
    // Refusals of the handshake in a row: the first is a warning, the next ones are not (500
    // accounts whose chat Restream refuses must not fill the log).
    let mut refusals = 0_u32;
    while !stop.is_cancelled() {
        // Never cut short: a refresh under way must store the rotated pair it was given (the
        // old one is dead on Restream's side at once). It is bounded by the HTTP deadlines.
        let token = setup.tokens.access_token(account, failed.as_ref()).await;
        if stop.is_cancelled() {
            return;
        }
        let token = match token {
            Ok(token) => token,
            Err(error @ (TokenError::NeedsReconnect | TokenError::NoTokens)) => {
                // The engine takes the account out of the live; until then, wait long.
                tracing::info!(%account, "no {}: {error}", feed.name());
                if !pause(limits.backoff_cap, stop).await {
                    return;
                }
                continue;
            }
            Err(error) => {
                tracing::warn!(%account, "no token for the {} yet: {error}", feed.name());
                if !pause(backoff.next_wait(), stop).await {
                    return;
                }
                continue;
            }
        };
        failed = None;
        let opened = {
            let Ok(_slot) = (tokio::select! {
                () = stop.cancelled() => return,
                slot = connects.acquire() => slot,
            }) else {
                return;
            };
            tokio::select! {
                () = stop.cancelled() => return,
                opened = socket::open(url, &token, &setup.tls, limits.connect_deadline) => opened,
            }
        };
        let mut socket = match opened {
            Ok(socket) => socket,
            Err(error) => {
                refusals = if error.token_refused() { refusals.saturating_add(1) } else { 0 };
                let wait = match (feed, error.token_refused()) {
                    // Refused: refresh the token, once. Refused again with a fresh one, it is not
                    // the token's age: no more rotations, only the backoff.
                    (Feed::Streaming, true) => {
                        if refusals <= 1 {
                            failed = Some(token);
                        }
                        backoff.next_wait()
                    }
                    // A chat refusal may only mean Fanout's app lacks the chat scope: never a
                    // reason to rotate the account's tokens. A few quick tries (the streaming
                    // socket may be rotating the token just now), then only now and then.
                    (Feed::Chat, true) if refusals > 3 => limits.backoff_cap * CHAT_REFUSED_WAIT,
                    _ => backoff.next_wait(),
                };
                if refusals <= 1 || !error.token_refused() {
                    tracing::warn!(%account, "cannot open Restream's {}: {error}", feed.name());
                } else {
                    tracing::debug!(%account, "cannot open Restream's {}: {error} ({refusals} refusals)", feed.name());
                }
                if !pause(wait, stop).await {
                    return;
                }
                continue;
            }
        };
        refusals = 0;
        let since = Instant::now();
        if feed == Feed::Streaming {
            heard.send_modify(|h| h.opened(since));
        }
        tracing::debug!(%account, "Restream's {} are open", feed.name());
        let ended = read(feed, &mut socket, setup, account, &token, heard, stop).await;
        if feed == Feed::Streaming {
            heard.send_modify(Heard::closed);
        } else {
            heard.send_modify(|h| h.expired.clear());
        }
        if since.elapsed() >= limits.steady_after {
            backoff.reset();
        }
        let wait = match ended {
            Ended::Stopped => {
                close(&mut socket).await;
                return;
            }
            Ended::TokenRotated => {
                close(&mut socket).await;
                tracing::info!(%account, "the access token changed: reopening Restream's {} with the new one", feed.name());
                continue;
            }
            Ended::TokenRefused => {
                if feed == Feed::Streaming {
                    failed = Some(token);
                }
                tracing::warn!(%account, "Restream closed its {} over the access token", feed.name());
                backoff.next_wait()
            }
            Ended::Lost(why) => {
                tracing::warn!(%account, "lost Restream's {}: {why}", feed.name());
                backoff.next_wait()
            }
        };
        if !pause(wait, stop).await {
            return;
        }
    }
}

/// Says goodbye, briefly.
async fn close(socket: &mut Socket) {
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
}

/// Whether a close frame is about the token. The docs say nothing of how Restream refuses a
/// token on an open socket; a policy close (1008) or a reason naming the token is taken as such.
fn about_the_token(frame: Option<&CloseFrame>) -> bool {
    frame.is_some_and(|f| f.code == CloseCode::Policy || f.reason.to_ascii_lowercase().contains("token"))
}

/// What woke the read loop.
enum Wake {
    Stop,
    Ping,
    CheckToken,
    Silent,
    Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
}

/// Reads one socket until it ends, updating `heard`.
async fn read(
    feed: Feed,
    socket: &mut Socket,
    setup: &UpdatesSetup,
    account: &AccountId,
    token: &Secret,
    heard: &watch::Sender<Heard>,
    stop: &CancellationToken,
) -> Ended {
    let limits = &setup.limits;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + limits.ping_every, limits.ping_every);
    let check_every = limits.token_check.mul_f64(0.8 + rand::random::<f64>() * 0.4);
    let mut check = tokio::time::interval_at(tokio::time::Instant::now() + check_every, check_every);
    let mut last_frame = tokio::time::Instant::now();
    let mut unreadable = 0_u32;
    loop {
        let wake = tokio::select! {
            () = stop.cancelled() => Wake::Stop,
            _ = ping.tick() => Wake::Ping,
            _ = check.tick() => Wake::CheckToken,
            () = tokio::time::sleep_until(last_frame + limits.read_deadline) => Wake::Silent,
            frame = socket.next() => Wake::Frame(frame),
        };
        match wake {
            Wake::Stop => return Ended::Stopped,
            Wake::Silent => return Ended::Lost(format!("nothing from Restream for {} s", limits.read_deadline.as_secs())),
            Wake::Ping => match tokio::time::timeout(limits.connect_deadline, socket.send(Message::Ping(Default::default()))).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => return Ended::Lost(socket::describe(&error)),
                Err(_) => return Ended::Lost("a ping could not be sent in time".into()),
            },
            Wake::CheckToken => match setup.tokens.access_token(account, None).await {
                Ok(current) if &current != token => return Ended::TokenRotated,
                Ok(_) => {}
                Err(error) => tracing::debug!(%account, "could not check the access token: {error}"),
            },
            Wake::Frame(None) => return Ended::Lost("Restream closed the connection".into()),
            Wake::Frame(Some(Err(error))) => return Ended::Lost(socket::describe(&error)),
            Wake::Frame(Some(Ok(message))) => {
                last_frame = tokio::time::Instant::now();
                match message {
                    Message::Text(text) => {
                        let understood = match feed {
                            Feed::Streaming => {
                                parse_update(text.as_str()).map(|update| heard.send_modify(|h| h.update(update, Instant::now())))
                            }
                            Feed::Chat => parse_chat(text.as_str()).map(|action| heard.send_modify(|h| h.chat(action))),
                        };
                        if let Err(error) = understood {
                            unreadable = unreadable.saturating_add(1);
                            if unreadable.is_power_of_two() {
                                tracing::warn!(%account, "{error} ({unreadable} so far on this connection)");
                            }
                        }
                    }
                    Message::Close(frame) if about_the_token(frame.as_ref()) => return Ended::TokenRefused,
                    Message::Close(frame) => {
                        let code = frame.map(|f| u16::from(f.code)).unwrap_or(1005);
                        return Ended::Lost(format!("Restream closed the connection (code {code})"));
                    }
                    Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_jittered_down_to_half_and_starts_again_after_a_steady_connection() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let waits: Vec<Duration> = (0..6).map(|_| backoff.next_wait()).collect();
        for (wait, nominal) in waits.iter().zip([1, 2, 4, 8, 8, 8]) {
            let nominal = Duration::from_secs(nominal);
            assert!(*wait >= nominal / 2 && *wait <= nominal, "{wait:?} within [{:?}, {nominal:?}]", nominal / 2);
        }
        backoff.reset();
        assert!(backoff.next_wait() <= Duration::from_secs(1));
    }

    #[test]
    fn a_close_over_the_token_is_told_apart_from_other_closes() {
        let frame = |code: CloseCode, reason: &str| CloseFrame { code, reason: reason.to_string().into() };
        assert!(about_the_token(Some(&frame(CloseCode::Policy, ""))));
        assert!(about_the_token(Some(&frame(CloseCode::Library(4001), "Invalid token: access token has expired"))));
        assert!(!about_the_token(Some(&frame(CloseCode::Away, "restarting"))));
        assert!(!about_the_token(None));
    }
}
