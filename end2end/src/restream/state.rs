//! The stand-in's memory: users, consent mode, authorization codes, token pairs (with expiry,
//! rotation and revocation), channel titles set through the API, and the calls received.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{Consent, StandInConfig, StandInUser};

/// A request the stand-in received (its Restream surface only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedCall {
    /// HTTP method.
    pub method: String,
    /// Path, e.g. `/v2/user/profile`.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// The body, parsed as JSON or as a form (`null` when empty).
    pub body: serde_json::Value,
    /// The user a valid bearer token named, if any.
    pub user_id: Option<i64>,
    /// The status answered.
    pub status: u16,
}

/// A channel's title and description as set through `PATCH /v2/user/channel-meta/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMeta {
    /// The title.
    pub title: String,
    /// The description, if given.
    pub description: Option<String>,
}

/// A currently valid token pair, for tests to compare with what Fanout stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPairView {
    /// The access token.
    pub access: String,
    /// The refresh token.
    pub refresh: String,
}

/// An authorization code waiting for its exchange.
struct Code {
    user_id: i64,
    redirect_uri: String,
    expires: Instant,
    used: bool,
}

/// A token pair.
struct Pair {
    user_id: i64,
    access: String,
    refresh: String,
    access_expires: Instant,
    valid: bool,
}

/// Why a bearer token is refused.
pub(super) enum BearerRefusal {
    Unknown,
    Expired,
}

/// Why a grant is refused.
pub(super) enum GrantRefusal {
    /// The code or refresh token is unknown, used, expired or revoked.
    InvalidGrant(&'static str),
}

/// Everything the stand-in knows.
pub(super) struct World {
    pub(super) config: StandInConfig,
    pub(super) users: BTreeMap<i64, StandInUser>,
    pub(super) consent: Consent,
    pub(super) token_failure: Option<u16>,
    pub(super) meta: HashMap<i64, ChannelMeta>,
    pub(super) calls: Vec<RecordedCall>,
    pub(super) refreshes: HashMap<i64, usize>,
    /// The next this many API calls answer 429 with `Retry-After: 1`.
    pub(super) throttle_next: usize,
    /// Whether title updates fail (500).
    pub(super) fail_meta: bool,
    /// Calls whose path holds the text are answered this much later (after they took effect).
    pub(super) delay: Option<(String, std::time::Duration)>,
    /// The next this many calls whose path holds the text answer 500 (Restream failing for a
    /// moment).
    pub(super) fail_next: Option<(String, usize)>,
    /// The WebSockets: what tests steer, what the ingest receives, the sockets seen.
    pub(super) sockets: super::sockets::Sockets,
    codes: HashMap<String, Code>,
    pairs: Vec<Pair>,
}

/// A random opaque token: 20 random bytes in hex, like Restream's.
pub(super) fn random_token() -> String {
    rand::random::<[u8; 20]>().iter().map(|b| format!("{b:02x}")).collect()
}

impl World {
    pub(super) fn new(config: StandInConfig) -> Self {
        Self {
            config,
            users: BTreeMap::new(),
            consent: Consent::default(),
            token_failure: None,
            meta: HashMap::new(),
            calls: Vec::new(),
            refreshes: HashMap::new(),
            throttle_next: 0,
            fail_meta: false,
            delay: None,
            fail_next: None,
            sockets: super::sockets::Sockets::default(),
            codes: HashMap::new(),
            pairs: Vec::new(),
        }
    }

    pub(super) fn add_user(&mut self, user: StandInUser) {
        self.users.insert(user.id, user);
    }

    /// Issues a single-use code for `user_id`, bound to `redirect_uri`.
    pub(super) fn issue_code(&mut self, user_id: i64, redirect_uri: &str) -> String {
        let code = random_token();
        let expires = Instant::now() + self.config.code_ttl;
        self.codes.insert(code.clone(), Code { user_id, redirect_uri: redirect_uri.to_string(), expires, used: false });
        code
    }

    /// Exchanges a code (once) for a new pair.
    pub(super) fn exchange_code(&mut self, code: &str, redirect_uri: Option<&str>) -> Result<TokenPairView, GrantRefusal> {
        let entry = self.codes.get_mut(code).ok_or(GrantRefusal::InvalidGrant("Invalid grant: authorization code is invalid"))?;
        if entry.used {
            return Err(GrantRefusal::InvalidGrant("Invalid grant: authorization code has already been used"));
        }
        if entry.expires < Instant::now() {
            return Err(GrantRefusal::InvalidGrant("Invalid grant: authorization code has expired"));
        }
        if redirect_uri != Some(entry.redirect_uri.as_str()) {
            return Err(GrantRefusal::InvalidGrant("Invalid grant: redirect_uri does not match"));
        }
        entry.used = true;
        let user_id = entry.user_id;
        Ok(self.issue_pair(user_id))
    }

    /// Rotates a refresh token: the old pair dies at once, a new one is issued.
    pub(super) fn refresh(&mut self, refresh: &str) -> Result<TokenPairView, GrantRefusal> {
        let pair = self
            .pairs
            .iter_mut()
            .find(|p| p.refresh == refresh && p.valid)
            .ok_or(GrantRefusal::InvalidGrant("Invalid grant: refresh token is invalid"))?;
        pair.valid = false;
        let user_id = pair.user_id;
        *self.refreshes.entry(user_id).or_default() += 1;
        Ok(self.issue_pair(user_id))
    }

    /// A new pair for `user_id`, as if it had just connected.
    pub(super) fn issue_pair_for(&mut self, user_id: i64) -> TokenPairView {
        self.issue_pair(user_id)
    }

    fn issue_pair(&mut self, user_id: i64) -> TokenPairView {
        let view = TokenPairView { access: random_token(), refresh: random_token() };
        self.pairs.push(Pair {
            user_id,
            access: view.access.clone(),
            refresh: view.refresh.clone(),
            access_expires: Instant::now() + self.config.access_token_ttl,
            valid: true,
        });
        view
    }

    /// Revokes the pair holding `token` (access or refresh); unknown tokens are ignored.
    pub(super) fn revoke(&mut self, token: &str) {
        for pair in self.pairs.iter_mut().filter(|p| p.access == token || p.refresh == token) {
            pair.valid = false;
        }
    }

    /// The user a bearer token belongs to.
    pub(super) fn bearer(&self, access: &str) -> Result<i64, BearerRefusal> {
        let pair = self.pairs.iter().find(|p| p.access == access && p.valid).ok_or(BearerRefusal::Unknown)?;
        if pair.access_expires < Instant::now() {
            return Err(BearerRefusal::Expired);
        }
        Ok(pair.user_id)
    }

    pub(super) fn expire_access_tokens(&mut self, user_id: i64) {
        let past = Instant::now().checked_sub(std::time::Duration::from_secs(1)).unwrap_or_else(Instant::now);
        for pair in self.pairs.iter_mut().filter(|p| p.user_id == user_id && p.valid) {
            pair.access_expires = past;
        }
    }

    pub(super) fn tokens_of(&self, user_id: i64) -> Option<TokenPairView> {
        self.pairs
            .iter()
            .rev()
            .find(|p| p.user_id == user_id && p.valid)
            .map(|p| TokenPairView { access: p.access.clone(), refresh: p.refresh.clone() })
    }
}
