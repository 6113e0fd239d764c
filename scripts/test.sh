#!/usr/bin/env bash
# Sets up and runs the whole test suite: uv, Debian's chromium for the browser tests, then pytest.
# The tests bring their own PostgreSQL (embedded) unless TEST_DATABASE_URL points at one.
set -euo pipefail
cd "$(dirname "$0")/.."

# uv from PATH, else from .uv/, a virtual environment of its own made as the README's first
# command makes it (no system-wide or --user install, which PEP 668 refuses on Debian)
UV=uv
if ! command -v uv >/dev/null 2>&1; then
    [ -x .uv/bin/uv ] || { python3 -m venv .uv && .uv/bin/pip install --quiet uv; }
    UV=.uv/bin/uv
fi

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "note: the browser tests need Debian's chromium: sudo apt-get install chromium" >&2
    fi
fi

exec "$UV" run --extra test pytest "$@"
