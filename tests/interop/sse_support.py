"""
Shared machinery of the Server-Sent Events interop tests: SSE servers in
child processes -- the reference Node server (C{sse_server.js}, plain
C{http}, which also specifies what is served, in its header comment) or
rtproto (L{rtprotoCommand}) -- both serving the SSE test application
(rtproto's is C{tests.interop.sse_app.TestHandler}) on C{/events}, and the
client peers that print their observations as one JSON line:
C{sse_client.js} (the npm C{eventsource} package) and C{sse_pyclient.py}
(aiohttp, with a WHATWG stream parser of its own).

This module reuses L{tests.interop.eio_support}: its server process
handling (L{SSEServer} only changes the command line and adds log
reading), its peer runner and its bounds.  Plain HTTP requests of the tests
themselves (publishing, the publish endpoint's answers) go through
L{request}, bounded by L{HTTP_TIMEOUT}.  Needs C{node} and C{npm ci
--prefix tests/interop} for the Node peer and the reference server;
without C{node} those tests skip.
"""

import http.client
import json
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .eio_support import HERE, HOST, EngineIOServer, kind, runPeer, sequenceProblems, shorten
from .eio_support import nodePath as _nodePath

__all__ = ["kind", "sequenceProblems", "shorten", "sseServers"]

APP = "tests.interop.sse_app.TestHandler"
PATH = "/events"
TOKEN = "secret"
"""The publish endpoint's bearer token."""
PRIVATE_TOKEN = "letmein"
"""The bearer token the test application wants for the C{private} channel."""
ALLOWED_ORIGIN = "http://allowed.example"
RETRY_MS = 1500
KEEPALIVE = 1
HISTORY = 50
HTTP_TIMEOUT = 15.0

SUBSCRIBER_COUNT = re.compile(r"sse subscribers[=: ]+(\d+)")
"""
How a server's log tells its number of open SSE streams (the reference
server prints C{sse subscribers=N} at each change).  A server whose log
never matches has no count: the leak test then skips that one assertion.
"""


def rtprotoCommand(port: int) -> "list[str]":
    """
    The command line of rtproto serving the SSE test application on
    L{PATH} at 127.0.0.1:C{port}: publish token L{TOKEN}, a keep-alive
    comment after L{KEEPALIVE} idle seconds, C{retry: }L{RETRY_MS}, the last
    L{HISTORY} events kept for replay, CORS for L{ALLOWED_ORIGIN}.
    """
    return [
        sys.executable, "-m", "twisted", "--log-format=text", "rtproto",
        "--listen", f"tcp:{port}:interface={HOST}",
        "--sse", f"{PATH}={APP}",
        "--sse-publish-token", TOKEN,
        "--sse-keepalive", str(KEEPALIVE),
        "--sse-retry", str(RETRY_MS),
        "--sse-history", str(HISTORY),
        "--sse-cors-origins", ALLOWED_ORIGIN,
    ]


def nodePath() -> str:
    """
    The C{node} executable (see L{eio_support.nodePath}); fails the test if
    the C{eventsource} package is not installed.
    """
    node = _nodePath()
    if not (HERE / "node_modules" / "eventsource").is_dir():
        pytest.fail("eventsource is not installed: run npm ci --prefix tests/interop")
    return node


