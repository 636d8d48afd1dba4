use super::*;
use crate::relay::hub::Hub;

#[test]
fn timestamps_keep_growing_when_the_ingest_restarts() {
    let mut rebaser = Rebaser::default();
    let video = MediaKind::Video;
    assert_eq!((rebaser.rebase(video, 0), rebaser.rebase(video, 33), rebaser.rebase(video, 10_000)), (Some(0), Some(33), Some(10_000)));
    rebaser.new_publisher();
    let restarted = rebaser.rebase(video, 0);
    assert_eq!(restarted, Some(10_040), "the second publisher continues after the first");
    assert_eq!(rebaser.rebase(video, 33), Some(10_073));
    rebaser.new_publisher();
    assert_eq!(rebaser.rebase(video, 5_000), Some(10_113), "whatever the new publisher starts at");
}

#[test]
fn each_stream_only_goes_forward_across_a_switch() {
    let mut rebaser = Rebaser::default();
    let (video, audio) = (MediaKind::Video, MediaKind::Audio);
    assert_eq!((rebaser.rebase(video, 1_000), rebaser.rebase(audio, 1_010)), (Some(0), Some(10)), "the first starts at 0");
    rebaser.new_publisher();
    // The new publisher's keyframe at 5 000, its audio from 4 990: that audio would go out
    // before the last audio sent.
    assert_eq!(rebaser.rebase(video, 5_000), Some(50));
    assert_eq!(rebaser.rebase(audio, 4_950), None, "dropped: audio would go back in time");
    assert_eq!(rebaser.rebase(audio, 4_970), Some(20));
}

#[test]
fn one_publisher_holds_the_input_at_a_time() {
    let hub = Arc::new(Hub::new(16));
    let input = Input::new(Arc::clone(&hub));
    let first = input.claim();
    assert!(first.is_some() && input.is_held());
    assert!(input.claim().is_none(), "a second publisher is refused while the first holds it");
    assert!(hub.watch_input().borrow().publishing);
    drop(first);
    assert!(!input.is_held() && !hub.watch_input().borrow().publishing);
    let mut again = input.claim().unwrap_or_else(|| panic!("free again"));
    let mut ring = hub.subscribe();
    again.media(MediaKind::Video, Bytes::from_static(&[0x17, 1, 0, 0, 0]), 500).unwrap_or_else(|e| panic!("{e}"));
    again.flush();
    let batch = ring.try_recv().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((batch.media().len(), hub.watch_input().borrow().messages), (1, 1));
}

const AVC_HEADER: &[u8] = &[0x17, 0, 0, 0, 0, 1];
const KEYFRAME: &[u8] = &[0x17, 1, 0, 0, 0, 2];
const INTER: &[u8] = &[0x27, 1, 0, 0, 0, 3];

fn send(feed: &mut Feed, body: &'static [u8], timestamp: u32) -> Result<(), FeedError> {
    feed.media(MediaKind::Video, Bytes::from_static(body), timestamp)
}

/// Every message the ring got: (timestamp, keyframe, sequence header).
fn received(ring: &mut tokio::sync::broadcast::Receiver<Arc<Batch>>) -> Vec<(u32, bool, bool)> {
    let mut got = Vec::new();
    while let Ok(batch) = ring.try_recv() {
        got.extend(batch.media().iter().map(|m| (m.timestamp, m.keyframe, m.sequence_header)));
    }
    got
}

#[test]
fn a_standby_pull_takes_over_at_its_first_keyframe_with_its_headers_and_the_old_one_is_told() {
    let hub = Arc::new(Hub::new(64));
    let input = Input::new(Arc::clone(&hub));
    let mut ring = hub.subscribe();
    let mut old = input.claim().unwrap_or_else(|| panic!("free"));
    for (body, at) in [(AVC_HEADER, 0), (KEYFRAME, 0), (INTER, 40)] {
        send(&mut old, body, at).unwrap_or_else(|e| panic!("{e}"));
    }
    old.flush();
    let mut new = input.standby(Takeover::AtKeyframe).unwrap_or_else(|| panic!("a standby"));
    // Before its first keyframe, nothing of it goes out and the old one still holds.
    send(&mut new, AVC_HEADER, 9_000).unwrap_or_else(|e| panic!("{e}"));
    send(&mut new, INTER, 9_040).unwrap_or_else(|e| panic!("{e}"));
    assert!(!new.is_holding());
    send(&mut old, INTER, 80).unwrap_or_else(|e| panic!("{e}"));
    old.flush();
    send(&mut new, KEYFRAME, 9_080).unwrap_or_else(|e| panic!("{e}"));
    assert!(new.is_holding() && input.is_held());
    send(&mut new, INTER, 9_120).unwrap_or_else(|e| panic!("{e}"));
    new.flush();
    assert!(matches!(send(&mut old, INTER, 120), Err(FeedError::Superseded)), "the old pull is told to stop");
    drop(old);
    assert!(hub.watch_input().borrow().publishing, "dropping the superseded feed leaves the new one publishing");
    assert_eq!(
        received(&mut ring),
        [
            (0, true, true),
            (0, true, false),
            (40, false, false),
            (80, false, false),
            (120, true, true),
            (120, true, false),
            (160, false, false)
        ],
        "one stream: the new headers and keyframe follow the old frames, timestamps growing"
    );
}

