//! Sending one message to one channel, once, under a deadline: e-mail through the SMTP relay
//! (lettre, over tokio and Fanout's rustls) or a webhook POST (reqwest) in the body its service
//! reads. No error carries an address's secret (reqwest's URL is cut off; lettre's errors name
//! no password).

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message as Email, MessageBuilder};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::channel::{Smtp, Webhook, WebhookShape};
use super::message::Message;

/// The most one delivery may take, connection included.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The e-mail could not be put together (an address lettre refuses).
    #[error("the e-mail could not be made: {0}")]
    Build(String),
    /// The SMTP relay could not be reached, or refused the message.
    #[error("the SMTP relay: {0}")]
    Smtp(String),
    /// The webhook answered with an error status.
    #[error("the webhook answered HTTP {0}")]
    Status(u16),
    /// The webhook could not be reached.
    #[error("the webhook could not be reached: {0}")]
    Http(String),
    /// No answer within [`DEADLINE`].
    #[error("no answer within {} s", DEADLINE.as_secs())]
    Timeout,
}

impl SendError {
    /// The error with every occurrence of `text` (an address a relay's answer may quote) replaced.
    pub fn without(self, text: &str, by: &str) -> Self {
        let cut = |s: String| if text.is_empty() { s } else { s.replace(text, by) };
        match self {
            Self::Build(s) => Self::Build(cut(s)),
            Self::Smtp(s) => Self::Smtp(cut(s)),
            Self::Http(s) => Self::Http(cut(s)),
            other => other,
        }
    }
}

/// The body a webhook of `shape` is sent.
pub fn webhook_body(shape: WebhookShape, message: &Message) -> serde_json::Value {
    match shape {
        WebhookShape::Json => serde_json::json!({ "event": message.kind.as_str(), "subject": message.subject, "text": message.text }),
        // Discord refuses content over 2000 characters.
        WebhookShape::Discord => serde_json::json!({ "content": message.text.chars().take(2000).collect::<String>() }),
        WebhookShape::Slack => serde_json::json!({ "text": message.text }),
    }
}

/// Posts `message` to `hook`.
pub async fn to_webhook(http: &reqwest::Client, hook: &Webhook, message: &Message) -> Result<(), SendError> {
    let request = http.post(hook.url.expose()).json(&webhook_body(hook.shape, message)).timeout(DEADLINE).send();
    let response = tokio::time::timeout(DEADLINE, request)
        .await
        .map_err(|_| SendError::Timeout)?
        .map_err(|e| if e.is_timeout() { SendError::Timeout } else { SendError::Http(e.without_url().to_string()) })?;
    let status = response.status();
    if status.is_success() { Ok(()) } else { Err(SendError::Status(status.as_u16())) }
}

/// Mails `message` to `to` through `smtp`'s relay.
pub async fn to_mailboxes(smtp: &Smtp, to: &[Mailbox], message: &Message) -> Result<(), SendError> {
    let mut email = Email::builder();
    for mailbox in to {
        email = email.to(mailbox.clone());
    }
    deliver(smtp, email, message).await
}

/// Mails `message` to one volunteer, `to` alone, with the one-click unsubscribe headers of
/// RFC 8058 (`List-Unsubscribe` with the `unsubscribe` URL, `List-Unsubscribe-Post`).
pub async fn to_volunteer(smtp: &Smtp, to: &Mailbox, message: &Message, unsubscribe: &str) -> Result<(), SendError> {
    let email = Email::builder()
        .to(to.clone())
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{unsubscribe}>")))
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click".into()));
    deliver(smtp, email, message).await
}

async fn deliver(smtp: &Smtp, email: MessageBuilder, message: &Message) -> Result<(), SendError> {
    let email = email
        .from(smtp.from.clone())
        .subject(message.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(message.text.clone())
        .map_err(|e| SendError::Build(e.to_string()))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp.url.expose())
        .map_err(|e| SendError::Smtp(e.to_string()))?
        .timeout(Some(DEADLINE))
        .build();
    tokio::time::timeout(DEADLINE, transport.send(email))
        .await
        .map_err(|_| SendError::Timeout)?
        .map(|_| ())
        .map_err(|e| SendError::Smtp(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::message::NoticeKind;

    #[test]
    fn each_shape_puts_the_text_where_its_service_reads_it() {
        let message = Message { kind: NoticeKind::Test, subject: "Hi".into(), text: "Hi\n\nthere".into() };
        assert_eq!(webhook_body(WebhookShape::Discord, &message), serde_json::json!({ "content": "Hi\n\nthere" }));
        assert_eq!(webhook_body(WebhookShape::Slack, &message), serde_json::json!({ "text": "Hi\n\nthere" }));
        assert_eq!(
            webhook_body(WebhookShape::Json, &message),
            serde_json::json!({ "event": "test", "subject": "Hi", "text": "Hi\n\nthere" })
        );
    }
}
