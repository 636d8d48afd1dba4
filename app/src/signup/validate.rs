//! The sign-up form's rules, written once: the browser runs them as the volunteer types, the
//! server runs them again on submit, and both give the same message for the same mistake.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::channels::{ChannelError, YoutubeChannel};
use crate::model::VolunteerChannels;
use crate::weburl::WebUrl;

/// Longest display name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// Longest e-mail address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest channel URL accepted, in characters.
pub const MAX_URL_CHARS: usize = 200;

/// The form as submitted: every field as typed. `consent` is a checkbox (`"on"` when ticked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupForm {
    /// Display name / account title.
    #[serde(default)]
    pub display_name: String,
    /// E-mail address.
    #[serde(default)]
    pub email: String,
    /// YouTube channel URL.
    #[serde(default)]
    pub youtube: String,
    /// Twitch channel URL.
    #[serde(default)]
    pub twitch: String,
    /// X (Twitter) profile URL.
    #[serde(default)]
    pub x: String,
    /// Facebook page URL.
    #[serde(default)]
    pub facebook: String,
    /// The consent checkbox: present (any value) when ticked.
    #[serde(default)]
    pub consent: Option<String>,
}

impl SignupForm {
    /// The text of a text field (`""` for the checkbox and the channel group).
    pub fn value(&self, field: Field) -> &str {
        match field {
            Field::DisplayName => &self.display_name,
            Field::Email => &self.email,
            Field::Youtube => &self.youtube,
            Field::Twitch => &self.twitch,
            Field::X => &self.x,
            Field::Facebook => &self.facebook,
            Field::Channels | Field::Consent => "",
        }
    }

    /// Sets the text of a text field (ignored for the checkbox and the channel group).
    pub fn set(&mut self, field: Field, value: String) {
        match field {
            Field::DisplayName => self.display_name = value,
            Field::Email => self.email = value,
            Field::Youtube => self.youtube = value,
            Field::Twitch => self.twitch = value,
            Field::X => self.x = value,
            Field::Facebook => self.facebook = value,
            Field::Channels | Field::Consent => {}
        }
    }

    /// Whether the consent box is ticked.
    pub fn consents(&self) -> bool {
        self.consent.is_some()
    }
}

/// A field of the form, as named in the HTML (`name=` and the id `signup-<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The name field.
    DisplayName,
    /// The e-mail field.
    Email,
    /// The YouTube URL field.
    Youtube,
    /// The Twitch URL field.
    Twitch,
    /// The X URL field.
    X,
    /// The Facebook URL field.
    Facebook,
    /// The group of channel fields ("at least one").
    Channels,
    /// The consent checkbox.
    Consent,
}

impl Field {
    /// Every field, in the order the form shows them.
    pub const ALL: [Field; 8] =
        [Field::DisplayName, Field::Email, Field::Youtube, Field::Twitch, Field::X, Field::Facebook, Field::Channels, Field::Consent];

    /// The HTML `name` of the input.
    pub const fn name(self) -> &'static str {
        match self {
            Field::DisplayName => "display_name",
            Field::Email => "email",
            Field::Youtube => "youtube",
            Field::Twitch => "twitch",
            Field::X => "x",
            Field::Facebook => "facebook",
            Field::Channels => "channels",
            Field::Consent => "consent",
        }
    }

    /// The most characters the field takes (its input's `maxlength`); `None` for the group and
    /// the checkbox.
    pub const fn max_chars(self) -> Option<usize> {
        match self {
            Field::DisplayName => Some(MAX_NAME_CHARS),
            Field::Email => Some(MAX_EMAIL_CHARS),
            Field::Youtube | Field::Twitch | Field::X | Field::Facebook => Some(MAX_URL_CHARS),
            Field::Channels | Field::Consent => None,
        }
    }

    /// The id of the input (or group) in the page.
    pub fn input_id(self) -> String {
        format!("signup-{}", self.name())
    }

    /// The id of the element holding this field's error message.
    pub fn error_id(self) -> String {
        format!("signup-{}-error", self.name())
    }
}

/// The messages for the fields that are wrong, in form order.
pub type FieldErrors = BTreeMap<Field, String>;

/// A form that passed every rule, trimmed and normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidSignup {
    /// The display name.
    pub display_name: String,
    /// The e-mail address.
    pub email: String,
    /// The channels, each normalised to its canonical URL (e.g. `https://www.twitch.tv/name`).
    pub channels: VolunteerChannels,
}

/// Checks the whole form: the valid, normalised sign-up, or every field's message.
pub fn validate(form: &SignupForm) -> Result<ValidSignup, FieldErrors> {
    let errors: FieldErrors = Field::ALL.iter().filter_map(|&f| check_field(f, form).err().map(|m| (f, m))).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let channel = |text: &str, parse: fn(&str) -> Result<String, String>| {
        let text = text.trim();
        if text.is_empty() { None } else { parse(text).ok() }
    };
    Ok(ValidSignup {
        display_name: collapse_spaces(&form.display_name),
        email: form.email.trim().to_string(),
        channels: VolunteerChannels {
            youtube: channel(&form.youtube, youtube_url),
            twitch: channel(&form.twitch, twitch_url),
            x: channel(&form.x, x_url),
            facebook: channel(&form.facebook, facebook_url),
        },
    })
}

/// The message for one field, if it is wrong (what the browser shows under the field).
pub fn field_error(field: Field, form: &SignupForm) -> Option<String> {
    check_field(field, form).err()
}

