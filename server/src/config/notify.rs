//! The notifications' settings: the SMTP relay the e-mails go through, the sender, the admins'
//! addresses, and the webhooks — each checked without touching the network, none echoed back
//! (the relay's password and the webhooks' tokens stay out of every finding).

use app::secrets::Secret;
use clap::Args;
use lettre::message::Mailbox;
use url::Url;

use super::{Findings, Level};
use crate::notify::{NotifySettings, Smtp, Webhook};

/// The notifications' settings as given.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// The SMTP relay e-mails go through: `smtps://user:password@host:465` (TLS from the start),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtp://host:25` (plain, for a
    /// relay on the same machine). Percent-encode special characters of the password. Prefer the
    /// environment variable.
    #[arg(long, env = "FANOUT_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<Secret>,

    /// The sender of Fanout's e-mails, e.g. `Fanout <fanout@example.org>` (needed with
    /// `FANOUT_SMTP_URL`).
    #[arg(long, env = "FANOUT_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,

    /// The admins' e-mail addresses, comma-separated: they hear when a live starts and ends, when a
    /// destination keeps failing, and when YouTube refuses Fanout.
    #[arg(long, env = "FANOUT_NOTIFY_EMAILS", global = true)]
    pub notify_emails: Option<String>,

    /// Webhooks told the same, comma-separated. The body follows the host: Discord's
    /// `{"content"}` for discord.com, Slack's `{"text"}` for hooks.slack.com, else
    /// `{"event","subject","text"}`; a `discord+`, `slack+` or `json+` prefix chooses it (e.g.
    /// `slack+https://mattermost.example.org/hooks/…`). Their addresses carry tokens: prefer the
    /// environment variable.
    #[arg(long, env = "FANOUT_WEBHOOK_URLS", hide_env_values = true, global = true)]
    pub webhook_urls: Option<Secret>,
}

/// The relay's address without its password: `host:port as user`.
fn smtp_label(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let user = if url.username().is_empty() { String::new() } else { format!(" as {}", url.username()) };
    format!("{}://{host}{port}{user}", url.scheme())
}

fn check_smtp_url(text: &str, findings: &mut Findings) -> Option<(Secret, String)> {
    const SUBJECT: &str = "FANOUT_SMTP_URL";
    let Ok(url) = Url::parse(text.trim()) else {
        findings.push(Level::Error, SUBJECT, "not a URL: smtps://user:password@host:465 or smtp://host:25 (value not shown)");
        return None;
    };
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none_or(str::is_empty) {
        findings.push(Level::Error, SUBJECT, "must be smtp:// or smtps:// with a host (value not shown)");
        return None;
    }
    let label = smtp_label(&url);
    if let Err(error) = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(text.trim()) {
        findings.push(Level::Error, SUBJECT, format!("{label}: not usable ({error}); tls= takes required or opportunistic"));
        return None;
    }
    let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
    let loopback = url.host_str().is_some_and(|h| h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()));
    if url.scheme() == "smtp" && tls.is_none() && !loopback && url.password().is_some() {
        findings.push(
            Level::Warn,
            SUBJECT,
            format!("{label}: plain SMTP, so the password crosses the network readable (use smtps:// or ?tls=required)"),
        );
    } else {
        let password = if url.password().is_some() { ", password set (not shown)" } else { "" };
        findings.push(Level::Ok, SUBJECT, format!("{label}{password}"));
    }
    Some((Secret::new(text.trim()), label))
}

fn mailbox(subject: &'static str, text: &str, findings: &mut Findings) -> Option<Mailbox> {
    match text.trim().parse::<Mailbox>() {
        Ok(mailbox) => Some(mailbox),
        Err(error) => {
            findings.push(Level::Error, subject, format!("“{}” is not an e-mail address ({error})", text.trim()));
            None
        }
    }
}