class SSEServer(EngineIOServer):
    """
    An SSE server serving the test application, in a child process
    listening on 127.0.0.1: C{"reference"} (C{sse_server.js}) or
    C{"rtproto"} (L{rtprotoCommand}).
    """

    def command(self, port: int) -> "list[str]":
        """
        The command line serving on C{port}.
        """
        if self.kind == "rtproto":
            return rtprotoCommand(port) + self.extra
        return [
            nodePath(), str(HERE / "sse_server.js"), "--port", str(port),
            "--publish-token", TOKEN,
            "--keepalive", str(KEEPALIVE),
            "--retry", str(RETRY_MS),
            "--history", str(HISTORY),
            "--cors-origins", ALLOWED_ORIGIN,
        ] + self.extra

    def logText(self) -> str:
        """
        The server's whole output so far.
        """
        if self._log is None:
            return ""
        return Path(self._log.name).read_text("utf-8", "replace")

    def subscriberCounts(self, since: int = 0) -> "list[int]":
        """
        Every subscriber count the log reported after its first C{since}
        characters (see L{SUBSCRIBER_COUNT}).
        """
        return [int(m.group(1)) for m in SUBSCRIBER_COUNT.finditer(self.logText()[since:])]

    def stats(self, subscribers: "int | None" = None, timeout: float = 30.0) -> dict:
        """
        rtproto's C{GET /events/stats} (with the publish token); with
        C{subscribers}, the server answers once it has exactly that many
        (or after C{timeout} seconds) — it waits on the event, we do not
        poll.
        """
        query = "" if subscribers is None else f"?subscribers={subscribers}&timeout={timeout:g}"
        status, _, body = request(
            self, "GET", PATH + "/stats" + query, {"Authorization": f"Bearer {TOKEN}"}, timeout=timeout + 10
        )
        assert status == 200, f"stats answered {status}: {body!r}"
        return json.loads(body)

    def waitForSubscriberCount(self, value: int, timeout: float = 30.0) -> None:
        """
        Wait until the last count in the log is C{value}, blocking on the
        server process between looks (as C{waitForListening} does), at most
        C{timeout} seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            counts = self.subscriberCounts()
            if counts and counts[-1] == value:
                return
            try:
                self.process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
            self.checkAlive()
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the subscriber count is {counts[-1] if counts else None}, not {value}, after {timeout}s:\n{self.log()}"
                )


@pytest.fixture(scope="module")
def sseServers():
    """
    A factory: C{sseServers(kind)} returns a started L{SSEServer} of that
    kind, shared by the tests of the module (restarted if it died) and
    stopped after them.
    """
    started: "dict[str, SSEServer]" = {}

    def get(kind: str) -> SSEServer:
        """
        Start the server, or return the one already started.
        """
        server = started.get(kind)
        if server is not None and server.process.poll() is not None:
            server.stop()
            server = None
        if server is None:
            server = started[kind] = SSEServer(kind)
            server.start()
        return server

    yield get
    for server in started.values():
        server.stop()


def _options(options: dict, attached: bool = False) -> "list[str]":
    """
    Keyword options as peer command-line options (C{lastEventId=...} ->
    C{--last-event-id ...}; lists joined with commas; None left out).
    With C{attached}, each value is joined to its flag (C{--flag=value}), as
    argparse needs for a value that starts with C{-} (an event id whose
    random epoch does, one time in 64).
    """
    argv = []
    for key, value in options.items():
        if value is None:
            continue
        flag = "--" + re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), key)
        if isinstance(value, (list, tuple)):
            if key == "header":
                for item in value:
                    argv += [f"{flag}={item}"] if attached else [flag, item]
                continue
            value = ",".join(value)
        argv += [f"{flag}={value}"] if attached else [flag, str(value)]
    return argv


def runNodeClient(scenario: str, server: SSEServer, timeout: float = 15.0, **options) -> dict:
    """
    Run a scenario of C{sse_client.js} (the npm C{eventsource} package);
    see L{eio_support.runPeer}.  C{options}: C{channel} (a list), C{cases}
    (a file), C{closeAfter}, C{count}, C{subscribers}, C{size},
    C{interval}, C{lastEventId}, C{reconnects}.
    """
    argv = [nodePath(), str(HERE / "sse_client.js"), scenario, server.url, "--timeout", str(timeout)]
    return runPeer(argv + _options(options), server)


def runPythonClient(scenario: str, server: SSEServer, timeout: float = 15.0, **options) -> dict:
    """
    Run a scenario of C{sse_pyclient.py} (aiohttp); see
    L{eio_support.runPeer}.  C{options}: as L{runNodeClient}'s, and
    C{via} (C{"header"} or C{"query"}), C{header} (a list of
    C{"Name: value"}), C{concurrency}.
    """
    argv = [sys.executable, str(HERE / "sse_pyclient.py"), scenario, server.url, "--timeout", str(timeout)]
    return runPeer(argv + _options(options, attached=True), server)


def runClient(client: str, scenario: str, server: SSEServer, **options) -> dict:
    """
    L{runNodeClient} or L{runPythonClient}, by C{client} (C{"node"},
    C{"python"}).
    """
    return (runNodeClient if client == "node" else runPythonClient)(scenario, server, **options)


def uniqueChannel(prefix: str) -> str:
    """
    A channel name no other test uses.
    """
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def request(server: SSEServer, method: str, path: str, headers=None, body=None, timeout: float = HTTP_TIMEOUT):
    """
    One plain HTTP request to the server (a new connection, bounded):
    C{(status, {lower-case header name: value}, body bytes)}.
    """
    connection = http.client.HTTPConnection(HOST, server.port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def publish(server: SSEServer, channel: str, data: str, **extra) -> str:
    """
    Publish one event (C{extra}: C{event}, C{id}); its id.
    """
    status, _, body = request(
        server, "POST", PATH + "/publish",
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        {"channel": channel, "data": data, **extra},
    )
    assert status == 200, f"publish answered {status}: {body!r}\n{server.log()}"
    return json.loads(body)["id"]


def received(data: str) -> str:
    """
    What a WHATWG client receives for a published payload: the server
    splits it on CRLF, CR and LF only, the client joins the lines with LF.
    """
    return re.sub(r"\r\n|\r", "\n", data)


def _bigPayload() -> str:
    """
    About 100 KiB in 2,000 lines of varied length, ended by LF, CRLF or CR
    in turns, with non-ASCII text.
    """
    ends = ["\n", "\r\n", "\r"]
    return "".join(f"{i:04d} {'ünïcödé ✓ ' * (i % 7)}{'x' * (i % 23)}{ends[i % 3]}" for i in range(2000)) + "end"


EVENT_CASES = [
    {"data": "hello"},
    {"event": "greeting", "data": "typed"},
    {"event": "message", "data": "explicitly a message"},
    {"data": "line1\nline2\nline3"},
    {"data": "cr1\rcr2\rcr3"},
    {"data": "crlf1\r\ncrlf2\r\ncrlf3"},
    {"data": "mixed\n\r\n\r\rend"},
    {"data": ""},
    {"data": "trailing lf\n"},
    {"data": "trailing cr\r"},
    {"data": "trailing crlf\r\n"},
    {"data": "\n"},
    {"data": "\r\n\r\n"},
    {"data": "\n\nleading empty lines"},
    {"data": "héllo wörld — ✓ 日本語 🎉 Ω"},
    {"event": "ünïcode-type", "data": "typed, multi\nline\r\nwith ✓"},
    {"data": "not line ends: U+2028\u2028U+2029\u2029NEL\u0085VT\x0bFF\x0cFS\x1cend"},
    {"data": " one leading space\n  two leading spaces\n\tand a tab"},
    {"data": "data: not a field\nid: 99\nevent: nope\nretry: 1\n: not a comment\n:"},
    {"data": "nul\u0000inside"},
    {"event": "with space", "data": "   "},
    {"data": _bigPayload()},
    {"data": "last"},
]
"""
Published in this order by the C{events} scenarios; each arrives as
C{(event or "message", received(data))}.
"""


class SlowSubscriber:
    """
    A subscriber that does not read: a raw socket with a tiny receive
    buffer that subscribes to C{channel}, reads the response up to the
    C{retry} block (so it is surely subscribed), then reads nothing more
    until L{drain}.
    """

    def __init__(self, server: SSEServer, channel: str, receiveBuffer: int = 4096, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receiveBuffer)
        self.sock.settimeout(timeout)
        self.sock.connect((HOST, server.port))
        self.sock.sendall(
            f"GET {PATH}?channel={channel} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        head = b""
        deadline = time.monotonic() + timeout
        while not re.search(rb"\r\n\r\n.*retry:[^\n]*\n\n", head, re.S):
            chunk = self.sock.recv(1024)
            if not chunk or time.monotonic() > deadline:
                raise AssertionError(f"the slow subscriber got no retry block: {head!r}\n{server.log()}")
            head += chunk
        self.head = head

    def drain(self, limit: int, seconds: float = 30.0) -> "tuple[str, int]":
        """
        Read everything now: how the reading ended (C{"eof"}, C{"reset"},
        C{"stalled"}: nothing for 5 s, C{"deadline"}: still reading after
        C{seconds}, C{"everything"}: more than C{limit} bytes, not dropped)
        and the bytes read.
        """
        self.sock.settimeout(5.0)
        deadline = time.monotonic() + seconds
        total = 0
        while True:
            if time.monotonic() > deadline:
                return "deadline", total
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                return "reset", total
            except socket.timeout:
                return "stalled", total
            if not chunk:
                return "eof", total
            total += len(chunk)
            if total > limit:
                return "everything", total

    def close(self) -> None:
        """
        Close the socket.
        """
        self.sock.close()
