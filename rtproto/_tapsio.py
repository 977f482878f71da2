"""
The socket.io part of the C{twistd rtproto} options (L{SocketIOOptionsMixin},
mixed into L{rtproto.tap.Options}) and the socket.io server they make
(L{buildSocketIO}).
"""

import re

from twisted.python import usage
from twisted.python.reflect import namedAny

from rtproto.errors import UsageError
from rtproto.handlers import findHandler
from rtproto.socketio import SocketIOOptions
from rtproto.tx.socketio import SocketIOServer

DEFAULT_NAMESPACES = [("/chat", "chat")]


class SocketIOOptionsMixin:
    """
    C{--namespace}, C{--socketio-app} and the C{--sio-*} options.
    """

    optFlags = [
        ["sio-recovery", None, "socket.io: connection state recovery (broadcasts carry an offset argument)."],
    ]

    optParameters = [
        ["socketio-path", None, "/socket.io/", "socket.io: where it is mounted."],
        ["socketio-app", None, "", "socket.io: a dotted path to a callable configuring the server in code."],
        ["sio-connect-timeout", None, 45.0, "socket.io: seconds a client has to connect to a namespace."],
        ["sio-ack-timeout", None, 30.0, "socket.io: default seconds to wait for an acknowledgement."],
        ["sio-recovery-duration", None, 120.0, "socket.io: seconds a disconnected socket's state is kept."],
        [
            "sio-client-dist",
            None,
            "",
            "socket.io: serve the browser client from this folder (node_modules/socket.io-client/dist).",
        ],
    ]

    def __init__(self) -> None:
        self["namespace"] = []

    def opt_namespace(self, mount: str) -> None:
        """
        Serve a socket.io namespace: NSP=HANDLER, e.g. /chat=chat, or
        re:REGEX=HANDLER for every namespace the regular expression matches
        (repeatable; mounted at --socketio-path).
        """
        nsp, sep, name = mount.rpartition("=")
        if not sep or not nsp or not name or not (nsp.startswith("/") or nsp.startswith("re:")):
            raise usage.UsageError(f"--namespace takes NSP=HANDLER (NSP /name or re:REGEX), not {mount!r}")
        if nsp.startswith("re:"):
            try:
                re.compile(nsp[3:])
            except re.error as e:
                raise usage.UsageError(f"--namespace {nsp!r}: not a regular expression ({e})") from None
        self["namespace"].append((nsp, name))

    def resolveSocketIO(self, defaultApp: bool) -> None:
        """
        Resolve the namespace handlers and the app callable (the built-in
        C{chat} namespace when nothing is given and C{defaultApp}).

        @raise UsageError: an unknown handler or app.
        """
        namespaces = self["namespace"]
        if not namespaces and defaultApp and not self["socketio-app"]:
            namespaces = DEFAULT_NAMESPACES
        self["namespaceHandlers"] = [(nsp, findHandler(name, "socketio")) for nsp, name in namespaces]
        self["socketioSetup"] = _setupCallable(self["socketio-app"]) if self["socketio-app"] else None

    def socketioOptions(self) -> SocketIOOptions:
        """
        The L{SocketIOOptions} of the parsed options.
        """
        seconds = {}
        for name in ("sio-connect-timeout", "sio-ack-timeout", "sio-recovery-duration"):
            try:
                seconds[name] = float(self[name])
            except (TypeError, ValueError):
                seconds[name] = 0.0
            if not seconds[name] > 0:
                raise usage.UsageError(f"--{name} takes a number of seconds above 0, not {self[name]!r}")
        return SocketIOOptions(
            connectTimeout=seconds["sio-connect-timeout"],
            ackTimeout=seconds["sio-ack-timeout"],
            recovery=bool(self["sio-recovery"]),
            maxDisconnectionDuration=seconds["sio-recovery-duration"],
            clientDist=self["sio-client-dist"] or None,
        )


def _setupCallable(name: str):
    """
    Import the C{--socketio-app} callable.
    """
    try:
        setup = namedAny(name)
    except Exception as e:
        raise UsageError(f"cannot import socket.io app {name!r}: {e.__class__.__name__}: {e}") from None
    if not callable(setup):
        raise UsageError(f"socket.io app {name!r} is not callable")
    return setup


def buildSocketIO(options, reactor) -> "SocketIOServer | None":
    """
    The socket.io server of the C{--namespace} and C{--socketio-app}
    options, or L{None} when there is none.
    """
    handlers = options.get("namespaceHandlers") or []
    setup = options.get("socketioSetup")
    if not handlers and setup is None:
        return None
    server = SocketIOServer(options.get("socketioOptions"), options.get("engineioOptions"), reactor)
    for nsp, factory in handlers:
        if nsp.startswith("re:"):
            try:
                server.addDynamicNamespace(nsp[3:], factory)
            except re.error as e:
                raise UsageError(f"--namespace {nsp!r}: {e}") from None
        else:
            server.of(nsp, factory)
    if setup is not None:
        setup(server)
    return server
