# Shared by Fanout's scripts (sourced, not run): where things are, and small helpers.
# shellcheck shell=bash

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Build output lives outside the clone so a fresh clone reuses a warm cache.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fanout/target}"
# Tools the project installs: Tailwind (npm), cargo tools, yt-dlp (pip --user).
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$HOME/.local/bin:$PATH"
cd "$root"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '[fanout] %s\n' "$*" >&2; }
