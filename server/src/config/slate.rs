//! The slate's settings: whether destinations get a slate while no source sends (on by
//! default), the operator's image for it, and its line of text.

use std::path::PathBuf;

use clap::Args;

use super::{Findings, Level};
use crate::relay::slate::SlateConfig;

/// The slate's settings as given.
#[derive(Debug, Clone, Args)]
pub struct SlateArgs {
    /// Send a slate (image, text, silence) to every destination while no source sends, so
    /// their broadcasts stay up until the grace ends.
    #[arg(long, env = "FANOUT_SLATE", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub slate: bool,

    /// The slate's image (PNG or JPEG; scaled to the source's size). Default: a plain card.
    #[arg(long, env = "FANOUT_SLATE_IMAGE", global = true)]
    pub slate_image: Option<PathBuf>,

    /// The slate's line of text.
    #[arg(long, env = "FANOUT_SLATE_TEXT", default_value = "We'll be right back", global = true)]
    pub slate_text: String,
}

/// Checks the slate's settings; `Some(None)` when the slate is off.
pub(super) fn check_slate(args: &SlateArgs, ffmpeg: &str, findings: &mut Findings) -> Option<Option<SlateConfig>> {
    if !args.slate {
        findings.push(Level::Note, "FANOUT_SLATE", "off: destinations get nothing while the source is gone (their broadcasts may end)");
        return Some(None);
    }
    if let Some(image) = &args.slate_image
        && std::fs::File::open(image).is_err()
    {
        findings.push(Level::Error, "FANOUT_SLATE_IMAGE", format!("cannot read {}", image.display()));
        return None;
    }
    let image = args.slate_image.as_ref().map_or_else(|| "a plain card".to_string(), |i| i.display().to_string());
    findings.push(Level::Ok, "FANOUT_SLATE", format!("on: {image} with “{}” while no source sends", args.slate_text.trim()));
    Some(Some(SlateConfig { ffmpeg: ffmpeg.to_string(), image: args.slate_image.clone(), text: args.slate_text.trim().to_string() }))
}
