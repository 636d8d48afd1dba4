//! The slate through a gap in the source, end to end: the live's HLS source (ffmpeg) is cut for
//! half the grace; the nginx-rtmp sink keeps receiving (its byte counter is watched), a
//! recording of it made by a real ffmpeg player decodes without an error, with timestamps that
//! only grow, and shows source frames, then slate frames, then source frames again (told apart
//! by their brightness: the slate is a dark card); the destination never reconnected. Figures
//! (the longest stall at the sink, the slate's CPU) are printed.

use std::time::{Duration, Instant};

use app::model::EventKind;

use super::engine::{LiveWorld, events_of};
use super::*;

/// The mean brightness (0–255) of each video frame of `file`, in order, as ffprobe's
/// `signalstats` measures it.
async fn brightness(file: &Path) -> Vec<f64> {
    let output = tokio::process::Command::new("ffprobe")
        .args(["-v", "error", "-f", "lavfi", "-show_entries", "frame_tags=lavfi.signalstats.YAVG", "-of", "csv=p=0"])
        .arg(format!("movie={},signalstats", file.display()))
        .output()
        .await
        .unwrap_or_else(|e| panic!("ffprobe: {e}"));
    text(&output.stdout).lines().filter_map(|line| line.trim().parse().ok()).collect()
}