#[test]
fn a_source_the_slate_displaced_takes_it_back_at_a_keyframe_unless_another_did_first() {
    let hub = Arc::new(Hub::new(64));
    let input = Input::new(Arc::clone(&hub));
    let mut pull = input.claim().unwrap_or_else(|| panic!("free"));
    send(&mut pull, AVC_HEADER, 0).unwrap_or_else(|e| panic!("{e}"));
    send(&mut pull, KEYFRAME, 0).unwrap_or_else(|e| panic!("{e}"));
    let slate = input.slate_feed(Duration::ZERO).unwrap_or_else(|| panic!("the slate"));
    assert!(input.is_slate() && hub.watch_input().borrow().slate);
    send(&mut pull, INTER, 40).unwrap_or_else(|e| panic!("{e}"));
    assert!(input.is_slate(), "not before a keyframe");
    send(&mut pull, KEYFRAME, 80).unwrap_or_else(|e| panic!("{e}"));
    assert!(!input.is_slate() && pull.is_holding(), "the pull takes its place back");
    drop(slate);
    // The slate again; a fresh pull takes over first: the displaced one is told to stop.
    let _slate = input.slate_feed(Duration::ZERO).unwrap_or_else(|| panic!("the slate"));
    let mut fresh = input.standby(Takeover::AtKeyframe).unwrap_or_else(|| panic!("a standby"));
    send(&mut fresh, AVC_HEADER, 0).unwrap_or_else(|e| panic!("{e}"));
    send(&mut fresh, KEYFRAME, 0).unwrap_or_else(|e| panic!("{e}"));
    assert!(fresh.is_holding());
    assert!(matches!(send(&mut pull, KEYFRAME, 120), Err(FeedError::Superseded)), "superseded, not waiting forever");
}

#[test]
fn a_backup_waits_until_the_active_source_goes_quiet() {
    let hub = Arc::new(Hub::new(64));
    let input = Input::new(Arc::clone(&hub));
    let mut active = input.claim().unwrap_or_else(|| panic!("free"));
    send(&mut active, AVC_HEADER, 0).unwrap_or_else(|e| panic!("{e}"));
    let mut patient = input.standby(Takeover::WhenStalled(Duration::from_secs(3600))).unwrap_or_else(|| panic!("a standby"));
    send(&mut patient, AVC_HEADER, 0).unwrap_or_else(|e| panic!("{e}"));
    send(&mut patient, KEYFRAME, 0).unwrap_or_else(|e| panic!("{e}"));
    assert!(!patient.is_holding(), "the active source is sending: the backup waits");
    drop(active);
    send(&mut patient, INTER, 40).unwrap_or_else(|e| panic!("{e}"));
    assert!(!patient.is_holding(), "only at a keyframe");
    send(&mut patient, KEYFRAME, 80).unwrap_or_else(|e| panic!("{e}"));
    assert!(patient.is_holding(), "the input is free: the backup's keyframe takes it");

    let mut eager = input.standby(Takeover::WhenStalled(Duration::ZERO)).unwrap_or_else(|| panic!("a standby"));
    send(&mut eager, KEYFRAME, 0).unwrap_or_else(|e| panic!("{e}"));
    assert!(!eager.is_holding(), "no stream headers yet: a keyframe alone cannot start a decoder");
    send(&mut eager, AVC_HEADER, 0).unwrap_or_else(|e| panic!("{e}"));
    send(&mut eager, KEYFRAME, 40).unwrap_or_else(|e| panic!("{e}"));
    assert!(eager.is_holding());
    assert!(matches!(send(&mut patient, INTER, 120), Err(FeedError::Superseded)));
}
