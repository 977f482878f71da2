"""
rtproto: a Twisted real-time web service: WebSocket, engine.io/socket.io and
Server-Sent Events on one HTTP port, run with C{twistd -n rtproto}.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
