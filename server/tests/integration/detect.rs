//! The detector against the YouTube stand-in: it backs off while YouTube refuses, and recovers.

use std::time::Duration;

use app::channels::YoutubeChannel;
use fanout_testworld::youtube::YoutubeStandIn;
use server::youtube::detect::{self, DetectorConfig, Observation};

#[tokio::test]
async fn polling_backs_off_while_youtube_refuses_and_recovers_after() {
    let youtube = YoutubeStandIn::start().await.unwrap_or_else(|e| panic!("{e}"));
    let config = DetectorConfig {
        base: url::Url::parse(&youtube.url()).unwrap_or_else(|e| panic!("{e}")),
        channel: YoutubeChannel::Handle("FanoutTestChannel".into()),
        poll: Duration::from_millis(200),
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let http = server::youtube::client::youtube_client(None, None).unwrap_or_else(|e| panic!("{e}"));

    youtube.refuse(Some(429));
    let mut observations = detect::spawn(config, std::sync::Arc::new(detect::PageLook(http)), stop.clone());
    tokio::time::sleep(Duration::from_secs(4)).await;
    let refused = youtube.requests();
    // Every 200 ms would be about 20 requests; doubling waits (0.4, 0.8, 1.6 … s) make about 4.
    assert!((2..=6).contains(&refused), "{refused} requests in 4 s of 429s");
    assert!(observations.borrow().is_none(), "a refusal is not taken for an answer");

    youtube.refuse(None);
    let seen = tokio::time::timeout(Duration::from_secs(10), observations.wait_for(|o| o.is_some())).await.is_ok_and(|r| r.is_ok());
    assert!(seen, "polling resumes once YouTube answers");
    assert_eq!(observations.borrow().clone().map(|seen| seen.observation), Some(Observation::NotLive(None)));
    stop.cancel();
}
