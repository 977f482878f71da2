"""
Shared machinery of the socket.io interop tests: socket.io servers in child
processes -- the reference Node C{socket.io} v4 server (C{sio_server.js}) or
rtproto (L{rtprotoCommand}) -- both running the socket.io test application,
and the client peers that print their observations as one JSON line:
C{sio_client.js} (socket.io-client v4, or 2.x with C{--client v2}) and
C{sio_pyclient.py} (python-socketio's C{AsyncClient}).

The test application is specified in the header comment of
C{sio_server.js}, which is also its reference implementation; rtproto's
version is C{tests/interop/sio_app.py} (C{setup}), written from that
specification.  In short: namespaces C{/}, C{/other}, C{/auth} (a
middleware wanting C{handshake.auth.token == "secret"}, else the error
C{"not authorized"} with data C{{"code": 401}}) and C{/^\\/dyn-\\w+$/}, all
with the handlers C{echo}, C{ack}, C{request-ack}, C{join}, C{leave},
C{rooms}, C{to-room}, C{to-room-all}, C{broadcast-except},
C{broadcast-ack}, C{whoami}, C{disconnect-me}, C{drop-transport} and
C{reasons}; other namespaces refused with C{"Invalid namespace"}.
Connection state recovery is on (maxDisconnectionDuration 120 s), so every
event the server sends without an ack id ends with an extra string
argument, its offset; the peers take it off (and count it).

This module reuses L{tests.interop.eio_support}: its server process
handling (L{SocketIOServer} only changes the command line), its peer runner
and its bounds.  Needs C{node} and C{npm ci --prefix tests/interop} for the
Node peers and the reference server; without C{node} those tests skip.
"""

import json
import sys

import pytest

from .eio_support import HERE, HOST, TRANSPORTS, EngineIOServer, kind, runPeer, shorten
from .eio_support import nodePath as _nodePath

__all__ = ["TRANSPORTS", "kind", "shorten", "sioServers"]

APP = "tests.interop.sio_app.setup"

CONFIGS = {
    # the defaults (pingInterval 25 s, pingTimeout 20 s, 1e6 bytes)
    "default": {},
    # 1 MiB payloads, base64 on polling included, fit
    "big": {"maxHttpBufferSize": 4_000_000},
}


def rtprotoCommand(port: int, pingInterval=None, pingTimeout=None, maxHttpBufferSize=None) -> "list[str]":
    """
    The command line of rtproto serving the socket.io test application
    (L{APP}, a callable configuring rtproto's socket.io server) on
    C{/socket.io/} at 127.0.0.1:C{port}, with connection state recovery
    (sessions kept 120 s, as the reference server's).
    """
    argv = [
        sys.executable, "-m", "twisted", "--log-format=text", "rtproto",
        "--listen", f"tcp:{port}:interface={HOST}",
        "--socketio-path", "/socket.io/",
        "--socketio-app", APP,
        "--sio-recovery", "--sio-recovery-duration", "120",
    ]
    for option, value in [
        ("--eio-ping-interval", pingInterval),
        ("--eio-ping-timeout", pingTimeout),
        ("--max-http-buffer-size", maxHttpBufferSize),
    ]:
        if value is not None:
            argv += [option, _number(value)]
    return argv


def _number(value) -> str:
    """
    A setting as a command-line value (C{0.2}, not C{0.200000}).
    """
    return f"{value:g}" if isinstance(value, float) else str(value)


def nodePath() -> str:
    """
    The C{node} executable (see L{eio_support.nodePath}); fails the test if
    the socket.io packages are not installed.
    """
    node = _nodePath()
    for package in ("socket.io", "socket.io-client", "sio-client-v2"):
        if not (HERE / "node_modules" / package).is_dir():
            pytest.fail(f"{package} is not installed: run npm ci --prefix tests/interop")
    return node


