use super::*;
use crate::restream::updates::messages::{
    Bitrate, ConnectionClosed, ConnectionInfo, ConnectionTarget, IncomingStreaming, OutgoingStreaming,
};

const YOUTUBE: i64 = 510101;
const TWITCH: i64 = 510102;

fn known() -> Vec<RestreamChannel> {
    let channel = |id, platform_id, platform: &str| RestreamChannel {
        id,
        platform_id,
        platform: platform.into(),
        display_name: format!("Ana on {platform}"),
        url: None,
        enabled: true,
    };
    vec![channel(YOUTUBE, 5, "YouTube"), channel(TWITCH, 1, "Twitch")]
}

fn incoming(bps: f64) -> Update {
    Update::UpdateIncoming {
        user_id: 5101,
        suid: "s".into(),
        streaming: IncomingStreaming { fps: Some(30.0), keyframe_interval: Some(2.0), bitrate: Bitrate { total: bps }, codec: None },
    }
}

fn statuses(channel_id: i64, online: bool, viewers: Option<f64>) -> Update {
    Update::UpdateStatuses { user_id: 5101, platform_id: 5, channel_id, online, viewers }
}

fn outgoing(channel_id: i64, status: OutgoingStatus) -> Update {
    Update::UpdateOutgoing { user_id: 5101, platform_id: 5, channel_id, streaming: OutgoingStreaming { status, bitrate: None } }
}

fn ana() -> AccountId {
    AccountId::from_stored("ana")
}

#[test]
fn what_restream_reports_becomes_the_rows_restream_side() {
    let t0 = Instant::now();
    let mut heard = Heard::default();
    assert!(!heard.received(&known(), t0).listening, "nothing is known before the socket opens");
    heard.opened(t0);
    heard.update(incoming(1_549_000.4), t0);
    heard.update(outgoing(YOUTUBE, OutgoingStatus::Connected), t0);
    heard.update(statuses(YOUTUBE, true, Some(12.0)), t0);
    heard.update(outgoing(TWITCH, OutgoingStatus::Connecting), t0);
    heard.update(statuses(777, false, None), t0);
    let received = heard.received(&known(), t0 + Duration::from_secs(3));
    assert!(received.listening && received.receiving);
    assert_eq!(received.incoming.as_ref().map(|i| i.bitrate_bps), Some(1_549_000));
    assert_eq!(received.last_seen_secs, Some(3));
    let states: Vec<_> = received.channels.iter().map(|c| (c.platform.as_str(), c.state, c.viewers)).collect();
    assert_eq!(
        states,
        [
            ("YouTube", ChannelState::Online, Some(12)),
            ("Twitch", ChannelState::Connecting, None),
            ("Platform #5", ChannelState::Offline, None)
        ],
        "known channels first, in their order; one Restream reports that Fanout did not know of is named by its platform id"
    );

    heard.update(outgoing(YOUTUBE, OutgoingStatus::Disconnected), t0);
    heard.update(statuses(TWITCH, true, Some(9.0)), t0);
    heard.update(Update::DeleteOutgoing { user_id: 5101, platform_id: 1, channel_id: TWITCH }, t0);
    let states: Vec<_> = heard.received(&known(), t0).channels.iter().map(|c| (c.state, c.viewers)).collect();
    assert_eq!(&states[..2], [(ChannelState::Error, Some(12)), (ChannelState::Offline, None)], "a deleted stream has no viewers left");

    assert!(!heard.receiving(t0 + INCOMING_FRESH), "an incoming stream Restream stopped reporting is gone");
    heard.update(Update::DeleteIncoming { user_id: 5101, suid: "s".into() }, t0);
    assert!(!heard.receiving(t0));
    heard.update(incoming(1.0), t0);
    heard.closed();
    assert!(!heard.receiving(t0), "without the socket, nothing is known");
    heard.opened(t0);
    assert_eq!(
        (heard.connects, heard.incoming.is_none(), heard.channels.is_empty()),
        (2, true, true),
        "a new socket starts from the replay"
    );
}

#[test]
fn an_expired_platform_connection_asks_the_volunteer_to_reconnect_it_until_it_works_again() {
    let mut heard = Heard::default();
    heard.opened(Instant::now());
    let info = |status: &str, reason: Option<&str>, uuid: &str| ChatAction::ConnectionInfo {
        payload: ConnectionInfo {
            connection_identifier: "5101-twitch-1".into(),
            connection_uuid: uuid.into(),
            status: status.into(),
            reason: reason.map(String::from),
            target: ConnectionTarget { website_channel_id: Some(TWITCH) },
        },
    };
    heard.chat(info("error", Some("restream_channel_connection_expired"), "u-1"));
    assert_eq!(heard.received(&known(), Instant::now()).reconnect, ["Twitch"]);
    heard.chat(ChatAction::ConnectionClosed { payload: ConnectionClosed { connection_uuid: "other".into() } });
    assert_eq!(heard.received(&known(), Instant::now()).reconnect, ["Twitch"], "a close of another connection changes nothing");
    heard.chat(info("connected", None, "u-2"));
    assert!(heard.received(&known(), Instant::now()).reconnect.is_empty(), "a working connection to the same target replaces it");
    heard.chat(info("error", Some("restream_channel_connection_expired"), "u-3"));
    heard.chat(ChatAction::ConnectionClosed { payload: ConnectionClosed { connection_uuid: "u-3".into() } });
    assert!(heard.expired.is_empty(), "closed by its uuid");
    heard.chat(info("error", Some("youtube_livechat_ended"), "u-4"));
    assert!(heard.expired.is_empty(), "other errors are not the volunteer's to fix");
}

