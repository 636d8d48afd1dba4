//! A real SMTP server on loopback for tests to read what Fanout mails: enough of RFC 5321 for
//! lettre over plain TCP (greeting, EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET,
//! NOOP, QUIT), every connection under a deadline and a line limit. It keeps each message it
//! accepts (envelope, headers, the body decoded from quoted-printable or base64) and can be
//! told to refuse the next messages with a `451` first, to show a sender tries again.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::WorldError;

/// The longest line read (RFC 5321 allows 1000 for text lines).
const LINE_LIMIT: usize = 4096;
/// The largest message kept.
const MESSAGE_LIMIT: usize = 1 << 20;
/// A connection idle this long is closed.
const IDLE: Duration = Duration::from_secs(30);

/// One message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// `MAIL FROM`'s address.
    pub from: String,
    /// Every `RCPT TO` address.
    pub to: Vec<String>,
    /// The message's headers, as sent (folded lines joined).
    pub headers: Vec<(String, String)>,
    /// The body, decoded.
    pub body: String,
}

impl Mail {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The subject line.
    pub fn subject(&self) -> String {
        self.header("subject").unwrap_or_default().to_string()
    }
}

#[derive(Debug, Default)]
struct Kept {
    mails: Vec<Mail>,
    refuse: VecDeque<u16>,
    refused: u32,
}

/// The SMTP sink, serving until dropped.
#[derive(Debug)]
pub struct SmtpSink {
    address: SocketAddr,
    kept: Arc<Mutex<Kept>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on a free loopback port.
    pub async fn start() -> Result<Self, WorldError> {
        let listener =
            TcpListener::bind("127.0.0.1:0").await.map_err(|source| WorldError::Io { what: "bind the SMTP sink".into(), source })?;
        let address = listener.local_addr().map_err(|source| WorldError::Io { what: "read the SMTP sink's address".into(), source })?;
        let kept = Arc::new(Mutex::new(Kept::default()));
        let shared = Arc::clone(&kept);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = Arc::clone(&shared);
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(120), serve(stream, kept)).await;
                });
            }
        });
        Ok(Self { address, kept, task })
    }

    /// `smtp://127.0.0.1:<port>`, for `FANOUT_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// Every message accepted so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        self.kept.lock().map(|k| k.mails.clone()).unwrap_or_default()
    }

    /// Answers the next `count` messages' `MAIL FROM` with `451` (try again later).
    pub fn refuse_next(&self, count: usize) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.refuse.extend(std::iter::repeat_n(451, count));
        }
    }

    /// How many messages were refused.
    pub fn refused(&self) -> u32 {
        self.kept.lock().map(|k| k.refused).unwrap_or_default()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one line (without its CRLF); `None` at the end, on a line too long or when idle.
async fn line(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<String> {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(IDLE, (&mut *reader).take(LINE_LIMIT as u64).read_until(b'\n', &mut bytes)).await.ok()?.ok()?;
    if read == 0 || !bytes.ends_with(b"\n") {
        return None;
    }
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The address in `MAIL FROM:<a@b> …` / `RCPT TO:<a@b>`.
fn address(argument: &str) -> String {
    let start = argument.find('<').map_or(0, |i| i + 1);
    let end = argument[start..].find('>').map_or(argument.len(), |i| start + i);
    argument[start..end].to_string()
}

async fn serve(stream: TcpStream, kept: Arc<Mutex<Kept>>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    if write.write_all(b"220 testworld ESMTP sink\r\n").await.is_err() {
        return;
    }
    let (mut from, mut to): (Option<String>, Vec<String>) = (None, Vec::new());
    while let Some(command) = line(&mut reader).await {
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-testworld\r\n250-8BITMIME\r\n250 SIZE 1048576\r\n".into()
        } else if upper.starts_with("HELO") {
            "250 testworld\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            let refusal = kept.lock().ok().and_then(|mut k| {
                let code = k.refuse.pop_front();
                k.refused += u32::from(code.is_some());
                code
            });
            match refusal {
                Some(code) => format!("{code} 4.3.0 try again later\r\n"),
                None => {
                    (from, to) = (Some(address(&command[10..])), Vec::new());
                    "250 2.1.0 ok\r\n".into()
                }
            }
        } else if upper.starts_with("RCPT TO:") {
            if from.is_none() {
                "503 5.5.1 MAIL first\r\n".into()
            } else {
                to.push(address(&command[8..]));
                "250 2.1.5 ok\r\n".into()
            }
        } else if upper == "DATA" {
            if from.is_none() || to.is_empty() {
                "503 5.5.1 MAIL and RCPT first\r\n".into()
            } else {
                if write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await.is_err() {
                    return;
                }
                let mut data = Vec::new();
                let mut size = 0;
                loop {
                    let Some(text) = line(&mut reader).await else { return };
                    if text == "." {
                        break;
                    }
                    size += text.len() + 2;
                    if size > MESSAGE_LIMIT {
                        return;
                    }
                    data.push(text.strip_prefix('.').map_or(text.clone(), str::to_string));
                }
                let mail = parse(from.take().unwrap_or_default(), std::mem::take(&mut to), &data);
                if let Ok(mut kept) = kept.lock() {
                    kept.mails.push(mail);
                }
                "250 2.0.0 kept\r\n".into()
            }
        } else if upper == "RSET" {
            (from, to) = (None, Vec::new());
            "250 2.0.0 ok\r\n".into()
        } else if upper.starts_with("NOOP") {
            "250 2.0.0 ok\r\n".into()
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
            return;
        } else {
            "502 5.5.2 not implemented\r\n".into()
        };
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Splits the message into headers and a decoded body.
fn parse(from: String, to: Vec<String>, lines: &[String]) -> Mail {
    let blank = lines.iter().position(String::is_empty).unwrap_or(lines.len());
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in &lines[..blank] {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let raw = lines.get(blank + 1..).unwrap_or_default();
    let encoding = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-transfer-encoding")).map(|(_, v)| v.to_ascii_lowercase());
    let body = match encoding.as_deref() {
        Some("base64") => {
            let joined: String = raw.concat();
            let bytes = base64::engine::general_purpose::STANDARD.decode(joined.trim()).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Some("quoted-printable") => quoted_printable(raw),
        _ => raw.join("\n"),
    };
    Mail { from, to, headers, body: body.replace("\r\n", "\n") }
}

/// Decodes quoted-printable lines (a trailing `=` joins a line to the next).
fn quoted_printable(lines: &[String]) -> String {
    let mut bytes = Vec::new();
    for line in lines {
        let (text, soft) = match line.strip_suffix('=') {
            Some(text) => (text, true),
            None => (line.as_str(), false),
        };
        let raw = text.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'='
                && let Some(byte) = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                bytes.push(byte);
                i += 3;
                continue;
            }
            bytes.push(raw[i]);
            i += 1;
        }
        if !soft {
            bytes.push(b'\n');
        }
    }
    String::from_utf8_lossy(&bytes).trim_end_matches('\n').to_string()
}
