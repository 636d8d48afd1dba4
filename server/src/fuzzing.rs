//! The entry points the fuzz targets drive (`server/fuzz`, `scripts/fuzz`) and the regression
//! test replays: one function per surface where bytes from outside enter Fanout. Each takes
//! any bytes and must neither panic nor hang nor grow without bound; what they return does not
//! matter. Kept in the library (not the fuzz crate) so `cargo test` replays the corpus and every
//! crash ever found against the code as it is.

use rml_rtmp::handshake::{Handshake, PeerType};
use rml_rtmp::sessions::{
    ClientSession, ClientSessionConfig, ClientSessionEvent, ClientSessionResult, PublishRequestType, ServerSession, ServerSessionConfig,
    ServerSessionEvent, ServerSessionResult,
};

use crate::relay::guard::{RtmpGuard, catching, check_amf0};
use crate::relay::media::MediaKind;

/// A fuzz target: it takes any bytes and must not panic.
pub type Target = fn(&[u8]);

/// Every target, by the name its fuzz binary and corpus directory have.
pub const TARGETS: [(&str, Target); 12] = [
    ("rtmp_publisher", rtmp_publisher),
    ("rtmp_server_answers", rtmp_server_answers),
    ("flv_input", flv_input),
    ("youtube_page", youtube_page),
    ("youtube_feed", youtube_feed),
    ("restream_json", restream_json),
    ("youtube_api_json", youtube_api_json),
    ("nimble_json", nimble_json),
    ("forms", forms),
    ("manage_link", manage_link),
    ("request_path", request_path),
    ("ffmpeg_stderr", ffmpeg_stderr),
];

/// The handshake's share of a peer's first bytes: C0+C1 (1537) then C2 (1536), as RTMP has it.
const HANDSHAKE_BYTES: usize = 1 + 1536 + 1536;

/// A peer's bytes as reads would bring them: the handshake, then the session's bytes in
/// pieces (a recorded session is a valid input as it is).
fn as_read(data: &[u8]) -> (&[u8], std::slice::Chunks<'_, u8>) {
    let (handshake, session) = data.split_at(data.len().min(HANDSHAKE_BYTES));
    (handshake, session.chunks(4096))
}

/// A publisher's bytes at the relay's listener: the server side of the handshake, then the
/// session behind the guard, answering what it asks; its media goes where a pushed live's
/// does (`relay::push`: kept headers, standing by on a live's input, taking it over).
pub fn rtmp_publisher(data: &[u8]) {
    use crate::relay::listener::Sink;
    let (handshake_bytes, reads) = as_read(data);
    let mut handshake = Handshake::new(PeerType::Server);
    let _ = handshake.process_bytes(handshake_bytes);
    let Ok((mut session, _)) = ServerSession::new(ServerSessionConfig::new()) else { return };
    let point = crate::relay::push::PushPoint::new(std::time::Duration::ZERO);
    let input = crate::relay::Input::new(std::sync::Arc::new(crate::relay::hub::Hub::new(8)));
    point.attach(std::sync::Arc::clone(&input));
    let Some(mut pushed) = point.open(std::net::SocketAddr::from(([127, 0, 0, 1], 1))) else { return };
    let mut guard = RtmpGuard::new();
    for read in reads {
        if guard.check(read).is_err() {
            return;
        }
        let Ok(Ok(results)) = catching(|| session.handle_input(read)) else { return };
        for result in results {
            let ServerSessionResult::RaisedEvent(event) = result else { continue };
            let kind = match event {
                ServerSessionEvent::ConnectionRequested { request_id, .. }
                | ServerSessionEvent::PublishStreamRequested { request_id, .. } => {
                    let _ = catching(|| session.accept_request(request_id));
                    continue;
                }
                ServerSessionEvent::StreamMetadataChanged { metadata, .. } => {
                    pushed.metadata(metadata);
                    continue;
                }
                ServerSessionEvent::VideoDataReceived { data, timestamp, .. } => (MediaKind::Video, data, timestamp),
                ServerSessionEvent::AudioDataReceived { data, timestamp, .. } => (MediaKind::Audio, data, timestamp),
                _ => continue,
            };
            let (kind, data, timestamp) = kind;
            let _ = pushed.media(kind, data, timestamp.value);
            pushed.flush();
        }
    }
}

