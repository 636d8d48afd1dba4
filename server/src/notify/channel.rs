//! Where notifications go: the e-mail channel (an SMTP relay, a sender, the admins' addresses)
//! and webhooks, each webhook with the shape of body its service reads. Every channel has a
//! label that names it without its secret (no password, no token-bearing path).

use std::fmt;

use app::secrets::Secret;
use lettre::message::Mailbox;
use url::Url;

/// The body a webhook is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookShape {
    /// `{"event", "subject", "text"}`: for any tool.
    Json,
    /// Discord's `{"content": …}`.
    Discord,
    /// Slack's (and Mattermost's, Rocket.Chat's) `{"text": …}`.
    Slack,
}

impl fmt::Display for WebhookShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "json",
            Self::Discord => "discord",
            Self::Slack => "slack",
        })
    }
}

/// Why a webhook address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Not a URL at all.
    #[error("webhook #{0} is not a URL")]
    NotUrl(usize),
    /// Not http(s), or without a host.
    #[error("webhook #{0} must be an https:// URL with a host (optionally prefixed json+, discord+ or slack+)")]
    Scheme(usize),
}

/// One webhook: its address (a secret: the path carries the service's token), its shape, and
/// a label safe to show.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Where it is posted (the prefix, if any, taken off).
    pub url: Secret,
    /// The body's shape.
    pub shape: WebhookShape,
    /// `webhook #n (host, shape)`: never the path or query.
    pub label: String,
    /// Whether it is plain `http://` to a host other than loopback (the token crosses the
    /// network readable).
    pub cleartext: bool,
}

impl Webhook {
    /// Reads the `n`-th (from 1) webhook of `FANOUT_WEBHOOK_URLS`: `[json+|discord+|slack+]https://…`.
    /// Without a prefix the shape follows the host: `discord.com` (and `discordapp.com`) →
    /// Discord, `hooks.slack.com` → Slack, anything else → the generic JSON body.
    pub fn parse(n: usize, text: &str) -> Result<Self, WebhookError> {
        let text = text.trim();
        let (forced, rest) = match text.split_once('+') {
            Some(("json", rest)) => (Some(WebhookShape::Json), rest),
            Some(("discord", rest)) => (Some(WebhookShape::Discord), rest),
            Some(("slack", rest)) => (Some(WebhookShape::Slack), rest),
            _ => (None, text),
        };
        let url = Url::parse(rest).map_err(|_| WebhookError::NotUrl(n))?;
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or(WebhookError::Scheme(n))?.to_ascii_lowercase();
        if !matches!(url.scheme(), "http" | "https") {
            return Err(WebhookError::Scheme(n));
        }
        let shape = forced.unwrap_or(match host.as_str() {
            "discord.com" | "discordapp.com" | "ptb.discord.com" | "canary.discord.com" => WebhookShape::Discord,
            "hooks.slack.com" => WebhookShape::Slack,
            _ => WebhookShape::Json,
        });
        let loopback = host == "localhost" || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        Ok(Self {
            url: Secret::new(url.to_string()),
            shape,
            label: format!("webhook #{n} ({host}, {shape})"),
            cleartext: url.scheme() == "http" && !loopback,
        })
    }
}

/// The e-mail channel: the relay, the sender and the admins' addresses.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// `smtp[s]://[user:password@]host[:port][?tls=…]` (holds a password: never logged).
    pub url: Secret,
    /// `host:port` and the user, safe to show.
    pub label: String,
    /// The sender (`FANOUT_MAIL_FROM`).
    pub from: Mailbox,
    /// The admins (`FANOUT_NOTIFY_EMAILS`); may be empty (then only volunteers get mail).
    pub admins: Vec<Mailbox>,
}

/// Every channel notifications go to.
#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    /// E-mail, when `FANOUT_SMTP_URL` is set.
    pub smtp: Option<Smtp>,
    /// Webhooks (`FANOUT_WEBHOOK_URLS`).
    pub webhooks: Vec<Webhook>,
}

impl NotifySettings {
    /// Whether the admin hears about anything at all.
    pub fn admin_channels(&self) -> usize {
        usize::from(self.smtp.as_ref().is_some_and(|s| !s.admins.is_empty())) + self.webhooks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shape_follows_the_host_unless_a_prefix_says_otherwise() {
        let shape = |text: &str| Webhook::parse(1, text).map(|w| w.shape);
        assert_eq!(shape("https://discord.com/api/webhooks/1/tok"), Ok(WebhookShape::Discord));
        assert_eq!(shape("https://hooks.slack.com/services/T/B/tok"), Ok(WebhookShape::Slack));
        assert_eq!(shape("https://example.org/hook"), Ok(WebhookShape::Json));
        assert_eq!(shape("slack+https://chat.example.org/hooks/tok"), Ok(WebhookShape::Slack));
        assert_eq!(shape("discord+http://127.0.0.1:9/x"), Ok(WebhookShape::Discord));
        assert_eq!(shape("json+https://discord.com/api/webhooks/1/tok"), Ok(WebhookShape::Json));
        assert_eq!(shape("ftp://example.org/x"), Err(WebhookError::Scheme(1)));
        assert_eq!(shape("not a url"), Err(WebhookError::NotUrl(1)));
    }

    #[test]
    fn a_label_never_carries_the_token() {
        let hook = Webhook::parse(2, "https://discord.com/api/webhooks/123/s3cr3t-token?wait=true").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(hook.label, "webhook #2 (discord.com, discord)");
        assert!(!format!("{hook:?}").contains("s3cr3t"));
        assert!(!hook.cleartext);
        assert!(Webhook::parse(1, "http://example.org/x").is_ok_and(|h| h.cleartext));
    }
}