/// The packets' timestamps of `file`, per stream (0 video, 1 audio), in file order.
async fn timestamps(file: &Path) -> Vec<(u32, f64)> {
    let output = tokio::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "packet=stream_index,dts_time", "-of", "csv=p=0"])
        .arg(file)
        .output()
        .await
        .unwrap_or_else(|e| panic!("ffprobe: {e}"));
    text(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (stream, at) = line.split_once(',')?;
            Some((stream.trim().parse().ok()?, at.trim().parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_in_the_source_is_bridged_by_the_slate_without_a_reconnect_and_the_stream_stays_decodable() {
    let mut live = LiveWorld::start(24).await;
    let (ana, _) = live.volunteer(9981, "Ana").await;
    let cookie = live.admin_cookie().await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 90).await;
    eventually(30, "the slate is made", || async { live.world.fanout.log().contains("the slate is ready") }).await;

    // A viewer records the sink from now on.
    let dir = temp_dir();
    let recording = dir.path().join("sink.flv");
    let mut recorder = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i", &live.sink.url(&ana.stream_key), "-c", "copy", "-f", "flv"])
        .arg(&recording)
        .stdin(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("ffmpeg recorder: {e}"));
    eventually(20, "the recording grows", || async { std::fs::metadata(&recording).is_ok_and(|m| m.len() > 200_000) }).await;

    // The source is cut for half the grace.
    let pid = live.world.fanout.pid().unwrap_or_else(|| panic!("pid"));
    let cpu = || fanout_testworld::usage::cpu_seconds(pid).unwrap_or(0.0);
    live.source.stop().await;
    let cut = Instant::now();
    let during_cut = live
        .longest_stall(&ana.stream_key, async {
            eventually(10, "the slate goes on", || async { live.dashboard(&cookie).await.input_slate }).await;
            let on_at = cpu();
            let on_since = Instant::now();
            eventually(20, "half the grace", || async { cut.elapsed() >= Duration::from_secs(12) }).await;
            let share = (cpu() - on_at) / on_since.elapsed().as_secs_f64() * 100.0;
            eprintln!("while the slate plays: fanout uses {share:.1} % of a core");
        })
        .await;
    live.source.start().await.unwrap_or_else(|e| panic!("{e}"));
    let back = live
        .longest_stall(&ana.stream_key, async {
            eventually(60, "the source takes the input back", || async { !live.dashboard(&cookie).await.input_slate }).await;
            let at = live.sink.bytes_in(&ana.stream_key).await;
            eventually(30, "the source's media reaches the sink", || async { live.sink.bytes_in(&ana.stream_key).await > at + 300_000 })
                .await;
        })
        .await;
    eprintln!(
        "slate: the sink's byte counter stood still at most {} ms while the source was cut, {} ms as it came back",
        during_cut.as_millis(),
        back.as_millis()
    );
    // Let the player write what it has, then read the recording.
    if let Some(stdin) = recorder.stdin.as_mut() {
        use tokio::io::AsyncWriteExt;
        let _ = stdin.write_all(b"q").await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), recorder.wait()).await;

    let status = live.dashboard(&cookie).await;
    let row = status.destinations.iter().find(|d| d.name.contains("Ana")).unwrap_or_else(|| panic!("Ana's row: {status:?}"));
    assert_eq!(row.reconnects, 0, "Fanout never reconnected the destination");
    assert_eq!(live.sink.publishes(&ana.stream_key), 1, "nginx saw one publish throughout");
    let store = live.store().await;
    let slate = events_of(&store, EventKind::Slate).await;
    assert!(slate.iter().any(|e| e.contains("get the slate")) && slate.iter().any(|e| e.contains("slate is off")), "{slate:?}");
    assert!(events_of(&store, EventKind::LiveStateChanged).await.iter().all(|e| !e.contains("Live ended")), "the live went on");
    // The slate goes on 600 ms after the last frame; the sink's counter is read every 200 ms.
    assert!(during_cut < Duration::from_millis(1500), "the sink kept receiving through the cut ({during_cut:?})");

    let decode = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&recording)
        .args(["-f", "null", "-"])
        .output()
        .await
        .unwrap_or_else(|e| panic!("ffmpeg: {e}"));
    let errors = text(&decode.stderr);
    assert!(errors.trim().is_empty(), "the recording decodes without an error:\n{errors}");
    let packets = timestamps(&recording).await;
    for stream in [0, 1] {
        let times: Vec<f64> = packets.iter().filter(|(s, _)| *s == stream).map(|(_, t)| *t).collect();
        assert!(times.len() > 100, "stream {stream} has packets");
        assert!(times.windows(2).all(|w| w[1] >= w[0]), "stream {stream}: timestamps only grow");
    }
    let frames = brightness(&recording).await;
    let dark = |y: &f64| *y < 70.0;
    let first_slate = frames.iter().position(dark).unwrap_or_else(|| panic!("slate frames in the recording: {frames:?}"));
    let back_at = frames.iter().skip(first_slate).position(|y| !dark(y)).map(|i| i + first_slate);
    assert!(first_slate > 0 && !dark(&frames[0]), "source frames first");
    assert!(back_at.is_some(), "then source frames again");
    eprintln!(
        "the recording: {} frames — source, {} slate frames, source again",
        frames.len(),
        back_at.unwrap_or(first_slate) - first_slate
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_without_audio_is_warned_about_and_given_silent_audio_when_asked() {
    let live = LiveWorld::start_without_audio(30, &[("FANOUT_ADD_SILENT_AUDIO", "true")]).await;
    let (ana, _) = live.volunteer(9991, "Ana").await;
    let cookie = live.admin_cookie().await;
    // A viewer waits at the sink before the live starts: it records what the destination sent
    // from its first byte, and keeps the tracks it finds in its first seconds.
    let dir = temp_dir();
    let first = dir.path().join("first.flv");
    let mut recorder = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i", &live.sink.url(&ana.stream_key), "-c", "copy", "-t", "6", "-f", "flv"])
        .arg(&first)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("ffmpeg recorder: {e}"));
    live.go_live();
    eventually(90, "the dashboard warns of the missing audio", || async {
        live.dashboard(&cookie).await.source_warnings.iter().any(|w| w.starts_with("No audio track"))
    })
    .await;
    let store = live.store().await;
    eventually(30, "an event says so, and that silence is added", || async {
        events_of(&store, EventKind::SourceCheck).await.iter().any(|e| e.contains("silent audio track"))
    })
    .await;
    eventually(90, "the sink gets an AAC track", || async {
        live.sink.bytes_in(&ana.stream_key).await > 100_000
            && fanout_testworld::source::probe_codecs(&live.sink.url(&ana.stream_key)).await.unwrap_or_default() == ["aac", "h264"]
    })
    .await;
    eventually(30, "the warning goes once audio arrives", || async { live.dashboard(&cookie).await.source_warnings.is_empty() }).await;
    // The fan-out waited for the checks: the destination's stream had its audio from the start.
    let recorded = tokio::time::timeout(Duration::from_secs(60), recorder.wait()).await;
    assert!(recorded.is_ok_and(|status| status.is_ok_and(|s| s.success())), "the viewer recorded the first seconds");
    let tracks = fanout_testworld::source::probe_codecs(&first.display().to_string()).await.unwrap_or_default();
    assert_eq!(tracks, ["aac", "h264"], "the first media the destination sent had the silent audio track");
    assert_eq!(live.sink.publishes(&ana.stream_key), 1, "one publish");
}
