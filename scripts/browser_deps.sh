#!/usr/bin/env bash
# What the browser tests (tests/browser) need besides the test venv: Debian's chromium (installed
# with apt where the machine has apt and root; Playwright drives it, it never downloads a
# browser) and the Home Assistant with its web UI of `make demo` (.venv-demo).
# Elsewhere the browser tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[browser] %s\n' "$*" >&2; }

if ! [ -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian's chromium"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends chromium fonts-dejavu-core; } >&2
    else
        log "no /usr/bin/chromium and no apt as root to install it: the browser tests will skip"
    fi
fi
bash scripts/demo_venv.sh .venv-demo
