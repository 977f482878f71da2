"""
Server-Sent Events over HTTP/2: rtproto served over TLS (an C{ssl:}
endpoint with a self-signed certificate made at test time) negotiates h2
through ALPN when Twisted's C{http2} extra is installed, and Node's own
C{http2} client opens more event streams on one connection than a browser
allows over HTTP/1.1 (6 per host), publishes over the same connection, and
every stream gets every event.
"""

import shutil
import subprocess
import sys

import pytest

from tests.compliance.harness import freePort, waitForListening

from .eio_support import HERE, REPO, _ourEnv

pytestmark = pytest.mark.interop

STREAMS = 10
EVENTS = 20


@pytest.fixture
def tlsServer(tlsFiles, tmp_path):
    pytest.importorskip("h2", reason="Twisted's http2 extra (h2) is part of the test extra")
    from twisted.internet.endpoints import quoteStringArgument

    keyPath, certPath, _ = tlsFiles
    port = freePort()
    log = open(tmp_path / "server.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "twisted", "--log-format=text", "rtproto",
            "--listen",
            f"ssl:{port}:interface=127.0.0.1:privateKey={quoteStringArgument(str(keyPath))}"
            f":certKey={quoteStringArgument(str(certPath))}",
            "--sse", "/events", "--sse-publish-token", "h2token",
        ],
        stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO), env=_ourEnv(),
    )
    try:
        assert waitForListening(process, port, 30.0) is None, (tmp_path / "server.log").read_text()
        yield port, certPath, tmp_path / "server.log"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def test_eventStreamsOverHTTP2(tlsServer):
    """
    ALPN picks h2; ten streams on one connection each get C{200
    text/event-stream} and all twenty events, multi-line data intact, in
    order.
    """
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    port, certPath, logPath = tlsServer
    done = subprocess.run(
        [node, str(HERE / "sse_h2client.js"), f"https://127.0.0.1:{port}", str(certPath), str(STREAMS), str(EVENTS), "h2token"],
        capture_output=True, timeout=60,
    )
    out = done.stdout.decode().strip().splitlines()
    assert out, done.stderr.decode() + logPath.read_text()
    import json

    facts = json.loads(out[-1])
    assert "error" not in facts, (facts, logPath.read_text())
    assert facts["alpn"] == "h2"
    assert len(facts["published"]) == EVENTS
    expected = [f"event {i}\nline two" for i in range(EVENTS)]
    for stream in facts["streams"]:
        assert stream["status"] == 200
        assert stream["contentType"] == "text/event-stream; charset=utf-8"
        assert stream["cacheControl"] == "no-cache"
        assert stream["events"] == expected
