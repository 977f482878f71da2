"""
The sans-I/O engine.io core (protocol revisions 3 and 4): packets, polling
payload codecs, the session state machine with its transports, upgrade and
heartbeat deadlines, and the server's request checks.  No Twisted here; the
glue is L{rtproto.tx.engineio}.
"""

from rtproto.engineio._handler import EngineIOHandler
from rtproto.engineio._options import POLLING, TRANSPORTS, WEBSOCKET, EngineIOOptions
from rtproto.engineio._server import EngineIOServer
from rtproto.engineio._session import Session

__all__ = [
    "EngineIOHandler",
    "EngineIOOptions",
    "EngineIOServer",
    "POLLING",
    "Session",
    "TRANSPORTS",
    "WEBSOCKET",
]
