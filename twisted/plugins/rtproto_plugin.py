"""
The C{twistd rtproto} service maker (no C{__init__.py} in this folder: it is
a part of Twisted's C{twisted.plugins} namespace).
"""

from twisted.application.service import ServiceMaker

rtproto = ServiceMaker(
    "rtproto",
    "rtproto.tap",
    "A real-time web service: WebSocket, socket.io and Server-Sent Events on one HTTP port.",
    "rtproto",
)
