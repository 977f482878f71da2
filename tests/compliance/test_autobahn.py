"""
The Autobahn testsuite against rtproto's server and client.

Slow (minutes) and needs Python 2.7 for C{wstest}: select with
C{pytest -m compliance}, skip with C{-m "not compliance"}.  Set
C{RTPROTO_COMPLIANCE_CASES} (comma-separated patterns such as C{1.*,6.4.*})
to run part of the suite.  Reports and logs go to C{reports/compliance/}.
"""

import os
import sys

import pytest

from . import harness

pytestmark = pytest.mark.compliance


def _cases():
    return harness.checkCases(os.environ.get("RTPROTO_COMPLIANCE_CASES", "*").split(","))


@pytest.fixture(scope="module")
def wstest():
    """
    The installed C{wstest}, installing it into C{.wstest/} if needed.
    """
    return harness.ensureWstest()


def test_server(wstest):
    """
    Every fuzzingclient case against our echo server is OK or
    INFORMATIONAL, for both the behaviour and the closing handshake.
    """
    verdict = harness.runServerMode(_cases(), python=sys.executable, wstest=wstest)
    if not verdict.ok:
        pytest.fail(verdict.summary(), pytrace=False)


def test_client(wstest):
    """
    Every fuzzingserver case against our echoing client is OK or
    INFORMATIONAL, for both the behaviour and the closing handshake.
    """
    verdict = harness.runClientMode(_cases(), python=sys.executable, wstest=wstest)
    if not verdict.ok:
        pytest.fail(verdict.summary(), pytrace=False)
