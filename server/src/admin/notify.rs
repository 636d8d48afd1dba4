//! `POST /admin/notify/test` (a plain form post; the gate has checked the session and the CSRF
//! token): a test message to every admin channel at once, answered with the dashboard and what
//! happened on each channel — named by its label, never its address.

use app::model::EventKind;
use app::store::NewEvent;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;

use super::{AdminSession, back};
use crate::notify::TestOutcome;
use crate::state::AppState;

/// What the dashboard says of the outcomes: `Ok` when every channel took the message.
fn summary(outcomes: &[TestOutcome]) -> Result<String, String> {
    if outcomes.is_empty() {
        return Err("No notification channel is configured: set FANOUT_SMTP_URL with FANOUT_NOTIFY_EMAILS, or FANOUT_WEBHOOK_URLS".into());
    }
    let lines: Vec<String> = outcomes
        .iter()
        .map(|o| match &o.result {
            Ok(()) => format!("{}: sent", o.channel),
            Err(why) => format!("{}: failed ({why})", o.channel),
        })
        .collect();
    let text = format!("Test message — {}", lines.join("; "));
    if outcomes.iter().all(|o| o.result.is_ok()) { Ok(text) } else { Err(text) }
}

/// `POST /admin/notify/test`.
pub async fn test(State(state): State<AppState>, Extension(admin): Extension<AdminSession>) -> Response {
    let outcomes = state.notifier.test(&admin.user).await;
    let outcome = summary(&outcomes);
    if !outcomes.is_empty() {
        let said = match &outcome {
            Ok(text) | Err(text) => text,
        };
        let message = format!("{said} (asked for by admin {})", admin.user);
        app::store::note(state.store.as_ref(), NewEvent::now(EventKind::AdminAction, message)).await;
    }
    back(&state, &admin, "settings", outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_is_reported_and_one_failure_makes_the_whole_a_failure() {
        let sent = TestOutcome { channel: "webhook #1 (example.org, json)".into(), result: Ok(()) };
        let failed = TestOutcome { channel: "webhook #2 (example.net, slack)".into(), result: Err("the webhook answered HTTP 500".into()) };
        assert_eq!(summary(std::slice::from_ref(&sent)), Ok("Test message — webhook #1 (example.org, json): sent".into()));
        let both = summary(&[sent, failed]);
        assert_eq!(
            both,
            Err("Test message — webhook #1 (example.org, json): sent; webhook #2 (example.net, slack): failed (the webhook answered HTTP 500)".into())
        );
        assert!(summary(&[]).is_err_and(|e| e.contains("FANOUT_WEBHOOK_URLS")));
    }
}
