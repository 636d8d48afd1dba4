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

/// The request budget and the detection delay, measured over a simulated hour: 15 s polls
/// scaled down 300 times (50 ms; an hour is 12 s), a live starting at random moments. Figures
/// are printed (README and the note quote them), not asserted: timing is the machine's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_budget_and_detection_delay_over_a_simulated_hour() {
    use fanout_testworld::youtube::ChannelShows;
    use fanout_testworld::youtube::data_api::STAND_IN_API_KEY;
    const SCALE: u32 = 300;
    let poll = Duration::from_secs(15) / SCALE;
    for through_api in [false, true] {
        let youtube = YoutubeStandIn::start().await.unwrap_or_else(|e| panic!("{e}"));
        let config = DetectorConfig {
            base: url::Url::parse(&youtube.url()).unwrap_or_else(|e| panic!("{e}")),
            channel: YoutubeChannel::Handle("FanoutTestChannel".into()),
            poll,
        };
        let http = server::youtube::client::youtube_client(None, None).unwrap_or_else(|e| panic!("{e}"));
        let looker: std::sync::Arc<dyn detect::Look> = if through_api {
            let base = url::Url::parse(&youtube.api_url()).unwrap_or_else(|e| panic!("{e}"));
            let key = app::secrets::Secret::new(STAND_IN_API_KEY.to_string());
            std::sync::Arc::new(server::youtube::data_api::DataApi::new(http, base, key, config.channel.clone()))
        } else {
            std::sync::Arc::new(detect::PageLook(http))
        };
        let stop = tokio_util::sync::CancellationToken::new();
        let mut seen = detect::spawn(config, looker, stop.clone());
        let started = std::time::Instant::now();
        let mut delays = Vec::new();
        let mut live = 0;
        while started.elapsed() < Duration::from_secs(12) {
            // Off air for 2 to 5 simulated minutes, then a live: how long until it is seen.
            tokio::time::sleep(Duration::from_millis(400 + u64::from(rand::random::<u16>() % 600))).await;
            live += 1;
            let video_id = format!("SimLive{live:04}");
            youtube.show(ChannelShows::Live {
                video_id: video_id.clone(),
                title: "Simulated".into(),
                manifest: "http://127.0.0.1:9/x.m3u8".into(),
            });
            let shown = std::time::Instant::now();
            let found = seen.wait_for(|s| matches!(s, Some(s) if matches!(&s.observation, Observation::Live(l) if l.video_id == video_id)));
            if tokio::time::timeout(Duration::from_secs(5), found).await.is_ok_and(|r| r.is_ok()) {
                delays.push(shown.elapsed() * SCALE);
            }
            tokio::time::sleep(Duration::from_millis(200)).await; // on air for a simulated minute
            youtube.show(ChannelShows::NoLive);
        }
        stop.cancel();
        let hours = started.elapsed().as_secs_f64() * f64::from(SCALE) / 3600.0;
        let (pages, api) = (youtube.requests(), youtube.api_requests());
        delays.sort();
        let at = |q: f64| delays.get(((delays.len() as f64 * q) as usize).min(delays.len().saturating_sub(1))).copied().unwrap_or_default();
        eprintln!(
            "{}: over {hours:.2} simulated hours with 15 s polls — {:.0} /live page requests and {:.0} Data API calls per day; \
             detection delay over {} lives p50 {:.1} s, p95 {:.1} s",
            if through_api { "Data API" } else { "/live page" },
            pages as f64 / hours * 24.0,
            api as f64 / hours * 24.0,
            delays.len(),
            at(0.5).as_secs_f64(),
            at(0.95).as_secs_f64()
        );
        assert!(!delays.is_empty(), "lives were seen");
        if through_api {
            assert_eq!(pages, 0, "the Data API alone: no page request");
        } else {
            assert_eq!(api, 0);
        }
    }
}