#[test]
fn a_destination_sent_to_but_unseen_for_fifteen_seconds_is_flagged_once_and_cleared_once() {
    let t0 = Instant::now();
    let mut judge = Judge::default();
    let mut heard = Heard::default();
    heard.opened(t0);
    let at = |s: u64| t0 + Duration::from_secs(s);
    let mut events = Vec::new();
    let look = |judge: &mut Judge, heard: &Heard, streaming: bool, s: u64, events: &mut Vec<String>| {
        let verdict = judge.judge(&ana(), "Ana", &known(), streaming, Some(heard), at(s));
        events.extend(verdict.events.clone());
        verdict.flag
    };
    assert_eq!(look(&mut judge, &heard, false, 0, &mut events), None, "not sending yet: nothing to judge");
    assert_eq!(look(&mut judge, &heard, true, 1, &mut events), None);
    assert_eq!(look(&mut judge, &heard, true, 15, &mut events), None, "not yet 15 s");
    assert_eq!(look(&mut judge, &heard, true, 16, &mut events), Some(HealthFlag::SentNotReceived));
    assert_eq!(look(&mut judge, &heard, true, 17, &mut events), Some(HealthFlag::SentNotReceived));
    assert_eq!(events.len(), 1, "one event for the change, not one per look: {events:?}");
    assert!(events[0].contains("has not received it for 15 s"), "{events:?}");
    heard.update(incoming(1e6), at(18));
    assert_eq!(look(&mut judge, &heard, true, 18, &mut events), None);
    assert_eq!(look(&mut judge, &heard, true, 19, &mut events), None);
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[1].contains("receives the live again"));

    // Restream seen first: never flagged. Without a socket, nothing is judged.
    let mut quiet = Judge::default();
    assert_eq!(quiet.judge(&ana(), "Ana", &known(), true, Some(&Heard::default()), at(100)).flag, None);
    assert_eq!(quiet.judge(&ana(), "Ana", &known(), true, None, at(200)).flag, None);
}

#[test]
fn a_channel_offline_during_the_live_is_told_once_after_it_settles_and_again_when_back() {
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    let mut judge = Judge::default();
    let mut heard = Heard::default();
    heard.opened(t0);
    heard.update(incoming(1e6), t0);
    heard.update(statuses(YOUTUBE, false, None), t0);
    let mut all = Vec::new();
    for s in [0, 5, 14, 15, 16, 30] {
        heard.update(incoming(1e6), at(s));
        let verdict = judge.judge(&ana(), "Ana", &known(), true, Some(&heard), at(s));
        assert_eq!(verdict.received.channels[0].state, ChannelState::Offline, "shown at once");
        all.extend(verdict.events);
    }
    assert_eq!(all, ["Ana: YouTube channel “Ana on YouTube” is offline during the live (Restream reports)"]);
    heard.update(statuses(YOUTUBE, true, Some(4.0)), at(31));
    let back = judge.judge(&ana(), "Ana", &known(), true, Some(&heard), at(31));
    assert_eq!(back.events, ["Ana: YouTube channel “Ana on YouTube” is online again"]);
    assert!(judge.judge(&ana(), "Ana", &known(), true, Some(&heard), at(32)).events.is_empty());

    // Twitch coming up through connecting to online at the start of a live: no event.
    let mut start = Judge::default();
    let mut fresh = Heard::default();
    fresh.opened(t0);
    fresh.update(incoming(1e6), t0);
    fresh.update(outgoing(TWITCH, OutgoingStatus::Connecting), t0);
    assert!(start.judge(&ana(), "Ana", &known(), true, Some(&fresh), at(20)).events.is_empty());
    fresh.update(statuses(TWITCH, true, None), at(21));
    assert!(start.judge(&ana(), "Ana", &known(), true, Some(&fresh), at(40)).events.is_empty());
}

#[test]
fn a_platform_to_reconnect_is_told_once() {
    let mut judge = Judge::default();
    let mut heard = Heard::default();
    heard.opened(Instant::now());
    heard.expired.insert("x".into(), ("u".into(), TWITCH));
    let first = judge.judge(&ana(), "Ana", &known(), true, Some(&heard), Instant::now());
    assert_eq!(first.received.reconnect_advice(), ["Reconnect your Twitch in Restream"]);
    assert_eq!(first.events.len(), 1);
    assert!(first.events[0].contains("must reconnect their Twitch in Restream"));
    assert!(judge.judge(&ana(), "Ana", &known(), true, Some(&heard), Instant::now()).events.is_empty());
    judge.retain(|_| false);
    assert_eq!(judge.judge(&ana(), "Ana", &known(), true, Some(&heard), Instant::now()).events.len(), 1, "forgotten once it left");
}
