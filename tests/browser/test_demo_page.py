"""
The demo page (C{rtproto/demo/}) in a real browser: Debian's chromium,
driven by C{demo_browser.js} (playwright-core from
C{tests/interop/node_modules}, no browser download) against the default
app, C{twistd -n rtproto}, run as a child process on 127.0.0.1.

Everything goes through the page's own UI (see C{demo_browser.js} for the
scenario): the WebSocket echo (text and binary), the socket.io chat between
two browser contexts (polling, then websocket), the same messages over SSE
and the WebSocket feed, and the SSE streams dropped by the server (C{POST
/events/disconnect}) and resumed with C{Last-Event-ID}, replaying a message
said meanwhile.  It runs with the official socket.io client (the server
given C{--sio-client-dist}) and with the page's fallback, C{rtsio.js}.

Screenshots of both pages go to C{reports/browser/}.  Needs C{node}, C{npm
ci --prefix tests/interop} and C{/usr/bin/chromium} (C{apt-get install
chromium}; C{run-tests.sh} installs it when run as root): without chromium
the test fails, saying so.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.interop.eio_support import HOST, EngineIOServer, nodePath

pytestmark = pytest.mark.interop

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
INTEROP = REPO / "tests" / "interop"
CLIENT_DIST = INTEROP / "node_modules" / "socket.io-client" / "dist"
SCREENSHOTS = REPO / "reports" / "browser"
CHROMIUM = "/usr/bin/chromium"
STOP_TIMEOUT = 15.0
WAIT = 15
"""Seconds each wait of the browser script may take."""
RUN_TIMEOUT = 180.0
"""Seconds the whole browser script may take."""


def _twistd() -> "list[str]":
    """
    The C{twistd} of this interpreter's environment (C{.venv/bin/twistd}),
    else C{python -m twisted}.
    """
    beside = Path(sys.executable).with_name("twistd")
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "twisted"]


class DemoServer(EngineIOServer):
    """
    C{twistd -n rtproto} (the default app) on 127.0.0.1, with an SSE
    publish token; its output kept in C{logPath} (read for failure
    messages, after it stops too); ended by its own PID.
    """

    def __init__(self, logPath: Path, clientDist: "Path | None") -> None:
        super().__init__("rtproto", logPath=logPath)
        self.clientDist = clientDist
        self.token = secrets.token_urlsafe(16)

    def command(self, port: int) -> "list[str]":
        """
        The command a user types, with the publish token and the client
        bundle.
        """
        argv = _twistd() + [
            "-n", "--pidfile=", "rtproto",
            "--listen", f"tcp:{port}:interface={HOST}",
            f"--sse-publish-token={self.token}",
        ]
        if self.clientDist is not None:
            argv += ["--sio-client-dist", str(self.clientDist)]
        return argv

    @property
    def url(self) -> str:
        """
        The demo page.
        """
        return f"http://{HOST}:{self.port}/"


def _runBrowser(node: str, server: DemoServer, client: str) -> "tuple[dict, str]":
    """
    Run C{demo_browser.js} to its end (bounded); return its observations
    and its stderr.  On overrun it gets SIGTERM (playwright then closes the
    browser it launched), then SIGKILL.
    """
    argv = [
        node, str(HERE / "demo_browser.js"),
        "--url", server.url, "--token", server.token, "--client", client,
        "--screenshots", str(SCREENSHOTS), "--chromium", CHROMIUM, "--timeout", str(WAIT),
    ]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(REPO))
    try:
        out, err = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            out, err = process.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate(timeout=STOP_TIMEOUT)
        pytest.fail(
            f"demo_browser.js did not finish within {RUN_TIMEOUT:g}s\nstderr:\n{err.decode('utf-8', 'replace')}\n"
            f"server log:\n{server.log()}"
        )
    stderr = err.decode("utf-8", "replace")
    lines = out.decode("utf-8", "replace").strip().splitlines()
    try:
        facts = json.loads(lines[-1])
    except (IndexError, ValueError):
        pytest.fail(
            f"demo_browser.js exited {process.returncode} without its observations\nstdout: {lines!r}\n"
            f"stderr:\n{stderr}\nserver log:\n{server.log()}"
        )
    return facts, stderr


def _messages(items: "list[dict]") -> "list[tuple[str, str]]":
    """
    (from, text) of a log's message items, in order.
    """
    return [(item["from"], item["text"]) for item in items if "text" in item]


@pytest.mark.parametrize("client", ["official", "rtsio"])
def test_demoPage(client, tmp_path, capsys):
    """
    The demo page works in chromium, with the official socket.io client and
    with rtsio.js: echo, chat, both feeds, and SSE resumption after the
    server drops the streams.
    """
    node = nodePath()
    if not (INTEROP / "node_modules" / "playwright-core").is_dir():
        pytest.fail("playwright-core is not installed: run npm ci --prefix tests/interop")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser test needs Debian's chromium; install it as root with "
            "'apt-get update && apt-get install -y chromium' (./run-tests.sh does this when run as root)"
        )
    server = DemoServer(tmp_path / "server.log", CLIENT_DIST if client == "official" else None)
    try:
        server.start()
        facts, stderr = _runBrowser(node, server, client)
        alive = server.process.poll() is None
    finally:
        server.stop()

    with capsys.disabled():
        for path in facts.get("screenshots", []):
            print(f"\nscreenshot ({client}): {path}", end="")
    context = (
        f"\nsteps: {facts.get('steps')}\nproblems: {facts.get('problems')}\n"
        f"browser script stderr:\n{stderr}\nserver log:\n{server.log()}"
    )
    assert "error" not in facts, f"the browser scenario stopped: {facts['error']}{context}"
    assert alive, f"the server died during the scenario{context}"
    assert facts["problems"] == [], f"the page logged errors{context}"
    assert len(facts["screenshots"]) == 2 and all(Path(p).is_file() for p in facts["screenshots"])

    # (1) the echo: text and binary back as they went.
    echo = facts["echo"]
    assert echo["textEcho"]["value"] == echo["text"]
    assert echo["binaryEcho"]["value"] == echo["hex"]
    assert echo["binaryEcho"]["length"] == str(len(echo["text"].encode("utf-8")))

    # (2) the chat: the expected client, polling then websocket, typing.
    for person in ("alice", "bob"):
        chat = facts["chat"][person]
        assert chat["client"]["client"] == client
        assert chat["transport"]["history"] == "polling,websocket"
        assert chat["transport"]["text"] == "polling → websocket"
    assert facts["typingSeen"] == "alice is typing…"

    # (3) and (4): every page shows the four messages once each, in order,
    # in the chat, over SSE and on the feed; the SSE stream came back once,
    # from the last id it had, and replayed the message said while it was
    # down (said when no stream was open, so it came by replay only).
    texts = facts["texts"]
    said = [("alice", texts["first"]), ("bob", texts["second"]), ("alice", texts["during"]), ("bob", texts["after"])]
    assert facts["disconnected"] == 2, facts
    assert facts["statsWhileDown"]["subscribers"] == 0, facts["statsWhileDown"]
    for person in ("alice", "bob"):
        after = facts["sseAfter"][person]
        assert _messages(after["chat"]) == said
        assert _messages(after["sse"]) == said
        assert _messages(after["feed"]) == said
        ids = [item["id"] for item in after["sse"]]
        assert ids[:2] == facts["sseIds"][person] and len(set(ids)) == 4
        assert facts["sseBefore"][person]["lastId"] == ids[1]
        assert after["lastId"]["resumedFrom"] == ids[1]
        assert after["lastId"]["lastId"] == ids[3]
        assert after["lastId"]["opens"] == "2"
        assert after["status"]["state"] == "open"
        assert after["status"]["text"] == f"connected again, resumed after Last-Event-ID {ids[1]}"
        for item in after["feed"]:
            assert json.loads(item["json"])["text"] == item["text"]
