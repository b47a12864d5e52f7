#!/usr/bin/env bash
# Renders the status page in headless Chromium: runs the brownout-axum
# `browser` test, which serves the health routes on a loopback port and
# checks what `chromium --headless --dump-dom` shows on /status.
# Installs Chromium (Debian package `chromium`) when it is missing, and fails
# if the test skipped anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium
fi
{ command -v chromium || command -v chromium-browser; } | sed -n 1p
{ chromium --version || chromium-browser --version; } 2>/dev/null | sed -n 1p || true

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test -p brownout-axum --all-features --test browser -- --nocapture 2>&1 | tee "$log"
if grep -q "skipped" "$log"; then
    echo "error: the browser test skipped; Chromium must be installed for this check" >&2
    exit 1
fi
