//! What can stand between Fanout and the live on YouTube, in the words the dashboard's banner,
//! the event log and `fanout check --youtube` use — each with what the operator can do about it.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

/// Why the source cannot be read or played.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Display, EnumString, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SourceProblem {
    /// YouTube asks this server to sign in to prove it is not a bot (datacenter addresses).
    BotWall,
    /// YouTube shows its cookie-consent page instead of the channel.
    ConsentWall,
    /// The live is for the channel's members only.
    MembersOnly,
    /// The live is age-restricted.
    AgeRestricted,
    /// The live is private.
    Private,
    /// YouTube gave no stream for the live (no HLS manifest for this session).
    NoManifest,
    /// yt-dlp could not solve YouTube's JavaScript challenge.
    Challenge,
    /// yt-dlp failed for another reason.
    ResolverFailed,
    /// yt-dlp could not be run at all.
    ResolverMissing,
    /// The page is not what Fanout knows how to read (YouTube changed its layout).
    LayoutChanged,
    /// The YouTube Data API gives no usable answer: the key refused (invalid, or the API not
    /// enabled for its project), the channel unknown to it, an answer Fanout cannot read.
    DataApiRefused,
}

impl SourceProblem {
    /// What it means, in a line.
    pub fn summary(self) -> &'static str {
        match self {
            Self::BotWall => "YouTube asks this server to sign in to confirm it is not a bot",
            Self::ConsentWall => "YouTube shows its cookie-consent page instead of the channel",
            Self::MembersOnly => "the live is for the channel's members only",
            Self::AgeRestricted => "the live is age-restricted",
            Self::Private => "the live is private",
            Self::NoManifest => "YouTube gives this server no stream for the live",
            Self::Challenge => "yt-dlp could not solve YouTube's JavaScript challenge",
            Self::ResolverFailed => "yt-dlp could not resolve the live",
            Self::ResolverMissing => "yt-dlp could not be run",
            Self::LayoutChanged => "YouTube's page is not what Fanout knows how to read",
            Self::DataApiRefused => "the YouTube Data API gives Fanout no answer it can use",
        }
    }

    /// What the operator can do.
    pub fn advice(self) -> &'static str {
        match self {
            Self::BotWall => {
                "give Fanout a signed-in account's cookies (FANOUT_YT_COOKIES), send YouTube traffic through a residential proxy (FANOUT_YT_PROXY), or switch to push ingest (FANOUT_SOURCE=push)"
            }
            Self::ConsentWall => "give Fanout cookies of a browser that accepted YouTube's terms (FANOUT_YT_COOKIES)",
            Self::MembersOnly | Self::AgeRestricted | Self::Private => {
                "give Fanout the cookies of an account that may watch it (FANOUT_YT_COOKIES), or switch to push ingest (FANOUT_SOURCE=push)"
            }
            Self::NoManifest => "keep the pull on yt-dlp (FANOUT_PULL=yt-dlp), update yt-dlp, or give Fanout cookies (FANOUT_YT_COOKIES)",
            Self::Challenge => "update yt-dlp and check its JavaScript runtime (fanout check --youtube; FANOUT_JS_RUNTIME)",
            Self::ResolverFailed => "update yt-dlp, then run fanout check --youtube to see what it says",
            Self::ResolverMissing => "install yt-dlp (scripts/setup, or pip install \"yt-dlp[default]\") or set FANOUT_YT_DLP",
            Self::LayoutChanged => "update Fanout and yt-dlp; meanwhile, push ingest (FANOUT_SOURCE=push) does not depend on the page",
            Self::DataApiRefused => {
                "check FANOUT_YT_API_KEY, that the YouTube Data API v3 is enabled for its project and that FANOUT_YOUTUBE_CHANNEL is the channel's @handle or UC… id — or unset the key to watch the /live page"
            }
        }
    }

    /// Tells from YouTube's words — as its page gives them, or yt-dlp repeats them in its
    /// errors — what stands in the way, if they say.
    pub fn from_words(words: &str) -> Option<Self> {
        let text = words.to_lowercase();
        let says = |words: &[&str]| words.iter().any(|w| text.contains(w));
        Some(if says(&["not a bot", "sign in to confirm you"]) && !text.contains("your age") {
            Self::BotWall
        } else if says(&["members-only", "members only", "join this channel"]) {
            Self::MembersOnly
        } else if says(&["confirm your age", "age-restricted", "age restricted", "inappropriate for some users"]) {
            Self::AgeRestricted
        } else if says(&["private video", "this video is private"]) {
            Self::Private
        } else if says(&["n challenge", "signature solving", "javascript runtime", "js runtime", "nsig"]) {
            Self::Challenge
        } else if says(&["requested format is not available", "no video formats found"]) {
            Self::NoManifest
        } else {
            return None;
        })
    }
}

/// A problem as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceProblemNote {
    /// What it is.
    pub problem: SourceProblem,
    /// What was seen, in the words of YouTube or yt-dlp (URLs cut out).
    pub detail: String,
}

impl SourceProblemNote {
    /// The line for the event log: what, the detail, and what to do.
    pub fn message(&self) -> String {
        format!("{}: {} — {}", self.problem.summary(), self.detail, self.problem.advice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn youtubes_words_name_the_problem() {
        let cases = [
            ("ERROR: [youtube] abc: Sign in to confirm you’re not a bot. Use --cookies-from-browser", Some(SourceProblem::BotWall)),
            ("ERROR: [youtube] abc: Join this channel to get access to members-only content", Some(SourceProblem::MembersOnly)),
            ("ERROR: [youtube] abc: Sign in to confirm your age. This video may be inappropriate", Some(SourceProblem::AgeRestricted)),
            ("ERROR: [youtube] abc: Private video. Sign in if you've been granted access", Some(SourceProblem::Private)),
            ("WARNING: [youtube] abc: n challenge solving failed: Some formats may be missing", Some(SourceProblem::Challenge)),
            ("ERROR: [youtube] abc: Requested format is not available", Some(SourceProblem::NoManifest)),
            ("ERROR: unable to download webpage: HTTP Error 500", None),
        ];
        for (stderr, expected) in cases {
            assert_eq!(SourceProblem::from_words(stderr), expected, "{stderr}");
        }
        let note = SourceProblemNote { problem: SourceProblem::BotWall, detail: "LOGIN_REQUIRED".into() };
        assert!(note.message().contains("FANOUT_YT_COOKIES"), "{}", note.message());
    }
}
