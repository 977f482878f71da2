"""
The Twisted glue of rtproto: the only code that imports C{twisted.internet}
and C{twisted.web}.  Public names: L{WebSocketResource}, L{connect},
L{buildSite}, L{WebSocketProtocol}.
"""

from rtproto.tx._protocol import WebSocketProtocol
from rtproto.tx.client import connect
from rtproto.tx.resource import HandshakeRequest, WebSocketResource
from rtproto.tx.site import buildSite

__all__ = ["WebSocketProtocol", "connect", "WebSocketResource", "HandshakeRequest", "buildSite"]
