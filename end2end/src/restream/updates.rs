//! The stand-in's two WebSockets, written from Restream's public docs: the streaming updates
//! (`/ws?accessToken=…`, developers.restream.io "Streaming Updates": `updateIncoming`,
//! `deleteIncoming`, `updateOutgoing`, `deleteOutgoing`, `updateStatuses`) and the chat API's
//! connections (`/chat/ws?accessToken=…`, "Chat" and "Connections": `connection_info`,
//! `heartbeat`). What they report is what the stand-in's ingest really receives: the test
//! world's nginx-rtmp sink, whose stat page it reads ([`super::RestreamStandIn::receive_from`])
//! — a user whose stream key is being published to, with its bytes growing, is "incoming", and
//! every enabled channel of theirs is then being sent to and online. Tests steer it: a user not
//! reported as received, a channel offline, a channel's connection expired, every socket dropped.
//!
//! Where the docs are silent, the stand-in chooses, and says so here:
//! - a refused token at the handshake is answered `401` in Restream's API error shape;
//! - an open socket whose token stops being valid (expired, or rotated by a refresh) is closed
//!   with code 1008 (policy) and "Invalid token: …";
//! - `updateIncoming` repeats every second while the stream goes on (the docs say a new socket
//!   gets the last minute of updates, "enough … to reconstruct the whole state"), the outgoing
//!   and statuses every few seconds and on change;
//! - fps, keyframe interval and codecs are those of the test world's source (the stand-in does
//!   not decode the stream); the bitrate is measured from the sink's byte counter;
//! - viewers are 3 per online channel.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::sockets::SocketSeen;
use super::state::World;
use super::{Shared, api::error_body};

/// How often a socket looks at the world.
const TICK: Duration = Duration::from_millis(500);
/// The chat API's heartbeat ("approx every 45 seconds").
const HEARTBEAT: Duration = Duration::from_secs(45);

