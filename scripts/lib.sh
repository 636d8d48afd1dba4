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

# Builds the site into target/site with cargo-leptos (arguments passed on: `--release`,
# `--frontend-only`…), always split into WASM chunks (`--split`: the dashboard's lazy islands
# need it, even in a debug build) and, in release, with precompressed twins; then puts the names
# of its hashed files into it: cargo-leptos writes `hash.txt` beside the server binary, and Fanout
# reads it from the site, which then stands on its own wherever it is copied.
build_site() {
  local profile=debug argument
  for argument in "$@"; do [ "$argument" = --release ] && profile=release; done
  if [ "$profile" = release ]; then
    cargo leptos build --split --precompress "$@"
  else
    cargo leptos build --split "$@"
  fi
  cp "$CARGO_TARGET_DIR/$profile/hash.txt" "$root/target/site/hash.txt"
  # cargo-leptos's gzip twins are ~15 % larger than gzip -9's (its brotli ones are as small as
  # the brotli tool's): the gzip that browsers on plain HTTP take is made again, smaller.
  local twin
  while IFS= read -r -d '' twin; do
    gzip -9 -n -c "${twin%.gz}" >"$twin"
  done < <(find "$root/target/site" -name '*.gz' -print0)
}
