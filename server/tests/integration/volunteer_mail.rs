//! The volunteers' e-mails end to end, read where they land (`fanout_testworld::smtp`, a real
//! SMTP server on loopback): an account turned needs-reconnect is mailed once, to its volunteer
//! alone, with a manage link that opens their page and an unsubscribe link (and RFC 8058's
//! headers); the unsubscribe link's GET changes nothing, its POST stops the next e-mail; a
//! restart within the 24 h limit sends nothing again; "we're live" reaches only the volunteer
//! who turned it on from their manage page. No address or link reaches the log.

use app::model::{AccountId, AccountStatus, MailChoices};
use app::store::{SqliteStore, Store};
use fanout_testworld::smtp::{Mail, SmtpSink};

use super::engine::LiveWorld;
use super::signup::World;
use super::*;

fn env(sink: &SmtpSink) -> Vec<(String, String)> {
    vec![("FANOUT_SMTP_URL".into(), sink.url()), ("FANOUT_MAIL_FROM".into(), "Fanout <fanout@example.org>".into())]
}

fn borrowed(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn mails_to(sink: &SmtpSink, address: &str) -> Vec<Mail> {
    sink.mails().into_iter().filter(|m| m.to.iter().any(|t| t == address)).collect()
}

/// The first `http://…` link after `after` in `body`.
fn link_after(body: &str, after: &str) -> String {
    let rest = body.split(after).nth(1).unwrap_or_else(|| panic!("no {after:?} in {body}"));
    rest.split_whitespace().find(|w| w.starts_with("http")).unwrap_or_else(|| panic!("no link in {rest}")).to_string()
}

async fn account_of(store: &SqliteStore, name: &str) -> AccountId {
    let accounts = store.accounts().await.unwrap_or_else(|e| panic!("{e}"));
    accounts.into_iter().find(|a| a.display_name == name).map(|a| a.id).unwrap_or_else(|| panic!("{name}'s account"))
}

async fn set_status(store: &SqliteStore, id: &AccountId, status: AccountStatus) {
    assert!(store.set_account_status(id, status, app::store::now()).await.unwrap_or_else(|e| panic!("{e}")));
}

/// Moves the account's last "needs you" back by 25 h, out of the 24 h limit.
async fn age_needs_you(store: &SqliteStore, id: &AccountId) {
    let url = format!("sqlite://{}", store.path().display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
    let done = sqlx::query("UPDATE accounts SET mail_needs_you_at = mail_needs_you_at - 25 * 3600 * 1000 WHERE id = ?")
        .bind(id.as_str())
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done.rows_affected(), 1);
}

const NEEDS_YOU: &str = "Your Restream connection needs you";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_needing_a_reconnect_is_mailed_once_with_working_links_and_unsubscribing_stops_the_next() {
    let sink = SmtpSink::start().await.unwrap_or_else(|e| panic!("{e}"));
    let env = env(&sink);
    let world = World::start(&borrowed(&env)).await;
    world.user(9401, "Ana");
    world.user(9402, "Ben");
    world.user(9403, "Cleo");
    world.connect("Ana", 9401).await;
    world.connect("Ben", 9402).await;
    world.connect("Cleo", 9403).await;
    let store = world.store().await;
    let (ana, ben, cleo) = (account_of(&store, "Ana").await, account_of(&store, "Ben").await, account_of(&store, "Cleo").await);

    set_status(&store, &ana, AccountStatus::NeedsReconnect).await;
    eventually(30, "Ana is mailed", || async { !mails_to(&sink, "ana@example.org").is_empty() }).await;
    let mail = mails_to(&sink, "ana@example.org").remove(0);
    assert_eq!(mail.subject(), NEEDS_YOU);
    assert_eq!(mail.to, vec!["ana@example.org".to_string()], "to her alone");
    assert!(!mail.headers.iter().any(|(_, v)| v.contains("ben@")), "no other volunteer's address");
    let manage = link_after(&mail.body, "reconnect");
    let unsubscribe = link_after(&mail.body, "To stop e-mails from Fanout:");
    assert!(manage.starts_with(&format!("{}/manage/", world.fanout.url().trim_end_matches('/'))), "{manage}");
    assert_eq!(mail.header("List-Unsubscribe"), Some(format!("<{unsubscribe}>").as_str()));
    assert_eq!(mail.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    let page = world.http.get(&manage).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap_or_default().contains("Sign up again"), "the manage link opens her page");

    // A scanner's GET changes nothing; the page's button (a POST) unsubscribes.
    let asked = world.http.get(&unsubscribe).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(asked.status().as_u16(), 200);
    assert!(asked.text().await.unwrap_or_default().contains(r#"<form method="post">"#));
    let choices = |id: AccountId| {
        let store = &store;
        async move { store.account(&id).await.ok().flatten().map(|a| a.mail.choices) }
    };
    assert_eq!(choices(ana.clone()).await, Some(MailChoices::default()), "a GET unsubscribes nobody");
    assert_eq!(
        world.http.get(manage.replace("/manage/", "/unsubscribe/")).send().await.map(|r| r.status().as_u16()).ok(),
        Some(404),
        "a manage link is no unsubscribe link"
    );
    let posted = world.http.post(&unsubscribe).form(&[("List-Unsubscribe", "One-Click")]).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(posted.status().as_u16(), 200);
    assert_eq!(choices(ana.clone()).await, Some(MailChoices::NONE));

    // Her next turn, out of the 24 h limit, sends nothing. The markers: the accounts are read
    // in their order and one queue sends in turn, so once an e-mail for a turn seen with hers
    // (or after it) is in, hers would have been. Ben's turn shows the watch saw her active
    // again; Cleo's, that it saw her new turn.
    age_needs_you(&store, &ana).await;
    set_status(&store, &ana, AccountStatus::Active).await;
    set_status(&store, &ben, AccountStatus::NeedsReconnect).await;
    eventually(30, "Ben is mailed", || async { !mails_to(&sink, "ben@example.org").is_empty() }).await;
    set_status(&store, &ana, AccountStatus::NeedsReconnect).await;
    set_status(&store, &cleo, AccountStatus::NeedsReconnect).await;
    eventually(30, "Cleo is mailed", || async { !mails_to(&sink, "cleo@example.org").is_empty() }).await;
    assert_eq!(mails_to(&sink, "ana@example.org").len(), 1, "nothing more to Ana once unsubscribed");
    assert_eq!(sink.mails().len(), 3);
    let log = world.fanout.log();
    assert!(!log.contains("ana@example.org") && !log.contains(&unsubscribe) && !log.contains(&manage), "no address or link in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_within_the_limit_mails_nobody_again() {
    let sink = SmtpSink::start().await.unwrap_or_else(|e| panic!("{e}"));
    let env = env(&sink);
    let mut world = World::start(&borrowed(&env)).await;
    world.user(9411, "Cy");
    world.user(9412, "Dee");
    world.connect("Cy", 9411).await;
    world.connect("Dee", 9412).await;
    let store = world.store().await;
    let (cy, dee) = (account_of(&store, "Cy").await, account_of(&store, "Dee").await);
    set_status(&store, &cy, AccountStatus::NeedsReconnect).await;
    eventually(30, "Cy is mailed", || async { !mails_to(&sink, "cy@example.org").is_empty() }).await;

    world.kill_and_restart_fanout().await;
    // Cy still needs a reconnect: the restarted watch counts him as turned, and the store's
    // record of his e-mail holds it back. Dee's turn, after the restart, is the marker: her
    // e-mail comes after any to Cy would.
    set_status(&store, &dee, AccountStatus::NeedsReconnect).await;
    eventually(30, "Dee is mailed", || async { !mails_to(&sink, "dee@example.org").is_empty() }).await;
    assert_eq!(mails_to(&sink, "cy@example.org").len(), 1, "not again after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_are_live_reaches_only_the_volunteer_who_asked_for_it() {
    let sink = SmtpSink::start().await.unwrap_or_else(|e| panic!("{e}"));
    let env = env(&sink);
    let live = LiveWorld::start_with(30, &borrowed(&env)).await;
    let (eve, eve_link) = live.volunteer(9421, "Eve").await;
    let (fred, _) = live.volunteer(9422, "Fred").await;
    let (_, html) = live.world.get(&eve_link).await;
    assert!(html.contains(&format!(r#"action="{eve_link}/live_notes_on""#)), "the manage page offers it, as a plain form");
    let on = live.world.http.post(format!("{}{eve_link}/live_notes_on", live.world.fanout.url())).send().await;
    assert_eq!(on.map(|r| r.status().as_u16()).ok(), Some(303));
    let (_, html) = live.world.get(&format!("{eve_link}?done=live_notes_on")).await;
    assert!(html.contains("Fanout will e-mail you when a live starts streaming to you."), "{html}");

    live.go_live();
    live.wait_receiving(&[&eve.stream_key, &fred.stream_key], 90).await;
    eventually(30, "Eve hears the live started", || async {
        mails_to(&sink, "eve@example.org").iter().any(|m| m.subject() == "We're live")
    })
    .await;
    let mail = mails_to(&sink, "eve@example.org").into_iter().find(|m| m.subject() == "We're live").unwrap_or_else(|| panic!("mail"));
    assert!(mail.body.contains(engine::TITLE) && mail.body.contains("/unsubscribe/"), "{}", mail.body);
    assert!(mail.header("List-Unsubscribe").is_some_and(|v| v.contains("/unsubscribe/")));
    // Fred streams too but did not ask. A bounded window: the watch looks every 3 s, so three
    // more looks (10 s) after both stream would have mailed him.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        assert!(mails_to(&sink, "fred@example.org").is_empty(), "Fred did not ask for it");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(mails_to(&sink, "eve@example.org").len(), 1, "once per live");
}