/// Checks the notifications' settings; `None` when one is an error.
pub(super) fn check_notify(args: &NotifyArgs, findings: &mut Findings) -> Option<NotifySettings> {
    let mut ok = true;
    let smtp = args.smtp_url.as_ref().filter(|u| !u.expose().trim().is_empty()).map(|url| check_smtp_url(url.expose(), findings));
    let emails: Vec<&str> = args.notify_emails.as_deref().unwrap_or_default().split(',').filter(|e| !e.trim().is_empty()).collect();
    let admins: Vec<Option<Mailbox>> = emails.iter().map(|e| mailbox("FANOUT_NOTIFY_EMAILS", e, findings)).collect();
    ok &= admins.iter().all(Option::is_some);
    let admins: Vec<Mailbox> = admins.into_iter().flatten().collect();
    let from = args.mail_from.as_deref().filter(|f| !f.trim().is_empty()).map(|f| mailbox("FANOUT_MAIL_FROM", f, findings));
    let smtp = match (smtp, from) {
        (None, _) => {
            if !emails.is_empty() {
                findings.push(Level::Warn, "FANOUT_NOTIFY_EMAILS", "set, but FANOUT_SMTP_URL is not: no e-mail is sent");
            }
            None
        }
        (Some(_), None) => {
            findings.push(
                Level::Error,
                "FANOUT_MAIL_FROM",
                "needed with FANOUT_SMTP_URL: the sender of Fanout's e-mails, e.g. Fanout <fanout@example.org>",
            );
            ok = false;
            None
        }
        (Some(relay), Some(from)) => {
            ok &= relay.is_some() && from.is_some();
            match (relay, from) {
                (Some((url, label)), Some(from)) => {
                    findings.push(Level::Ok, "FANOUT_MAIL_FROM", from.to_string());
                    if admins.is_empty() {
                        findings.push(Level::Note, "FANOUT_NOTIFY_EMAILS", "none: the admins get no e-mail (volunteers still may)");
                    } else {
                        findings.push(Level::Ok, "FANOUT_NOTIFY_EMAILS", format!("{} address(es)", admins.len()));
                    }
                    Some(Smtp { url, label, from, admins })
                }
                _ => None,
            }
        }
    };
    let mut webhooks = Vec::new();
    let listed = args.webhook_urls.as_ref().map(|w| w.expose().to_string()).unwrap_or_default();
    for (i, text) in listed.split(',').filter(|t| !t.trim().is_empty()).enumerate() {
        match Webhook::parse(i + 1, text) {
            Ok(hook) if hook.cleartext => {
                findings.push(
                    Level::Warn,
                    "FANOUT_WEBHOOK_URLS",
                    format!("{}: plain http, so its token crosses the network readable", hook.label),
                );
                webhooks.push(hook);
            }
            Ok(hook) => {
                findings.push(Level::Ok, "FANOUT_WEBHOOK_URLS", format!("{} (address not shown)", hook.label));
                webhooks.push(hook);
            }
            Err(error) => {
                findings.push(Level::Error, "FANOUT_WEBHOOK_URLS", format!("{error} (value not shown)"));
                ok = false;
            }
        }
    }
    let settings = NotifySettings { smtp, webhooks };
    if settings.smtp.is_none() && settings.webhooks.is_empty() && ok {
        findings.push(Level::Note, "FANOUT_SMTP_URL", "no notifications: set FANOUT_SMTP_URL or FANOUT_WEBHOOK_URLS to hear about lives");
    }
    ok.then_some(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(smtp: Option<&str>, from: Option<&str>, emails: Option<&str>, hooks: Option<&str>) -> NotifyArgs {
        NotifyArgs {
            smtp_url: smtp.map(Secret::from),
            mail_from: from.map(String::from),
            notify_emails: emails.map(String::from),
            webhook_urls: hooks.map(Secret::from),
        }
    }

    fn checked(args: &NotifyArgs) -> (Option<NotifySettings>, Findings) {
        let mut findings = Findings::default();
        (check_notify(args, &mut findings), findings)
    }

    #[test]
    fn a_complete_setup_is_accepted_and_no_secret_is_in_the_report() {
        let (settings, findings) = checked(&args(
            Some("smtps://fanout:hunter2%21@mail.example.org:465"),
            Some("Fanout <fanout@example.org>"),
            Some("ops@example.org, second@example.org"),
            Some("https://discord.com/api/webhooks/1/tok3n,https://hooks.slack.com/services/T/B/tok4n"),
        ));
        let settings = settings.unwrap_or_else(|| panic!("{findings}"));
        assert_eq!(settings.smtp.as_ref().map(|s| s.admins.len()), Some(2));
        assert_eq!(settings.webhooks.len(), 2);
        let report = findings.to_string();
        for secret in ["hunter2", "tok3n", "tok4n", "/api/webhooks"] {
            assert!(!report.contains(secret), "{secret} in\n{report}");
        }
        assert!(report.contains("smtps://mail.example.org:465 as fanout"), "{report}");
        assert_eq!(findings.count(Level::Error), 0);
    }

    #[test]
    fn bad_values_are_errors_that_say_what_to_write() {
        let cases = [
            args(Some("mail.example.org"), Some("a@example.org"), None, None),
            args(Some("https://mail.example.org"), Some("a@example.org"), None, None),
            args(Some("smtp://mail.example.org?tls=sometimes"), Some("a@example.org"), None, None),
            args(Some("smtp://mail.example.org"), None, Some("ops@example.org"), None),
            args(Some("smtp://mail.example.org"), Some("not an address"), None, None),
            args(Some("smtp://mail.example.org"), Some("a@example.org"), Some("ops@example.org,nobody"), None),
            args(None, None, None, Some("https://ok.example.org/x,ftp://example.org/tok")),
        ];
        for case in &cases {
            let (settings, findings) = checked(case);
            assert!(settings.is_none(), "{case:?} accepted");
            assert_eq!(findings.count(Level::Error), 1, "{case:?}:\n{findings}");
            assert!(!findings.to_string().contains("/tok"), "{findings}");
        }
    }

    #[test]
    fn nothing_set_is_a_note_and_emails_without_a_relay_a_warning() {
        let (settings, findings) = checked(&args(None, None, None, None));
        assert!(settings.is_some_and(|s| s.admin_channels() == 0));
        assert_eq!(findings.count(Level::Note), 1);
        let (settings, findings) = checked(&args(None, None, Some("ops@example.org"), None));
        assert!(settings.is_some());
        assert_eq!(findings.count(Level::Warn), 1, "{findings}");
    }
}
