#!/usr/bin/env bash
# Sets up and runs the whole test suite: uv, Debian's chromium for the browser tests, then pytest.
# The tests bring their own PostgreSQL (embedded) unless TEST_DATABASE_URL points at one.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "note: the browser tests need Debian's chromium: sudo apt-get install chromium" >&2
    fi
fi

exec uv run --extra test pytest "$@"