fn check_field(field: Field, form: &SignupForm) -> Result<(), String> {
    let optional_url = |text: &str, parse: fn(&str) -> Result<String, String>| {
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        if text.chars().count() > MAX_URL_CHARS {
            return Err(format!("That address is too long (at most {MAX_URL_CHARS} characters)."));
        }
        parse(text).map(drop)
    };
    match field {
        Field::DisplayName => check_name(&form.display_name),
        Field::Email => check_email(&form.email),
        Field::Youtube => optional_url(&form.youtube, youtube_url),
        Field::Twitch => optional_url(&form.twitch, twitch_url),
        Field::X => optional_url(&form.x, x_url),
        Field::Facebook => optional_url(&form.facebook, facebook_url),
        Field::Channels => {
            let any = [&form.youtube, &form.twitch, &form.x, &form.facebook].iter().any(|t| !t.trim().is_empty());
            if any { Ok(()) } else { Err("Add at least one channel you have connected on Restream.io.".into()) }
        }
        Field::Consent => match &form.consent {
            Some(_) => Ok(()),
            None => Err("Tick the box to agree that our lives are streamed to your channels.".into()),
        },
    }
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_name(name: &str) -> Result<(), String> {
    let name = collapse_spaces(name);
    if name.is_empty() {
        return Err("Enter your name or your channel's name.".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("Use at most {MAX_NAME_CHARS} characters for the name."));
    }
    if name.chars().any(char::is_control) {
        return Err("The name cannot contain control characters.".into());
    }
    Ok(())
}

/// The WHATWG "valid e-mail address" rule (what `<input type=email>` checks), plus a dot in
/// the domain: a real address someone can be written to.
fn check_email(email: &str) -> Result<(), String> {
    let email = email.trim();
    let invalid = || Err("Enter an e-mail address like name@example.org.".to_string());
    if email.is_empty() {
        return Err("Enter your e-mail address.".into());
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(format!("That e-mail address is too long (at most {MAX_EMAIL_CHARS} characters)."));
    }
    let Some((local, domain)) = email.split_once('@') else { return invalid() };
    let local_ok =
        !local.is_empty() && local.len() <= 64 && local.chars().all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2 && labels.iter().all(|l| label_ok(l));
    if local_ok && domain_ok { Ok(()) } else { invalid() }
}

/// Parses `text` as a web URL on one of `hosts` (scheme optional); the path's non-empty segments.
fn web_path(text: &str, hosts: &[&str]) -> Option<(WebUrl, Vec<String>)> {
    let with_scheme = if text.contains("://") { text.to_string() } else { format!("https://{text}") };
    let url = WebUrl::parse(&with_scheme)?;
    let host = url.host().to_ascii_lowercase();
    if !matches!(url.scheme(), "http" | "https") || !hosts.contains(&host.as_str()) {
        return None;
    }
    let segments = url.segments().into_iter().map(String::from).collect();
    Some((url, segments))
}

fn youtube_url(text: &str) -> Result<String, String> {
    match YoutubeChannel::parse(text) {
        Ok(channel) => Ok(channel.to_string()),
        Err(ChannelError::NotYoutube(_)) => {
            Err("That is not a YouTube address: use https://www.youtube.com/@yourname or …/channel/UC….".into())
        }
        Err(_) => Err("That is not a YouTube channel: use https://www.youtube.com/@yourname or …/channel/UC….".into()),
    }
}

fn twitch_url(text: &str) -> Result<String, String> {
    let message = || "That is not a Twitch channel: use https://www.twitch.tv/yourname.".to_string();
    let (_, segments) = web_path(text, &["twitch.tv", "www.twitch.tv", "m.twitch.tv"]).ok_or_else(message)?;
    match segments.as_slice() {
        [login] if (4..=25).contains(&login.len()) && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Ok(format!("https://www.twitch.tv/{}", login.to_ascii_lowercase()))
        }
        _ => Err(message()),
    }
}

/// Paths of x.com that are pages of the site, not profiles.
const X_RESERVED: &[&str] =
    &["home", "i", "explore", "search", "settings", "intent", "share", "messages", "notifications", "login", "signup", "tos", "privacy"];

fn x_url(text: &str) -> Result<String, String> {
    let message = || "That is not an X profile: use https://x.com/yourname (twitter.com works too).".to_string();
    let hosts = ["x.com", "www.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com", "mobile.x.com"];
    let (_, segments) = web_path(text, &hosts).ok_or_else(message)?;
    match segments.as_slice() {
        [handle]
            if (1..=15).contains(&handle.len())
                && handle.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !X_RESERVED.contains(&handle.to_ascii_lowercase().as_str()) =>
        {
            Ok(format!("https://x.com/{handle}"))
        }
        _ => Err(message()),
    }
}

fn facebook_url(text: &str) -> Result<String, String> {
    let message = || "That is not a Facebook page: use https://www.facebook.com/yourpage.".to_string();
    let hosts = ["facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com", "fb.com", "www.fb.com"];
    let (url, segments) = web_path(text, &hosts).ok_or_else(message)?;
    let is_name = |s: &str| (2..=50).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    match segments.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["profile.php"] => {
            let id = url.query_value("id").unwrap_or_default();
            if !id.is_empty() && id.len() <= 20 && id.chars().all(|c| c.is_ascii_digit()) {
                Ok(format!("https://www.facebook.com/profile.php?id={id}"))
            } else {
                Err(message())
            }
        }
        [name] if is_name(name) && !name.ends_with(".php") => Ok(format!("https://www.facebook.com/{name}")),
        ["pages", name, id] if is_name(name) && id.chars().all(|c| c.is_ascii_digit()) => {
            Ok(format!("https://www.facebook.com/pages/{name}/{id}"))
        }
        _ => Err(message()),
    }
}

#[cfg(test)]
mod tests;
