#!/usr/bin/env bash
# Install everything the test suite needs into .venv (the Autobahn testsuite
# into .wstest with Python 2.7 from pyenv, the Node peers into
# tests/interop/node_modules), then run the whole
# suite. Extra arguments go to pytest, e.g. ./run-tests.sh -m "not compliance".
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
exec .venv/bin/python -m pytest "$@"
