"""
The Server-Sent Events core: writing events, comments and C{retry} hints in
the C{text/event-stream} format (L{encodeEvent}, L{encodeComment},
L{encodeRetry}), the epoch-carrying event ids (L{EventIds}), the bounded
history a mount keeps for C{Last-Event-ID} replay (L{History}), the options
(L{SSEOptions}) and the base class of handlers (L{SSEHandler}).  No Twisted
I/O and no clock here: the C{EventSource} resource is in L{rtproto.tx}.
"""

from rtproto.sse._encoding import encodeComment, encodeEvent, encodeRetry
from rtproto.sse._handler import SSEHandler
from rtproto.sse._history import EventIds, History
from rtproto.sse._options import SSEOptions

__all__ = [
    "EventIds",
    "History",
    "SSEHandler",
    "SSEOptions",
    "encodeComment",
    "encodeEvent",
    "encodeRetry",
]
