"""
L{EngineIOServer}: the session table of one engine.io mount, and the
checks every request goes through before it reaches a session.
"""

import json
import secrets

from rtproto.errors import EngineIOError
from rtproto.engineio._options import POLLING, WEBSOCKET, EngineIOOptions
from rtproto.engineio._packets import OPEN
from rtproto.engineio._session import Session


def _newId() -> str:
    # 120 random bits, URL-safe: 20 characters.
    return secrets.token_urlsafe(15)


class EngineIOServer:
    """
    The sessions of one engine.io mount.

    @ivar sessions: open sessions by id.
    """

    def __init__(self, options: "EngineIOOptions | None" = None, newId=_newId) -> None:
        """
        @param newId: makes session ids; from L{secrets} by default.
        """
        self.options = options or EngineIOOptions()
        self.sessions: "dict[str, Session]" = {}
        self._newId = newId
        self._openTemplates: "dict[tuple, str]" = {}

    def checkRequest(self, method: str, query, isUpgrade: bool):
        """
        Check a request against the protocol before serving it.

        @param method: the HTTP method.
        @param query: a mapping of query parameter names to single L{str}
            values (C{EIO}, C{transport}, C{sid}).
        @param isUpgrade: whether it asks for a WebSocket upgrade.
        @return: C{(protocol, transport, session)}; C{session} is L{None}
            for a handshake.
        @raise EngineIOError: the error to answer with.
        """
        eio = query.get("EIO")
        if eio == "4":
            protocol = 4
        elif eio == "3" and self.options.allowEIO3:
            protocol = 3
        else:
            raise EngineIOError(
                EngineIOError.UNSUPPORTED_PROTOCOL_VERSION, f"unsupported EIO={eio!r}"
            )
        transport = query.get("transport")
        if transport not in self.options.transports:
            raise EngineIOError(EngineIOError.UNKNOWN_TRANSPORT, f"transport={transport!r}")
        sid = query.get("sid")
        if sid is None:
            if method != "GET":
                raise EngineIOError(EngineIOError.BAD_HANDSHAKE_METHOD, f"handshake with {method}")
            if transport == WEBSOCKET and not isUpgrade:
                raise EngineIOError(EngineIOError.BAD_REQUEST, "websocket handshake without an upgrade")
            return protocol, transport, None
        session = self.sessions.get(sid)
        if session is None:
            raise EngineIOError(EngineIOError.UNKNOWN_SID, "unknown sid")
        if session.protocol != protocol:
            raise EngineIOError(EngineIOError.BAD_REQUEST, "EIO differs from the session's")
        if transport == WEBSOCKET:
            if not isUpgrade:
                raise EngineIOError(EngineIOError.BAD_REQUEST, "websocket request without an upgrade")
            if not self.options.allowUpgrades:
                raise EngineIOError(EngineIOError.BAD_REQUEST, "upgrades are not allowed")
            # A WebSocket for a session that cannot upgrade now (upgraded, or
            # probing) is accepted and closed at once, as the Node server does.
        elif session.transport != POLLING:
            raise EngineIOError(EngineIOError.BAD_REQUEST, "polling on an upgraded session")
        elif method not in ("GET", "POST"):
            raise EngineIOError(EngineIOError.BAD_REQUEST, f"polling with {method}")
        return protocol, transport, session

    def openSession(self, protocol: int, transport: str, listener, now: float, binaryPolling: bool = False) -> Session:
        """
        Create a session, with its open packet buffered.
        """
        sid = self._newId()
        while sid in self.sessions:
            sid = self._newId()
        session = Session(
            sid,
            protocol,
            transport,
            self.options,
            listener,
            now,
            binaryPolling=binaryPolling,
            release=lambda: self.sessions.pop(sid, None),
        )
        self.sessions[sid] = session
        session.sendPacket(OPEN, self.openPacket(sid, protocol, transport))
        return session

    def openPacket(self, sid: str, protocol: int, transport: str) -> str:
        """
        The JSON of the open packet.  Only the session id differs from one
        session to the next (the options are frozen), so the rest is
        encoded once per protocol revision and transport.
        """
        key = (protocol, transport)
        rest = self._openTemplates.get(key)
        if rest is None:
            options = self.options
            upgrades = (
                [WEBSOCKET]
                if transport == POLLING and options.allowUpgrades and WEBSOCKET in options.transports
                else []
            )
            body = {
                "upgrades": upgrades,
                "pingInterval": round(options.pingInterval * 1000),
                "pingTimeout": round(options.pingTimeout * 1000),
            }
            if protocol == 4:
                body["maxPayload"] = options.maxHttpBufferSize
            rest = self._openTemplates[key] = json.dumps(body, separators=(",", ":"))[1:]
        return '{"sid":' + json.dumps(sid) + "," + rest