pub(super) fn routes() -> axum::Router<Shared> {
    axum::Router::new().route("/ws", get(streaming)).route("/chat/ws", get(chat))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenQuery {
    access_token: Option<String>,
}

/// The user a socket's token names, or the refusal (the docs are silent: Restream's 401).
#[allow(clippy::result_large_err)] // a ready response, axum's way
fn authenticate(shared: &Shared, query: &TokenQuery, feed: &str) -> Result<(i64, String), Response> {
    let mut world = shared.world();
    let token = query.access_token.clone().unwrap_or_default();
    match world.bearer(&token) {
        Ok(user_id) => {
            world.sockets.accepted.push(SocketSeen { user_id, feed: feed.into(), token: token.clone() });
            Ok((user_id, token))
        }
        Err(_) => {
            world.sockets.refused += 1;
            drop(world);
            Err(error_body(StatusCode::UNAUTHORIZED, "invalid_token", "Invalid token: access token is invalid"))
        }
    }
}

async fn streaming(State(shared): State<Shared>, Query(query): Query<TokenQuery>, upgrade: WebSocketUpgrade) -> Response {
    match authenticate(&shared, &query, "streaming") {
        Ok((user_id, token)) => {
            upgrade.max_message_size(64 * 1024).on_upgrade(move |socket| serve(shared, socket, user_id, token, Feed::Streaming))
        }
        Err(refusal) => refusal,
    }
}

async fn chat(State(shared): State<Shared>, Query(query): Query<TokenQuery>, upgrade: WebSocketUpgrade) -> Response {
    match authenticate(&shared, &query, "chat") {
        Ok((user_id, token)) => {
            upgrade.max_message_size(64 * 1024).on_upgrade(move |socket| serve(shared, socket, user_id, token, Feed::Chat))
        }
        Err(refusal) => refusal,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    Streaming,
    Chat,
}

/// What one socket last told its client.
#[derive(Debug, Default)]
struct Told {
    incoming: bool,
    channels: HashMap<i64, (bool, bool)>,
    ticks: u64,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The streaming updates to send now, given what was told.
fn streaming_updates(world: &World, user_id: i64, told: &mut Told, now: Instant) -> Vec<Value> {
    let Some(user) = world.users.get(&user_id) else { return Vec::new() };
    let mut messages = Vec::new();
    let started = unix_now();
    let suid = format!("suid-{user_id}");
    let incoming = world.sockets.incoming(user, now);
    let again = told.ticks.is_multiple_of(6);
    match incoming {
        Some(bps) => messages.push(json!({
            "action": "updateIncoming", "userId": user_id, "eventId": null, "createdAt": started, "suid": suid,
            "streaming": {
                "fps": 30, "keyframeInterval": 2, "lossRate": 0,
                "bitrate": { "total": bps, "audio": 128_000.min(bps), "video": bps.saturating_sub(128_000) },
                "codec": { "audio": "aac", "video": "h264" }, "profileAndLevel": "High@3.1", "height": 720, "width": 1280,
            },
        })),
        None if told.incoming => {
            messages.push(json!({ "action": "deleteIncoming", "userId": user_id, "createdAt": started, "suid": suid }))
        }
        None => {}
    }
    for channel in user.channels.iter().filter(|c| c.enabled) {
        let online = !world.sockets.offline.contains(&channel.id);
        let state = (incoming.is_some(), online);
        let changed = told.channels.get(&channel.id) != Some(&state);
        let (platform, id) = (channel.streaming_platform_id, channel.id);
        if incoming.is_some() && (changed || again) {
            messages.push(json!({
                "action": "updateOutgoing", "userId": user_id, "platformId": platform, "channelId": id, "createdAt": started,
                "channelIdentifier": channel.identifier, "eventIdentifier": format!("event-{id}"),
                "streaming": { "status": "CONNECTED", "bitrate": incoming.unwrap_or(0), "bufferedBytes": 0 },
            }));
            messages.push(json!({
                "action": "updateStatuses", "userId": user_id, "platformId": platform, "channelId": id, "createdAt": started,
                "updatedAt": unix_now(), "channelIdentifier": channel.identifier, "eventIdentifier": format!("event-{id}"),
                "channelViews": null, "followers": null, "gameTitle": null, "online": online, "streamViews": null,
                "title": null, "viewers": if online { json!(3) } else { Value::Null },
            }));
        } else if incoming.is_none() && told.incoming {
            messages.push(
                json!({ "action": "deleteOutgoing", "userId": user_id, "platformId": platform, "channelId": id, "createdAt": started }),
            );
        }
        told.channels.insert(channel.id, state);
    }
    told.incoming = incoming.is_some();
    told.ticks += 1;
    messages
}

/// The chat connections to send now: one `connection_info` per enabled channel when it changes.
fn chat_actions(world: &World, user_id: i64, told: &mut Told) -> Vec<Value> {
    let Some(user) = world.users.get(&user_id) else { return Vec::new() };
    let mut messages = Vec::new();
    for channel in user.channels.iter().filter(|c| c.enabled) {
        let expired = world.sockets.expired.contains(&channel.id);
        if told.channels.get(&channel.id) == Some(&(expired, true)) {
            continue;
        }
        told.channels.insert(channel.id, (expired, true));
        let (status, reason) = if expired { ("error", json!("restream_channel_connection_expired")) } else { ("connected", Value::Null) };
        messages.push(json!({
            "action": "connection_info", "timestamp": unix_now(),
            "payload": {
                "connectionIdentifier": format!("{user_id}-{}-{}", channel.streaming_platform_id, channel.identifier),
                "connectionUuid": format!("uuid-{}-{}", channel.id, u8::from(expired)),
                "eventSourceId": channel.streaming_platform_id, "reason": reason, "status": status,
                "target": { "owner": { "displayName": channel.display_name, "id": channel.identifier }, "websiteChannelId": channel.id },
                "userId": user_id,
            },
        }));
    }
    messages
}

/// Why a socket is being closed by the stand-in.
fn closing(world: &World, token: &str, generation: u64) -> Option<CloseFrame> {
    if world.sockets.generation != generation {
        return Some(CloseFrame { code: 1001, reason: "going away".into() });
    }
    world.bearer(token).err().map(|_| CloseFrame { code: 1008, reason: "Invalid token: access token has expired".into() })
}

/// Serves one socket until its client leaves or the stand-in closes it.
async fn serve(shared: Shared, mut socket: WebSocket, user_id: i64, token: String, feed: Feed) {
    let generation = {
        let mut world = shared.world();
        world.sockets.open += 1;
        world.sockets.generation
    };
    let mut told = Told::default();
    let mut tick = tokio::time::interval(TICK);
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let (messages, close) = {
                    let world = shared.world();
                    let close = closing(&world, &token, generation);
                    let messages = match feed {
                        Feed::Streaming => streaming_updates(&world, user_id, &mut told, Instant::now()),
                        Feed::Chat => chat_actions(&world, user_id, &mut told),
                    };
                    (messages, close)
                };
                if let Some(frame) = close {
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    break;
                }
                let mut failed = false;
                for message in messages {
                    if socket.send(Message::Text(message.to_string().into())).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed { break; }
            }
            _ = heartbeat.tick(), if feed == Feed::Chat => {
                let beat = json!({ "action": "heartbeat", "payload": {}, "timestamp": unix_now() });
                if socket.send(Message::Text(beat.to_string().into())).await.is_err() { break; }
            }
            received = socket.recv() => match received {
                // "The server will ignore any incoming messages"; pings are answered by axum.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    shared.world().sockets.open -= 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::SinkStream;
    use crate::restream::StandInUser;
    use crate::restream::sockets::STILL_AFTER;

    fn world_with(user: &StandInUser) -> World {
        let mut world = World::new(super::super::StandInConfig::default());
        world.add_user(user.clone());
        world
    }

    #[test]
    fn what_the_ingest_receives_is_reported_and_the_steering_changes_it() {
        let user = StandInUser::sample(5101, "Ana");
        let mut world = world_with(&user);
        let t0 = Instant::now();
        let stream = |bytes| vec![SinkStream { name: user.stream_key.clone(), bytes_in: bytes, publishing: true }];
        world.sockets.ingested(stream(1000), t0);
        world.sockets.ingested(stream(126_000), t0 + Duration::from_secs(1));
        let mut told = Told::default();
        let first = streaming_updates(&world, user.id, &mut told, t0 + Duration::from_secs(1));
        let actions: Vec<&str> = first.iter().filter_map(|m| m["action"].as_str()).collect();
        assert_eq!(actions, ["updateIncoming", "updateOutgoing", "updateStatuses"], "the enabled channel only");
        assert_eq!(first[0]["streaming"]["bitrate"]["total"], json!(1_000_000));
        assert_eq!(first[2]["online"], json!(true));

        world.sockets.offline.insert(user.channels[0].id);
        let offline = streaming_updates(&world, user.id, &mut told, t0 + Duration::from_secs(1));
        assert_eq!(offline.last().map(|m| m["online"].clone()), Some(json!(false)), "told at once");
        world.sockets.not_received.insert(user.id);
        let gone = streaming_updates(&world, user.id, &mut told, t0 + Duration::from_secs(1));
        let actions: Vec<&str> = gone.iter().filter_map(|m| m["action"].as_str()).collect();
        assert_eq!(actions, ["deleteIncoming", "deleteOutgoing"]);
        assert!(streaming_updates(&world, user.id, &mut told, t0 + Duration::from_secs(1)).is_empty(), "nothing to say");
        world.sockets.not_received.clear();
        assert!(
            streaming_updates(&world, user.id, &mut told, t0 + STILL_AFTER + Duration::from_secs(2)).is_empty(),
            "a still stream is not incoming"
        );
    }

    #[test]
    fn chat_connections_are_told_once_each_change() {
        let user = StandInUser::sample(5102, "Ben");
        let mut world = world_with(&user);
        let mut told = Told::default();
        let first = chat_actions(&world, user.id, &mut told);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0]["payload"]["status"], json!("connected"));
        assert!(chat_actions(&world, user.id, &mut told).is_empty());
        world.sockets.expired.insert(user.channels[0].id);
        let expired = chat_actions(&world, user.id, &mut told);
        assert_eq!(expired[0]["payload"]["reason"], json!("restream_channel_connection_expired"));
        assert_eq!(expired[0]["payload"]["target"]["websiteChannelId"], json!(user.channels[0].id));
    }
}
