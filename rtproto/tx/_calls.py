"""
L{callHandler}: calling an application's handler method so that its
failure, at once or through the L{Deferred} it returns, is logged and never
reaches the protocol machinery that called it.
"""

from twisted.internet.defer import Deferred
from twisted.logger import Logger

_log = Logger()


def callHandler(kind: str, handler, method, *args) -> None:
    """
    Call C{method(*args)}; an exception, or a failure of the L{Deferred} it
    returns, is logged as C{"<kind> handler <handler> failed"}.
    """
    try:
        result = method(*args)
    except Exception:
        _log.failure("{kind} handler {handler!r} failed", kind=kind, handler=handler)
        return
    if isinstance(result, Deferred):
        result.addErrback(lambda f: _log.failure("{kind} handler {handler!r} failed", f, kind=kind, handler=handler))