/// A destination server's bytes at the relay's client: the client side of the handshake, then
/// the client session (asking to connect, then to publish) behind the guard.
pub fn rtmp_server_answers(data: &[u8]) {
    let (handshake_bytes, reads) = as_read(data);
    let mut handshake = Handshake::new(PeerType::Client);
    let _ = handshake.generate_outbound_p0_and_p1();
    let _ = handshake.process_bytes(handshake_bytes);
    let Ok((mut session, _)) = ClientSession::new(ClientSessionConfig::new()) else { return };
    let _ = session.request_connection("live".to_string());
    let mut guard = RtmpGuard::new();
    for read in reads {
        if guard.check(read).is_err() {
            return;
        }
        let Ok(Ok(results)) = catching(|| session.handle_input(read)) else { return };
        for result in results {
            if let ClientSessionResult::RaisedEvent(ClientSessionEvent::ConnectionRequestAccepted) = result {
                let _ = catching(|| session.request_publishing("key".into(), PublishRequestType::Live));
            }
        }
    }
}

/// ffmpeg's FLV on the pipe, as the relay's input reads it, and AMF0 as the guard walks it.
pub fn flv_input(data: &[u8]) {
    let mut reader = crate::relay::flv::FlvReader::new();
    for piece in data.chunks(97) {
        reader.push(piece);
        loop {
            match reader.next_tag() {
                Ok(Some(tag)) => {
                    let _ = crate::relay::pipe::metadata(&tag.body);
                    let _ = crate::relay::media::Media::inspect(MediaKind::Video, &tag.body);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = check_amf0(data);
}

/// A YouTube `/live` page.
pub fn youtube_page(data: &[u8]) {
    let _ = crate::youtube::page::parse_live_page(&String::from_utf8_lossy(data));
}

/// The channel's Atom feed (decoded lossily, as the feed look decodes it).
pub fn youtube_feed(data: &[u8]) {
    let _ = crate::youtube::feed::atom::parse_feed(&String::from_utf8_lossy(data)).map(|feed| feed.video_ids());
}

/// Restream's JSON answers: the profile, channels, tokens and error shapes.
pub fn restream_json(data: &[u8]) {
    let _ = serde_json::from_slice::<crate::restream::api::Profile>(data);
    let _ = serde_json::from_slice::<Vec<crate::restream::api::ApiChannel>>(data);
    let _ = serde_json::from_slice::<crate::restream::oauth::RestreamTokens>(data);
    if let Ok(error) = serde_json::from_slice::<crate::restream::oauth::RestreamOAuthError>(data) {
        let _ = (error.code(), error.to_string());
    }
}

/// The YouTube Data API's answers (videos, playlist items, channels, Google's errors).
pub fn youtube_api_json(data: &[u8]) {
    let status = data.first().map_or(200, |b| 200 + u16::from(*b));
    let _ = crate::youtube::data_api::read_answer(status, data).1.to_string();
}

/// Nimble's JSON answers: rules, republish stats, the server status, and how stats map to
/// destinations.
pub fn nimble_json(data: &[u8]) {
    let rules = serde_json::from_slice::<Vec<fanout_nimble::Rule>>(data).unwrap_or_default();
    let stats = serde_json::from_slice::<Vec<fanout_nimble::RepublishStat>>(data).unwrap_or_default();
    let _ = fanout_nimble::status::statuses(&rules, &stats);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = fanout_nimble::ServerStatus::from_json(value);
    }
}

/// The sign-up and direct-destination forms, as people (and robots) fill them in.
pub fn forms(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let fields: Vec<&str> = text.splitn(7, '\u{ff}').chain(std::iter::repeat("")).take(7).collect();
    let form = app::signup::validate::SignupForm {
        display_name: fields[0].into(),
        email: fields[1].into(),
        youtube: fields[2].into(),
        twitch: fields[3].into(),
        x: fields[4].into(),
        facebook: fields[5].into(),
        consent: (!fields[6].is_empty()).then(|| "on".into()),
    };
    let _ = app::signup::validate::validate(&form);
    let direct = app::direct::DirectForm { label: fields[0].into(), url: fields[1].into(), key: fields[2].into() };
    let _ = app::direct::validate(&direct, true);
    let _ = app::channels::YoutubeChannel::parse(fields[3]);
}

/// A manage link (the part after `/manage/`).
pub fn manage_link(data: &[u8]) {
    use std::sync::OnceLock;
    static SIGNER: OnceLock<app::manage::link::LinkSigner> = OnceLock::new();
    let signer = SIGNER.get_or_init(|| app::manage::link::LinkSigner::new(&app::secrets::MasterKey::generate()));
    let _ = signer.verify(&String::from_utf8_lossy(data), app::store::now()).map(|claim| claim.current(0));
}

/// A request path, as the canonical-path check reads it before any route.
pub fn request_path(data: &[u8]) {
    let path = String::from_utf8_lossy(data);
    let _ = crate::http::canonical::check(&path);
    let _ = crate::admin::is_admin_path(&path);
}

/// A line ffmpeg writes on stderr.
pub fn ffmpeg_stderr(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    let _ = crate::ingest::command::classify_stderr(&line);
    let _ = crate::ingest::command::redact_urls(&line);
}

/// For a fuzz target's `init`: lets through the panics the relay's guard catches by design (the
/// RTMP library failing on hostile bytes, turned into a refused connection by
/// [`catching`]); every other panic still goes to the hook installed before (libFuzzer's,
/// which aborts and saves the input as a crash).
pub fn install_panic_hook() {
    let before = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !crate::relay::guard::is_catching() {
            before(info);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every input the fuzzers kept (their corpus) and every crash they found, replayed against
    /// the code as it is now.
    #[test]
    fn every_kept_fuzz_input_and_found_crash_runs_clean() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut replayed = 0;
        for (name, target) in TARGETS {
            for dir in [root.join("corpus").join(name), root.join("artifacts").join(name), root.join("regressions").join(name)] {
                let Ok(entries) = std::fs::read_dir(&dir) else { continue };
                for entry in entries.flatten() {
                    let data = std::fs::read(entry.path()).unwrap_or_default();
                    target(&data);
                    replayed += 1;
                }
            }
        }
        assert!(replayed >= TARGETS.len(), "the corpus is in the repository ({replayed} inputs)");
    }

    #[test]
    fn the_fuzz_hook_passes_over_the_guards_caught_panics_and_no_other() {
        thread_local! {
            static SEEN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        }
        // Stands in for libFuzzer's hook (which would abort): counts, on the panicking thread.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| SEEN.with(|seen| seen.set(seen.get() + 1))));
        install_panic_hook();
        let crash = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/rtmp_server_answers");
        for entry in std::fs::read_dir(crash).into_iter().flatten().flatten() {
            rtmp_server_answers(&std::fs::read(entry.path()).unwrap_or_default());
        }
        let _ = catching(|| panic!("the library, on hostile bytes"));
        let after_caught = SEEN.with(std::cell::Cell::get);
        let _ = std::panic::catch_unwind(|| panic!("anything else"));
        let after_other = SEEN.with(std::cell::Cell::get);
        drop(std::panic::take_hook());
        std::panic::set_hook(previous);
        assert_eq!((after_caught, after_other), (0, 1), "caught by the guard: not a crash; anything else: one");
    }

    #[test]
    fn targets_take_anything() {
        for (_, target) in TARGETS {
            for data in [&b""[..], b"\xff\xff\xff", b"FLV\x01\x05\x00\x00\x00\x09", &[0u8; 3000], &[0x03; 2000]] {
                target(data);
            }
        }
    }
}
