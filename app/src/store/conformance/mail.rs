//! The conformance cases of the volunteers' e-mails: what a volunteer takes, and the claims that
//! keep each message to its limit across restarts.

use super::*;

pub(super) async fn mail_choices_default_and_change(store: SharedStore) {
    let account = ok(store.upsert_account(upsert(8201, "ana", &cipher()), now())).await.account().clone();
    assert_eq!(account.mail, VolunteerMail::default());
    assert_eq!(account.mail.choices, MailChoices { needs_you: true, live_notes: false }, "needs-you on, we're-live off");
    let both = MailChoices { needs_you: false, live_notes: true };
    assert!(ok(store.set_mail_choices(&account.id, both, now())).await);
    assert_eq!(ok(store.account(&account.id)).await.map(|a| a.mail.choices), Some(both));
    let again = ok(store.upsert_account(upsert(8201, "ana", &cipher()), now())).await;
    assert_eq!(again.account().mail.choices, both, "a reconnection keeps the volunteer's choices");
    assert!(!ok(store.set_mail_choices(&AccountId::from_stored("nobody"), both, now())).await);
}

pub(super) async fn needs_you_is_claimed_once_per_quiet_time_and_only_if_taken(store: SharedStore) {
    let account = ok(store.upsert_account(upsert(8202, "ben", &cipher()), now())).await.account().clone();
    let quiet = Duration::hours(24);
    let t0 = now();
    let claim = |at| MailClaim::NeedsYou { at, quiet };
    assert!(ok(store.claim_mail(&account.id, claim(t0))).await, "the first is theirs");
    assert!(!ok(store.claim_mail(&account.id, claim(t0))).await, "a second claim at once loses");
    assert!(!ok(store.claim_mail(&account.id, claim(t0 + Duration::hours(23)))).await, "within the quiet time");
    assert_eq!(ok(store.account(&account.id)).await.and_then(|a| a.mail.needs_you_sent_at), Some(t0));
    let later = t0 + Duration::hours(24);
    assert!(ok(store.claim_mail(&account.id, claim(later))).await, "after it");
    assert_eq!(ok(store.account(&account.id)).await.and_then(|a| a.mail.needs_you_sent_at), Some(later));
    assert!(ok(store.set_mail_choices(&account.id, MailChoices::NONE, now())).await);
    assert!(!ok(store.claim_mail(&account.id, claim(later + Duration::days(9)))).await, "not for one who opted out");
    assert!(!ok(store.claim_mail(&AccountId::from_stored("nobody"), claim(t0))).await);
}

pub(super) async fn a_live_note_is_claimed_once_per_live_and_only_if_asked_for(store: SharedStore) {
    let account = ok(store.upsert_account(upsert(8203, "cy", &cipher()), now())).await.account().clone();
    let note = |video: &str| MailClaim::LiveNote { video: VideoId(video.into()) };
    assert!(!ok(store.claim_mail(&account.id, note("v1"))).await, "off unless asked for");
    assert!(ok(store.set_mail_choices(&account.id, MailChoices { needs_you: true, live_notes: true }, now())).await);
    assert!(ok(store.claim_mail(&account.id, note("v1"))).await);
    assert!(!ok(store.claim_mail(&account.id, note("v1"))).await, "once per live");
    assert!(ok(store.claim_mail(&account.id, note("v2"))).await, "the next live");
    assert_eq!(ok(store.account(&account.id)).await.and_then(|a| a.mail.live_note_for), Some(VideoId("v2".into())));
    // The two messages' limits are apart.
    assert!(ok(store.claim_mail(&account.id, MailClaim::NeedsYou { at: now(), quiet: Duration::hours(24) })).await);
}
