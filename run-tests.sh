#!/usr/bin/env bash
# Install everything the test suite needs into .venv (the Autobahn testsuite
# into .wstest with Python 2.7 from pyenv, the Node peers into
# tests/interop/node_modules, Debian's chromium when run as root), then run
# the whole suite. Extra arguments go to pytest, e.g. ./run-tests.sh -m "not compliance".
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat
.venv/bin/python -m tests.compliance.run --install-only
# Node peers for the interop tests (engine.io clients), pinned by the lock file.
npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
# Debian's chromium for the browser test of the demo page (tests/browser),
# driven by playwright-core from the Node peers: no browser download.
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    else
        echo "run-tests.sh: /usr/bin/chromium is missing and this is not root, so it is not installed here." >&2
        echo "run-tests.sh: install Debian's chromium (as root: apt-get update && apt-get install -y chromium);" >&2
        echo "run-tests.sh: until then the browser test (tests/browser/test_demo_page.py) fails." >&2
    fi
fi
exec .venv/bin/python -m pytest "$@"
