use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use time::Duration;

use super::*;
use crate::model::EventKind;
use crate::secrets::{Cipher, MasterKey, Purpose, Secret};

const ACCESS_PLAINTEXT: &str = "rs-access-PLAINTEXT-7f3a9c";
const REFRESH_PLAINTEXT: &str = "rs-refresh-PLAINTEXT-b41e02";

fn tokens(cipher: &Cipher) -> SealedTokens {
    SealedTokens {
        access: cipher.seal_secret(Purpose::AccessToken, &Secret::new(ACCESS_PLAINTEXT)),
        refresh: cipher.seal_secret(Purpose::RefreshToken, &Secret::new(REFRESH_PLAINTEXT)),
        access_expires_at: now() + Duration::hours(1),
    }
}

fn upsert(user: i64, cipher: &Cipher) -> AccountUpsert {
    AccountUpsert {
        display_name: format!("volunteer {user}"),
        email: format!("v{user}@example.org"),
        channels: VolunteerChannels::default(),
        restream: RestreamProfile { user_id: RestreamUserId(user), username: format!("v{user}"), email: format!("v{user}@rs.example") },
        restream_channels: Vec::new(),
        tokens: tokens(cipher),
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn raw_database_file_holds_no_plaintext_token() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("fanout.db");
    let store = SqliteStore::open(&path).await.unwrap_or_else(|e| panic!("open: {e}"));
    let cipher = Cipher::new(&MasterKey::generate());
    let account = store.upsert_account(upsert(1, &cipher), now()).await.unwrap_or_else(|e| panic!("{e}"));
    store.set_account_tokens(&account.account().id, Some(tokens(&cipher)), now()).await.unwrap_or_else(|e| panic!("{e}"));

    // Read the file as it is on disk while the store is open (WAL included), then after a checkpoint.
    let mut raw = std::fs::read(&path).unwrap_or_default();
    raw.extend(std::fs::read(dir.path().join("fanout.db-wal")).unwrap_or_default());
    store.close().await;
    raw.extend(std::fs::read(&path).unwrap_or_default());

    assert!(contains(&raw, "volunteer 1"), "the test reads the real file (it holds the account's name)");
    assert!(!contains(&raw, ACCESS_PLAINTEXT), "access token stored in plaintext");
    assert!(!contains(&raw, REFRESH_PLAINTEXT), "refresh token stored in plaintext");

    let reopened = SqliteStore::open(&path).await.unwrap_or_else(|e| panic!("reopen: {e}"));
    let stored = reopened.account_by_restream_user(RestreamUserId(1)).await.ok().flatten().and_then(|a| a.tokens);
    let access = stored.map(|t| cipher.open_secret(Purpose::AccessToken, &t.access).map(|s| s.expose().to_string()));
    assert_eq!(access.and_then(Result::ok).as_deref(), Some(ACCESS_PLAINTEXT), "and it opens with the key");
}

#[tokio::test]
async fn open_existing_creates_nothing_and_counts_pending_migrations() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("fanout.db");
    assert!(SqliteStore::open_existing(&path).await.is_err(), "no file, no store");
    assert!(!path.exists());

    let store = SqliteStore::open(&path).await.unwrap_or_else(|e| panic!("open: {e}"));
    assert_eq!(store.pending_migrations().await.ok(), Some(0));
    store.close().await;
    let existing = SqliteStore::open_existing(&path).await.unwrap_or_else(|e| panic!("open existing: {e}"));
    assert_eq!(existing.pending_migrations().await.ok(), Some(0));
}

/// The child of [`committed_writes_survive_kill_9`]: writes until killed, printing each commit.
#[tokio::test]
#[ignore = "helper process of committed_writes_survive_kill_9; does nothing on its own"]
async fn kill_9_writer_child() {
    let Ok(path) = std::env::var("FANOUT_KILL9_DB") else { return };
    let store = SqliteStore::open(Path::new(&path)).await.unwrap_or_else(|e| panic!("open: {e}"));
    let cipher = Cipher::new(&MasterKey::generate());
    for i in 0_i64.. {
        store.upsert_account(upsert(i % 7, &cipher), now()).await.unwrap_or_else(|e| panic!("{e}"));
        store.append_event(NewEvent::now(EventKind::ServerStarted, format!("write {i}"))).await.unwrap_or_else(|e| panic!("{e}"));
        println!("committed {i}");
    }
}

#[test]
fn committed_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("fanout.db");
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current exe: {e}"));
    let mut child = Command::new(exe)
        .args(["--exact", "store::sqlite::tests::kill_9_writer_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env("FANOUT_KILL9_DB", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn writer: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("child stdout"));

    let mut last_committed = None;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(n) = line.strip_prefix("committed ").and_then(|n| n.parse::<i64>().ok()) {
            last_committed = Some(n);
            if n >= 300 {
                break;
            }
        }
    }
    child.kill().unwrap_or_else(|e| panic!("SIGKILL the writer: {e}")); // std sends SIGKILL
    let _ = child.wait();
    let last = last_committed.unwrap_or_else(|| panic!("the writer never committed"));
    assert!(last >= 300, "the writer was killed mid-stream, after {last} commits");

    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap_or_else(|e| panic!("reopen after kill -9: {e}"));
        store.integrity_check().await.unwrap_or_else(|e| panic!("{e}"));
        let newest = store.events(&EventQuery::newest(1)).await.unwrap_or_else(|e| panic!("{e}"));
        let newest_write: i64 = newest.events[0].event.message.trim_start_matches("write ").parse().unwrap_or(-1);
        assert!(newest_write >= last, "every reported commit survived (newest {newest_write}, reported {last})");
        let accounts = store.accounts().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(accounts.len(), 7, "upserts kept one account per user");
    });
}