class SocketIOServer(EngineIOServer):
    """
    A socket.io server running the test application, in a child process
    listening on 127.0.0.1, path C{/socket.io/}: C{"reference"}
    (C{sio_server.js}) or C{"rtproto"} (L{rtprotoCommand}).
    """

    def command(self, port: int) -> "list[str]":
        """
        The command line serving on C{port}.
        """
        s = self.settings
        if self.kind == "rtproto":
            return rtprotoCommand(port, s["pingInterval"], s["pingTimeout"], s["maxHttpBufferSize"]) + self.extra
        argv = [nodePath(), str(HERE / "sio_server.js"), "--port", str(port)]
        for key, option in [
            ("pingInterval", "--ping-interval"),
            ("pingTimeout", "--ping-timeout"),
            ("maxHttpBufferSize", "--max-http-buffer-size"),
        ]:
            if s[key] is not None:
                argv += [option, _number(s[key])]
        return argv + self.extra


@pytest.fixture(scope="module")
def sioServers():
    """
    A factory: C{sioServers(kind, config)} returns a started
    L{SocketIOServer} of that kind with the settings of L{CONFIGS}[config],
    shared by the tests of the module (restarted if it died) and stopped
    after them.
    """
    started: dict[tuple, SocketIOServer] = {}

    def get(kind: str, config: str = "default") -> SocketIOServer:
        """
        Start the server, or return the one already started.
        """
        key = (kind, config)
        server = started.get(key)
        if server is not None and server.process.poll() is not None:
            server.stop()
            server = None
        if server is None:
            server = started[key] = SocketIOServer(kind, **CONFIGS[config])
            server.start()
        return server

    yield get
    for server in started.values():
        server.stop()


def runNodeClient(scenario: str, server: SocketIOServer, client: str = "v4", transports=None, timeout: float = 15.0) -> dict:
    """
    Run a scenario of C{sio_client.js} with socket.io-client C{client}
    (C{"v4"} or C{"v2"}); see L{eio_support.runPeer}.
    """
    argv = [nodePath(), str(HERE / "sio_client.js"), scenario, server.url, "--client", client, "--timeout", str(timeout)]
    if transports is not None:
        argv += ["--transports", ",".join(transports)]
    return runPeer(argv, server)


def runPythonClient(scenario: str, server: SocketIOServer, transports=None, timeout: float = 15.0) -> dict:
    """
    Run a scenario of C{sio_pyclient.py} (python-socketio's
    C{AsyncClient}); see L{eio_support.runPeer}.
    """
    argv = [sys.executable, str(HERE / "sio_pyclient.py"), scenario, server.url, "--timeout", str(timeout)]
    if transports is not None:
        argv += ["--transports", ",".join(transports)]
    return runPeer(argv, server)


def canon(value):
    """
    The JSON-able form of a value the peers compare: C{bytes} as
    C{{"$binary": hex}}, object keys sorted (as C{sio_peer.js}'s C{canon}).
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$binary": bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        return [canon(v) for v in value]
    if isinstance(value, dict):
        return {k: canon(value[k]) for k in sorted(value)}
    return value


def canonText(value) -> str:
    """
    L{canon} as compact JSON text, as C{JSON.stringify} writes it.
    """
    return json.dumps(canon(value), separators=(",", ":"), ensure_ascii=False)


def event(name: str, *args, ackRequested: bool = False) -> str:
    """
    How the peers summarise a received event (its offset taken off).
    """
    return ("ack-requested " if ackRequested else "") + name + " " + canonText(list(args))


def roomEvents() -> "list[list[str]]":
    """
    What clients a, b and c of the rooms scenarios receive, in order (a and
    b in the room, c in it and in "ex" until it leaves the room).
    """
    hello = event("hello", "from a", {"bin": b"\x01\x02"})
    common = [event("marker", 1), event("all", "from b")]
    vote = event("vote", "q?", ackRequested=True)
    a = common + [event("news", "n1"), event("marker", 2), vote, event("after-leave", "x"), event("marker", 4)]
    return [a, [hello] + a, [hello] + common + [event("marker", 2), vote, event("marker", 3)]]


def problems(results) -> "list[str]":
    """
    The C{"name: problem"} of the comparisons that failed, from a list of
    C{{"name", "problem"}}.
    """
    return [f"{r['name']}: {r['problem']}" for r in results if r["problem"]]


def disconnections(facts, sids) -> "list[tuple]":
    """
    The server's disconnections (the C{reasons} handler's answer, as a
    scenario reported it) of C{sids}, as C{(sid, nsp, reason, rooms)}.
    """
    return [(r["sid"], r["nsp"], r["reason"], r["rooms"]) for r in facts if r["sid"] in sids]
