//! The management token, stream keys and passwords: Fanout's one [`Secret`], serialised as the
//! plain string into Nimble's JSON request bodies (and never into a log line).

pub use fanout_secret::Secret;
