"""
A graceful stop of the real service, seen by real clients: C{twistd
rtproto} (the default app) gets SIGTERM while a C{websockets} client, an
event-stream reader, python-socketio clients and socket.io-client v4
clients (WebSocket only, polling only, and the upgrade) are connected
(C{stop_pyclients.py}, C{stop_sioclients.js}).  Each must see its end the
way it should: the WebSocket closed with 1001, the event stream ended
cleanly (so the browser reconnects), each socket.io client disconnected by
a transport close (not a server-side DISCONNECT, which stops reconnection)
and trying to reconnect; and the process must exit 0 within
C{--shutdown-timeout}.  And a polling client caught between two GETs, with
messages waiting for it, gets them with its next GET.
"""

import http.client
import json
import selectors
import signal
import subprocess
import sys
import time

import pytest

from .eio_support import HERE, HOST, EngineIOServer, _ourEnv, nodePath

EIO = "/engine.io/?EIO=4&transport=polling"

pytestmark = pytest.mark.interop

SHUTDOWN_TIMEOUT = 5.0
"""The service's --shutdown-timeout in this test."""

WAIT = 30.0
"""Seconds any single wait for a peer may take."""


class StoppingApp(EngineIOServer):
    """
    C{twistd rtproto} with the default app and a short shutdown bound.
    """

    def __init__(self) -> None:
        super().__init__("rtproto")

    def command(self, port: int) -> "list[str]":
        return [
            sys.executable, "-m", "twisted", "--log-format=text", "rtproto",
            "--listen", f"tcp:{port}:interface={HOST}",
            "--shutdown-timeout", str(SHUTDOWN_TIMEOUT),
        ]


class LinePeer:
    """
    A client program printing JSON lines, read with a deadline (no thread,
    no sleep: a selector on its stdout).
    """

    def __init__(self, argv: "list[str]") -> None:
        self.argv = argv
        self.process = subprocess.Popen(
            argv,
            cwd=str(HERE),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_ourEnv(),
        )
        self.events: "list[dict]" = []
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.process.stdout, selectors.EVENT_READ)

    def until(self, event: str, seconds: float = WAIT) -> "list[dict]":
        """
        Read lines until one has C{"event": event}; fail on an C{error}
        event, an early exit or the deadline.
        """
        deadline = time.monotonic() + seconds
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                if not line.strip():
                    continue
                fields = json.loads(line)
                self.events.append(fields)
                if fields.get("event") == "error":
                    raise AssertionError(f"{self.argv[1]} failed: {fields}\n{self.describe()}")
                if fields.get("event") == event:
                    return self.events
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {event!r} from {self.argv[1]} within {seconds}s\n{self.describe()}")
            if self._selector.select(left):
                chunk = self.process.stdout.read1(65536)
                if not chunk:
                    raise AssertionError(f"{self.argv[1]} exited before {event!r}\n{self.describe()}")
                self._buffer += chunk

    def describe(self) -> str:
        """
        Its events so far (and its stderr once it has exited).
        """
        stderr = ""
        if self.process.poll() is not None:
            stderr = self.process.stderr.read().decode("utf-8", "replace")[-5000:]
        return f"events: {self.events!r}\nstderr: {stderr}"

    def stop(self) -> None:
        """
        Close its stdin (its signal to stop), then end it by its own PID if
        it lingers.
        """
        self._selector.close()
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream and not stream.closed:
                stream.close()


def byClient(events: "list[dict]") -> "dict[str, list[dict]]":
    """
    The events of each client, in order.
    """
    clients: "dict[str, list[dict]]" = {}
    for fields in events:
        if "client" in fields:
            clients.setdefault(fields["client"], []).append(fields)
    return clients


def waitForExit(server, stopped: float) -> float:
    """
    Wait (bounded) for the service to exit after the SIGTERM sent at
    C{stopped}; check it ended as a stopped twistd does; return how long
    the stop took.
    """
    try:
        code = server.process.wait(timeout=SHUTDOWN_TIMEOUT + 10)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the service did not exit after SIGTERM:\n{server.log()}") from None
    # twistd (and twist) end by the signal they got once stopped: -15
    assert code in (0, -signal.SIGTERM), server.log()
    return time.monotonic() - stopped


