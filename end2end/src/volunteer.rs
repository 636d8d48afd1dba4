//! Signing a volunteer up the way a browser without JavaScript does — the form posted to
//! Fanout, Restream's dialog (the stand-in approving as a given user), the callback — for a
//! world that needs connected accounts before its test begins.

use reqwest::header::LOCATION;

use crate::WorldError;
use crate::restream::{Consent, RestreamStandIn, StandInUser};

fn failed(what: &str, detail: impl std::fmt::Display) -> WorldError {
    WorldError::Io { what: format!("sign-up: {what}"), source: std::io::Error::other(detail.to_string()) }
}

fn location(response: &reqwest::Response) -> Result<String, WorldError> {
    response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(String::from).ok_or_else(|| failed("no redirect", response.status()))
}

/// Signs `user` (already added to the stand-in) up at `fanout` with a valid form; returns
/// their manage link (a path).
pub async fn connect(fanout: &str, restream: &RestreamStandIn, user: &StandInUser, name: &str) -> Result<String, WorldError> {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| failed("client", e))?;
    restream.set_consent(Consent::Approve { user_id: user.id });
    let base = fanout.trim_end_matches('/');
    let email = format!("{}@example.org", user.username);
    let form = [("display_name", name), ("email", email.as_str()), ("twitch", "twitch.tv/somestreamer"), ("consent", "on")];
    let posted = http.post(format!("{base}/")).header("origin", base).form(&form).send().await.map_err(|e| failed("post the form", e))?;
    let authorize = location(&posted)?;
    let dialog = http.get(&authorize).send().await.map_err(|e| failed("Restream's dialog", e))?;
    let callback = location(&dialog)?;
    let back = http.get(&callback).send().await.map_err(|e| failed("the callback", e))?;
    let page = location(&back)?;
    if !page.starts_with("/manage/") {
        return Err(failed("not connected", page));
    }
    Ok(page.trim_end_matches("?connected=1").to_string())
}
