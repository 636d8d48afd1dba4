//! Titles and descriptions for volunteers' channels, from templates (`{title}`, `{url}`,
//! `{date}`), trimmed at a word boundary to each platform's own limit. Restream documents no
//! limit of its own, so the destination platforms' limits apply.

use super::api::ApiChannel;

/// Restream's platform ids (its public platform list).
mod platform {
    pub(super) const TWITCH: i64 = 1;
    pub(super) const YOUTUBE: i64 = 5;
}

/// A platform's limits, in characters: title, description.
fn limits(platform_id: i64) -> (usize, usize) {
    match platform_id {
        platform::YOUTUBE => (100, 5000),
        platform::TWITCH => (140, 300),
        // Unknown platforms get YouTube's title limit: the tightest common one.
        _ => (100, 2000),
    }
}

/// What the templates are filled with.
#[derive(Debug, Clone)]
pub struct LiveFacts {
    /// The live's title, whole.
    pub title: String,
    /// Its watch URL.
    pub url: String,
    /// The day it started (`YYYY-MM-DD`).
    pub date: String,
}

/// The title and description templates.
#[derive(Debug, Clone)]
pub struct TitleTemplates {
    /// e.g. `{title}`.
    pub title: String,
    /// e.g. `{title}\n\nWatch live: {url}`.
    pub description: String,
}

impl Default for TitleTemplates {
    fn default() -> Self {
        Self { title: "{title}".into(), description: "{title}\n\nLive now: {url}".into() }
    }
}

impl TitleTemplates {
    /// The title and description for one channel.
    pub fn render(&self, facts: &LiveFacts, channel: &ApiChannel) -> (String, String) {
        let fill = |template: &str| template.replace("{title}", &facts.title).replace("{url}", &facts.url).replace("{date}", &facts.date);
        let (title_limit, description_limit) = limits(channel.streaming_platform_id);
        (trim_words(fill(&self.title).trim(), title_limit), trim_words(fill(&self.description).trim(), description_limit))
    }
}

/// `text` cut to at most `limit` characters, at the last word boundary, with `…` when cut.
pub fn trim_words(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let budget = limit.saturating_sub(1);
    let prefix: String = text.chars().take(budget).collect();
    let cut = match prefix.rfind(char::is_whitespace) {
        Some(space) if space > 0 => prefix[..space].trim_end().to_string(),
        _ => prefix,
    };
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(platform: i64) -> ApiChannel {
        ApiChannel { id: 1, streaming_platform_id: platform, display_name: "c".into(), url: None, enabled: true }
    }

    #[test]
    fn templates_fill_with_the_whole_title_url_and_date() {
        let facts = LiveFacts { title: "Morning satsang".into(), url: "https://youtu.be/x".into(), date: "2026-11-25".into() };
        let templates = TitleTemplates { title: "{title} ({date})".into(), description: "{title} — {url}".into() };
        let (title, description) = templates.render(&facts, &channel(platform::YOUTUBE));
        assert_eq!(title, "Morning satsang (2026-11-25)");
        assert_eq!(description, "Morning satsang — https://youtu.be/x");
    }

    #[test]
    fn long_titles_are_cut_at_a_word_boundary_to_each_platforms_limit() {
        let long =
            "Paramashivoham level four — day twelve: the science of completion, with guided meditation and questions from the live chat";
        let facts = LiveFacts { title: long.into(), url: String::new(), date: String::new() };
        let (youtube, _) = TitleTemplates::default().render(&facts, &channel(platform::YOUTUBE));
        assert!(youtube.chars().count() <= 100, "{youtube}");
        assert!(youtube.ends_with('…') && !youtube.ends_with(" …"), "{youtube}");
        assert!(long.starts_with(youtube.trim_end_matches('…')), "a prefix, cut between words");
        let (twitch, _) = TitleTemplates::default().render(&facts, &channel(platform::TWITCH));
        assert_eq!(twitch, long, "Twitch allows 140 characters: the whole title fits");
        assert_eq!(trim_words("short", 100), "short");
        assert_eq!(trim_words("oneverylongwordwithoutspaces", 10).chars().count(), 10, "no space: cut hard");
    }
}