def test_sigtermClosesEveryTransportAndExits():
    server = StoppingApp().start()
    peers = []
    try:
        python = LinePeer(
            [sys.executable, str(HERE / "stop_pyclients.py"), server.url,
             "--sio", "default", "--sio", "websocket", "--sio", "polling", "--timeout", str(WAIT)]
        )
        peers.append(python)
        node = LinePeer([nodePath(), str(HERE / "stop_sioclients.js"), server.url, "--timeout", str(WAIT)])
        peers.append(node)
        python.until("ready")
        node.until("ready")
        server.checkAlive()

        stopped = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        took = waitForExit(server, stopped)
        assert took < SHUTDOWN_TIMEOUT + 5, f"the stop took {took:.1f}s\n{server.log()}"

        pyClients = byClient(python.until("done"))
        nodeClients = byClient(node.until("done"))
    finally:
        for peer in peers:
            peer.stop()
        server.stop()

    [closed] = [e for e in pyClients["websocket"] if e["event"] == "closed"]
    assert closed["code"] == 1001, closed
    assert closed["rcvd"] == [1001, "server shutting down"], closed

    [ended] = [e for e in pyClients["sse"] if e["event"] == "ended"]
    assert ended["clean"] is True, ended

    assert set(pyClients) == {"websocket", "sse", "socketio-0", "socketio-1", "socketio-2"}, pyClients
    assert set(nodeClients) == {"websocket", "polling"}, nodeClients
    sioClients = [pyClients[f"socketio-{i}"] for i in range(3)] + list(nodeClients.values())
    for events in sioClients:
        kinds = [e["event"] for e in events]
        assert kinds.count("disconnect") == 1, events
        [disconnect] = [e for e in events if e["event"] == "disconnect"]
        # a lost transport (the WebSocket closed, or the next poll failed):
        # the client reconnects, as it would not after a server DISCONNECT
        assert disconnect["reason"] in ("transport close", "transport error"), events
        assert "reconnect_attempt" in kinds[kinds.index("disconnect"):], events


def test_pollingClientBetweenTwoGetsGetsWhatWasSent():
    """
    A polling client with messages waiting for it and no GET held when the
    stop begins (it is between two GETs) gets them with its next GET, over
    the keep-alive connection it already has; the stop waits for that GET,
    not for C{--shutdown-timeout}.  The client is C{http.client}, speaking
    engine.io v4 polling by hand, so that the moment is ours to choose.
    """
    server = EngineIOServer("rtproto", extra=["--shutdown-timeout", str(SHUTDOWN_TIMEOUT)]).start()
    eio = http.client.HTTPConnection(HOST, server.port, timeout=WAIT)
    health = http.client.HTTPConnection(HOST, server.port, timeout=WAIT)
    try:
        eio.request("GET", EIO)
        handshake = eio.getresponse()
        sid = json.loads(handshake.read()[1:])["sid"]
        poll = f"{EIO}&sid={sid}"
        # The command application answers burst:3 with m0, m1, m2, which
        # wait for a GET: none is held.
        eio.request("POST", poll, body=b"4burst:3", headers={"Content-Type": "text/plain;charset=UTF-8"})
        posted = eio.getresponse()
        assert (posted.status, posted.read()) == (200, b"ok")
        health.request("GET", "/healthz")
        assert health.getresponse().read()

        stopped = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        # The stop has begun once /healthz says so (each request waits for
        # its answer; the listener is closed, the connection is not).
        for _ in range(1000):
            health.request("GET", "/healthz")
            answer = health.getresponse()
            answer.read()
            if answer.status == 503 or time.monotonic() - stopped > WAIT:
                break
        assert answer.status == 503, server.log()

        eio.request("GET", poll)
        last = eio.getresponse()
        assert (last.status, last.read()) == (200, b"4m0\x1e4m1\x1e4m2"), server.log()
        took = waitForExit(server, stopped)
        assert took < SHUTDOWN_TIMEOUT, f"the stop waited {took:.1f}s, for its timeout\n{server.log()}"
    finally:
        eio.close()
        health.close()
        server.stop()
